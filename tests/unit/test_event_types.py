"""Violent events typed by the method their sentence states; background events dropped; the
English test that lets these rules step aside on other languages."""

from __future__ import annotations

from datetime import date

import pytest

from extractor.llm.cited import CitedEventsAnswer
from extractor.pipeline.assemble import AssemblyOptions, PassOutput, assemble
from extractor.postprocess.event_types import apply_method_and_newness, is_background, method_type
from extractor.schemas import Event, Evidence, Meta, PassStat
from extractor.text.chunking import Chunk
from extractor.text.language import english_share, is_english

PUBLISHED = date(2025, 6, 20)


def _event(quote: str, type: str, targets: list[str] | None = None, **fields) -> Event:
    evidence = Evidence(quote=quote, start=0, end=len(quote))
    return Event(id="e0", type=type, targets=targets or [], evidence=evidence, grounded=True, **fields)


@pytest.mark.parametrize(
    ("quote", "given", "targets", "expected"),
    [
        # a remote weapon and no ground fighting: explosion/remote violence, whatever was given
        ("A U.S. drone strike killed three al-Shabaab fighters near Jilib.", "battle", ["al-Shabaab"], "explosion_remote_violence"),
        ("Shells landed on the central market, killing six.", "violence_against_civilians", ["civilians"], "explosion_remote_violence"),
        # typed explosion but no weapon named: civilians only -> violence against civilians
        ("Gunmen killed 18 villagers in an overnight raid on Mwenda.", "explosion_remote_violence", ["villagers"], "violence_against_civilians"),
        # ... an armed target -> battle
        ("Fighters attacked the army convoy near Tiebala, killing 20 soldiers.", "explosion_remote_violence", ["Malian army convoy"], "battle"),
        ("Fighters attacked the convoy.", "explosion_remote_violence", [], "battle"),
        # both a weapon and ground fighting: the model's type stands
        ("Troops clashed with rebels and shelled their positions.", "battle", ["rebels"], "battle"),
        ("An airstrike hit the camp.", "explosion_remote_violence", ["civilians"], "explosion_remote_violence"),
        # aircraft named as the means: remote violence ("its jets had struck two camps")
        ("The air force said its jets had struck two bandit camps in the forest.", "battle", ["bandits"], "explosion_remote_violence"),
        ("Warplanes pounded rebel positions overnight.", "explosion_remote_violence", ["rebels"], "explosion_remote_violence"),
        # non-violent types are never retyped
        ("Protesters threw stones and a petrol bomb at police.", "riot", ["police"], "riot"),
    ],
)
def test_method_decides_a_violent_type(quote: str, given: str, targets: list[str], expected: str) -> None:
    assert method_type(_event(quote, given, targets)) == expected


@pytest.mark.parametrize(
    ("quote", "expected"),
    [
        ("Protesters set fire to a customs office and looted a warehouse.", "riot"),
        ("Demonstrators threw stones at the governor's office.", "riot"),
        ("Youths clashed with police outside the ministry.", "riot"),
        # what is done to a crowd does not make it a riot
        ("Police fired tear gas at hundreds of protesters who marched peacefully.", "protest"),
        ("Thousands marched through the capital to demand lower fuel prices.", "protest"),
    ],
)
def test_a_protest_whose_crowd_turns_to_destruction_is_a_riot(quote: str, expected: str) -> None:
    assert method_type(_event(quote, "protest")) == expected


def test_mixed_civilian_and_armed_targets_are_not_civilian_only() -> None:
    event = _event("Gunmen killed five people and two soldiers.", "explosion_remote_violence", ["civilians", "soldiers"])
    assert method_type(event) == "battle"


@pytest.mark.parametrize(
    ("quote", "event_date", "expected"),
    [
        ("The attack on June 15, 2015, was claimed by al-Shabaab.", None, True),
        ("The country descended into violence in 2013.", None, True),
        ("Gunmen killed 12 people on Sunday.", None, False),
        ("Gunmen killed 12 people on Sunday, the worst attack since 2015.", "2025-06-15", False),  # own date wins
        ("In December 2024 and again on Sunday, gunmen raided the village.", None, False),  # last year: not old enough
        ("Gunmen killed 12 people.", "2019-03-01", True),  # the event's own date
    ],
)
def test_background_is_two_or_more_years_back(quote: str, event_date: str | None, expected: bool) -> None:
    assert is_background(_event(quote, "battle", date=event_date), PUBLISHED) is expected


def test_without_a_publication_date_nothing_is_background() -> None:
    assert not is_background(_event("The massacre of 2013 left 80 dead.", "violence_against_civilians"), None)


def test_apply_counts_each_change_and_keeps_the_enum() -> None:
    events = [
        _event("A drone struck a wedding party, killing 9.", "violence_against_civilians", ["civilians"]),
        _event("The attack on June 15, 2015, was claimed by al-Shabaab.", "battle"),
        _event("Police arrested the commander.", "strategic_development"),
    ]
    kept, warnings = apply_method_and_newness(events, PUBLISHED)
    assert [e.type.value for e in kept] == ["explosion_remote_violence", "strategic_development"]
    assert warnings == [
        "retyped 1 event(s) by the method their sentence states",
        "dropped 1 event(s) that their sentence dates two or more years back",
    ]
    assert apply_method_and_newness([], PUBLISHED) == ([], [])


FRENCH = (
    "Au moins douze civils ont été tués dimanche dans une attaque contre un village du nord du Burkina "
    "Faso, selon des sources locales. Les assaillants, arrivés à moto, ont ouvert le feu sur les "
    "habitants avant d'incendier plusieurs maisons. L'armée a lancé une opération dans la zone."
)
ENGLISH = (
    "At least twelve civilians were killed on Sunday in an attack on a village in the north of Burkina "
    "Faso, local sources said. The attackers, who arrived on motorbikes, opened fire on the residents "
    "before they set several houses on fire. The army has launched an operation in the area."
)
RUSSIAN = (
    "Не менее двенадцати мирных жителей погибли в воскресенье в результате нападения на деревню на "
    "севере Буркина-Фасо, сообщили местные источники. Нападавшие прибыли на мотоциклах и открыли огонь "
    "по жителям, после чего подожгли несколько домов. Армия начала операцию в этом районе."
)


def test_english_is_told_from_french_and_russian_and_a_bare_headline_is_not_taken_for_english() -> None:
    assert is_english(ENGLISH) and english_share(ENGLISH) > 0.3
    assert not is_english(FRENCH)
    assert not is_english(RUSSIAN) and english_share(RUSSIAN) == 0
    assert not is_english("Gunmen kill 12 villagers near Mopti") and english_share("") == 0


def test_assembly_leaves_a_french_event_alone() -> None:
    """The English rules would retype this cited event (no English weapon word) and the
    consistency check would drop it (no English word of violence); on French text neither runs."""
    draft = {"type": "explosion_remote_violence", "perpetrators": [], "targets": ["civilians"], "fatalities": 12,
             "country": None, "admin1": None, "location": None, "date": None, "sentence": 1}  # fmt: skip
    answer = CitedEventsAnswer.model_validate({"events": [draft]})
    output = PassOutput(Chunk(0, 0, len(FRENCH), FRENCH), "events", answer.items(),
                        PassStat(name="events", chunk=0, cache_hit=False, seconds=0))  # fmt: skip
    meta = Meta(model="m", backend="b", prompt_version="v3", schema_hash="h")
    events = assemble(FRENCH, [output], meta, "2025-06-20", AssemblyOptions()).events
    assert [e.type.value for e in events] == ["explosion_remote_violence"]
    assert events[0].evidence.quote.startswith("Au moins douze civils")
    english = assemble(ENGLISH, [PassOutput(Chunk(0, 0, len(ENGLISH), ENGLISH), "events", answer.items(),
                                            PassStat(name="events", chunk=0, cache_hit=False, seconds=0))],
                       Meta(model="m", backend="b", prompt_version="v3", schema_hash="h"), "2025-06-20",
                       AssemblyOptions()).events  # fmt: skip
    assert [e.type.value for e in english] == ["violence_against_civilians"]  # civilians only, no weapon
