"""Event sides (`postprocess.sides`): the defender a sentence names is the target; an event
perpetrated only by the persons or companies an article sanctions is dropped."""

from __future__ import annotations

import pytest

from extractor.schemas import Actor, Event, Evidence, SanctionFact


def _event(quote: str, perpetrators: list[str], targets: list[str], **fields) -> Event:
    evidence = Evidence(quote=quote, start=0, end=len(quote))
    return Event(id="e9", type="battle", perpetrators=perpetrators, targets=targets, evidence=evidence, grounded=True,
                 **fields)  # fmt: skip


def _actor(n: int, name: str, kind: str, aliases: list[str] | None = None) -> Actor:
    return Actor(id=f"a{n}", name=name, kind=kind, aliases=aliases or [])


@pytest.mark.parametrize(
    ("quote", "perpetrators", "targets", "swapped"),
    [
        # the perpetrator repelled it: it is the defender
        ("Burkina Faso's army said it had repelled a major jihadist attack on a detachment.", ["Burkina Faso's army"], ["JNIM"], True),
        ("The SSPDF said its troops had repulsed an attack by SPLA-IO fighters on its base.", ["SSPDF"], ["SPLA-IO"], True),
        ("Police fought off gunmen who stormed the station.", ["Police"], ["gunmen"], True),
        # an alias of the perpetrator's actor counts as its mention
        ("The army, the SSPDF, said it thwarted the assault.", ["South Sudan People's Defence Forces"], ["SPLA-IO"], True),
        # passive voice: the attacker is the subject, the model's sides stand
        ("SPLA-IO fighters attacked the base but were repelled by the army.", ["SPLA-IO"], ["army"], False),
        ("The attack had been repelled, the SSPDF said.", ["SSPDF"], ["SPLA-IO"], False),
        # the target is named before the verb too: nothing says who repelled whom
        ("SPLA-IO attacked the SSPDF, which repelled them.", ["SSPDF"], ["SPLA-IO"], False),
        # no defence verb, or the perpetrator is not named before it
        ("SPLA-IO attacked the SSPDF base near Yei.", ["SPLA-IO"], ["SSPDF"], False),
        ("An attack was launched; troops repelled it.", ["SPLA-IO"], ["troops"], False),
        # one side only: nothing to swap
        ("The army said it repelled an attack.", ["army"], [], False),
    ],
)
def test_a_perpetrator_that_repelled_the_attack_becomes_its_target(quote, perpetrators, targets, swapped) -> None:
    from extractor.postprocess.sides import attackers_first

    actors = [_actor(1, "South Sudan People's Defence Forces", "state_forces", ["SSPDF"])]
    event = _event(quote, perpetrators, targets, perpetrator_ids=["a1"], target_ids=["a2"])
    (out,), notes = attackers_first([event], actors)
    if swapped:
        assert (out.perpetrators, out.targets) == (targets, perpetrators)
        assert (out.perpetrator_ids, out.target_ids) == (["a2"], ["a1"])
        assert notes == ["swapped the sides of 1 event(s) whose sentence says the perpetrator repelled it"]
    else:
        assert (out.perpetrators, out.targets) == (perpetrators, targets) and notes == []


def test_events_perpetrated_only_by_sanctioned_persons_or_companies_are_dropped() -> None:
    from extractor.postprocess.sides import not_by_the_listed

    actors = [
        _actor(1, "Oleg Vetrov", "person"),
        _actor(2, "Al-Waha Logistics Company", "company"),
        _actor(3, "Rapid Support Forces", "armed_group"),
        _actor(4, "Marina Koltsova", "person"),
    ]
    sanctions = [
        SanctionFact(id=f"s{n}", target=name, target_id=f"a{n}", measure="asset_freeze", status="imposed")
        for n, name in ((1, "Oleg Vetrov"), (2, "Al-Waha Logistics Company"), (3, "Rapid Support Forces"))
    ]
    events = [
        _event("q1", ["Oleg Vetrov", "Al-Waha Logistics Company"], [], perpetrator_ids=["a1", "a2"]),  # dropped
        _event("q2", ["Rapid Support Forces"], [], perpetrator_ids=["a3"]),  # a sanctioned group: kept
        _event("q3", ["Oleg Vetrov", "Marina Koltsova"], [], perpetrator_ids=["a1", "a4"]),  # one not sanctioned
        _event("q4", ["Oleg Vetrov", "gunmen"], [], perpetrator_ids=["a1"]),  # a perpetrator without an actor
        _event("q5", [], ["Oleg Vetrov"], target_ids=["a1"]),  # a sanctioned target, no perpetrator
    ]
    kept, notes = not_by_the_listed(events, actors, sanctions)
    assert [e.evidence.quote for e in kept] == ["q2", "q3", "q4", "q5"]
    assert [e.id for e in kept] == ["e1", "e2", "e3", "e4"]
    assert notes == ["dropped 1 event(s) whose only perpetrators are persons or companies the article sanctions"]
    assert not_by_the_listed(events[1:], actors, [])[1] == []


def test_assembly_swaps_the_defender_unless_switched_off() -> None:
    from extractor.llm.cited import CitedEventsAnswer
    from extractor.pipeline.assemble import AssemblyOptions, PassOutput, assemble
    from extractor.schemas import Meta, PassStat
    from extractor.text.chunking import Chunk

    text = (
        "The army said on Wednesday that its troops had repulsed an attack by fighters of the Liberation Front "
        "on their base near the town of Yei, killing fourteen of the attackers in the fighting."
    )
    draft = {"type": "battle", "perpetrators": ["army"], "targets": ["Liberation Front"], "fatalities": 14,
             "country": None, "admin1": None, "location": "Yei", "date": None, "sentence": 1}  # fmt: skip
    answer = CitedEventsAnswer.model_validate({"events": [draft]})

    def sides(**options):
        output = PassOutput(Chunk(0, 0, len(text), text), "events", answer.items(),
                            PassStat(name="events", chunk=0, cache_hit=False, seconds=0))  # fmt: skip
        meta = Meta(model="m", backend="b", prompt_version="v5", schema_hash="h")
        (event,) = assemble(text, [output], meta, "2025-06-17", AssemblyOptions(**options)).events
        return event.perpetrators, event.targets

    assert sides() == (["Liberation Front"], ["army"])
    assert sides(event_sides=False) == (["army"], ["Liberation Front"])
