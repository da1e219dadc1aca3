"""Record-versus-evidence consistency rules, authority canonicalisation, and the repair of an
answer cut off at max_tokens."""

from __future__ import annotations

import json

import pytest

from extractor.postprocess.consistency import check_events, complete_measures
from extractor.llm.partial_json import close_after_last_item
from extractor.postprocess.authorities import canonical_authority
from extractor.schemas import Event, Evidence, SanctionFact


def _evidence(quote: str) -> Evidence:
    return Evidence(quote=quote, start=0, end=len(quote))


def _event(quote: str, type: str = "violence_against_civilians", **fields) -> Event:
    return Event(id="e0", type=type, evidence=_evidence(quote), grounded=True, **fields)


def test_violent_event_needs_a_word_of_violence_in_its_quote() -> None:
    kept, warnings = check_events([
        _event("The United States on Tuesday imposed sanctions on two Malian businessmen."),
        _event("Gunmen killed 12 villagers in Dioura on Sunday.", fatalities=12),
        _event("An airstrike hit the market.", type="explosion_remote_violence"),
    ])
    assert [e.evidence.quote[:6] for e in kept] == ["Gunmen", "An air"]
    assert [e.id for e in kept] == ["e1", "e2"]
    assert warnings == ["dropped 1 event(s) whose quote says nothing of their type"]


def test_protest_needs_a_crowd_and_strategic_developments_are_not_checked() -> None:
    kept, _ = check_events([
        _event("Images source: © Getty Images | 2024 Anadolu", type="protest"),
        _event("Hundreds of nurses marched through Nairobi on Tuesday.", type="protest"),
        _event("The council extended the mandate for a year.", type="strategic_development"),
    ])
    assert [e.type for e in kept] == ["protest", "strategic_development"]


def test_ungrounded_flagged_event_is_not_judged_by_a_quote_it_does_not_have() -> None:
    flagged = Event(id="e0", type="battle", grounded=False)
    assert check_events([flagged])[0] == [flagged]


def _fact(quote: str, measure: str = "terrorist_designation", target: str = "Amadou Kone") -> SanctionFact:
    return SanctionFact(id="s0", target=target, authority="United States", measure=measure, status="imposed",
                        evidence=_evidence(quote), grounded=True)


def test_measures_stated_by_the_quote_become_records() -> None:
    facts, added = complete_measures([
        _fact("Treasury designated Amadou Kone as a terrorist and froze his assets."),
        _fact("The EU imposed an asset freeze and a travel ban on Ali Musa.", measure="sanctions_listing", target="Ali Musa"),
        _fact("The State Department offered a reward for Kone; his assets are frozen.", measure="reward"),
    ])
    assert added == 3
    assert [(f.target, f.measure) for f in facts] == [
        ("Amadou Kone", "terrorist_designation"), ("Amadou Kone", "asset_freeze"),
        ("Ali Musa", "sanctions_listing"), ("Ali Musa", "asset_freeze"), ("Ali Musa", "travel_ban"),
        ("Amadou Kone", "reward"),
    ]
    assert [f.id for f in facts] == [f"s{n}" for n in range(1, 7)]
    assert facts[1].evidence == facts[0].evidence and facts[1].status == "imposed"


def test_a_measure_already_present_is_not_added_twice() -> None:
    facts, added = complete_measures([
        _fact("Treasury designated Kone and froze his assets."),
        _fact("Treasury designated Kone and froze his assets.", measure="asset_freeze"),
    ])
    assert added == 0 and len(facts) == 2


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("U.S. Treasury", "United States"),
        ("Office of Foreign Assets Control (OFAC)", "United States"),
        ("State Department", "United States"),
        ("Council of the European Union", "European Union"),
        ("EU", "European Union"),
        ("Britain's Foreign Office", "United Kingdom"),
        ("U.N. Security Council", "United Nations"),
        ("United States-led coalition", None),  # a coalition is not its leader
        ("USA and UN", None),  # two jurisdictions: keep what the article says
        ("Iraqi officials", None),
        ("UNITA", None),
    ],
)
def test_canonical_authority(written: str, canonical: str | None) -> None:
    assert canonical_authority(written) == canonical


def test_answer_cut_at_max_tokens_keeps_its_complete_items() -> None:
    full = {"actors": [{"name": "A ]}", "kind": "person", "aliases": ["x"]}, {"name": "B", "kind": "other", "aliases": []}]}
    text = json.dumps(full, separators=(",", ":"))
    cut = text[: text.index('{"name":"B"') + 12]
    assert json.loads(close_after_last_item(cut)) == {"actors": full["actors"][:1]}
    assert close_after_last_item('{"actors":[{"name":"A","ki') is None
    assert close_after_last_item('{"acto') is None


def test_a_measure_with_its_own_vocabulary_needs_the_article_to_name_it() -> None:
    from extractor.postprocess.consistency import named_measures_only

    def fact(measure: str) -> SanctionFact:
        return SanctionFact(id="s0", target="Kestrel Microsystems Ltd", authority="United Kingdom", measure=measure,
                            status="imposed", evidence=_evidence("The UK froze the assets of Kestrel."), grounded=True)  # fmt: skip

    facts = [fact("asset_freeze"), fact("terrorist_designation"), fact("reward"), fact("arms_embargo")]
    export_control = "The UK froze the assets of Kestrel Microsystems Ltd for supplying drone parts."
    kept, warnings = named_measures_only(facts, export_control)
    assert [(f.measure.value, f.id) for f in kept] == [("asset_freeze", "s1")]
    assert warnings == ["dropped 3 sanctions fact(s) whose measure the article never names"]
    named = export_control + " It was designated a Specially Designated Global Terrorist; a reward is offered; the embargo stands."
    assert len(named_measures_only([fact(m) for m in ("terrorist_designation", "reward", "arms_embargo")], named)[0]) == 3
    assert named_measures_only([fact("terrorist_designation")], "OFAC listed it as an SDGT.")[0]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Le Royaume-Uni a gelé les avoirs du chef de gang.", []),
        ("Washington offre une récompense; le groupe est classé organisation terroriste.", ["terrorist_designation", "reward"]),
        ("El Consejo prorrogó el embargo de armas y ofrece una recompensa.", ["reward", "arms_embargo"]),
        ("Совет ЕС продлил эмбарго; США объявили вознаграждение за террористов.", ["terrorist_designation", "reward", "arms_embargo"]),
    ],
)
def test_measures_named_in_other_languages(text: str, kept: list[str]) -> None:
    from extractor.postprocess.consistency import named_measures_only

    facts = [SanctionFact(id="s0", target="X", authority="United Kingdom", measure=m, status="imposed",
                          evidence=_evidence(text), grounded=True) for m in ("terrorist_designation", "reward", "arms_embargo")]  # fmt: skip
    assert [f.measure.value for f in named_measures_only(facts, text)[0]] == kept
