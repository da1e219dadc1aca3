"""One incident per place and day (`postprocess.incidents`)."""

from __future__ import annotations

from extractor.postprocess.incidents import one_per_place_and_day
from extractor.schemas import Event, Evidence


def _event(n: int, type: str, date: str | None = "2025-08-11", location: str | None = "Hillat Nuri camp", **fields) -> Event:
    quote = f"sentence {n}"
    evidence = Evidence(quote=quote, start=10 * n, end=10 * n + len(quote))
    return Event(id=f"e{n}", type=type, date=date, location=location, evidence=evidence, grounded=True, **fields)


def test_records_of_one_place_and_day_become_one_incident_of_the_majority_type() -> None:
    events = [
        _event(1, "battle", perpetrators=["RSF"], targets=["camp"], fatalities=31),
        _event(2, "violence_against_civilians", perpetrators=["RSF"], targets=["civilians"], fatalities=None),
        _event(3, "violence_against_civilians", perpetrators=["Rapid Support Forces"], targets=["civilians"], fatalities=9),
    ]
    merged, notes = one_per_place_and_day(events)
    assert len(merged) == 1 and len(notes) == 1
    incident = merged[0]
    # the earliest record of the winning type, so its evidence states that type
    assert incident.type == "violence_against_civilians" and incident.id == "e2"
    assert incident.evidence.quote == "sentence 2"
    assert incident.perpetrators == ["RSF", "Rapid Support Forces"] and incident.targets == ["civilians"]
    assert incident.fatalities == 31  # the earliest toll of the group


def test_a_tie_goes_to_the_earliest_type() -> None:
    merged, _ = one_per_place_and_day([_event(1, "explosion_remote_violence"), _event(2, "battle")])
    assert [e.type for e in merged] == ["explosion_remote_violence"]


def test_other_days_other_places_and_undated_records_stay_apart() -> None:
    events = [
        _event(1, "battle"),
        _event(2, "battle", date="2025-08-12"),
        _event(3, "battle", location="Tawila"),
        _event(4, "battle", date=None),
        _event(5, "battle", date=None),
        _event(6, "battle", date="2025-08"),
        _event(7, "battle", date="2025-08"),
        _event(8, "battle", location=None),
    ]
    merged, notes = one_per_place_and_day(events)
    assert merged == events and notes == []


def test_order_is_kept_around_a_merge() -> None:
    events = [_event(1, "battle", location="Dela"), _event(2, "protest", location="Kisumu"), _event(3, "battle", location="dela")]
    merged, _ = one_per_place_and_day(events)
    assert [e.id for e in merged] == ["e1", "e2"]


def test_assembly_merges_a_place_and_day_and_says_so_unless_switched_off() -> None:
    from extractor.llm.cited import CitedEventsAnswer
    from extractor.pipeline.assemble import AssemblyOptions, PassOutput, assemble
    from extractor.schemas import Meta, PassStat
    from extractor.text.chunking import Chunk

    text = (
        "Gunmen shot dead four traders at the market in Dela on Sunday. "
        "Witnesses said the gunmen shot the traders and fled on motorbikes."
    )
    drafts = [
        {"type": t, "perpetrators": ["gunmen"], "targets": ["traders"], "fatalities": f, "country": None, "admin1": None,
         "location": "Dela", "date": "Sunday", "sentence": n}
        for n, t, f in ((1, "violence_against_civilians", 4), (2, "battle", None))
    ]  # fmt: skip
    answer = CitedEventsAnswer.model_validate({"events": drafts})

    def events(**options):
        output = PassOutput(Chunk(0, 0, len(text), text), "events", answer.items(),
                            PassStat(name="events", chunk=0, cache_hit=False, seconds=0))  # fmt: skip
        meta = Meta(model="m", backend="b", prompt_version="v3", schema_hash="h")
        extraction = assemble(text, [output], meta, "2025-06-17", AssemblyOptions(consistency_checks=False, **options))
        return extraction.events, extraction.meta.warnings

    merged, warnings = events()
    assert [(e.type.value, e.date, e.fatalities) for e in merged] == [("violence_against_civilians", "2025-06-15", 4)]
    assert any("merged 2 events at Dela on 2025-06-15" in w for w in warnings)
    apart, _ = events(one_incident_per_place_and_day=False)
    assert len(apart) == 2
