"""v3 drafts: cited sentence numbers become exact evidence; a listing expands per target x measure."""

import pytest
from pydantic import ValidationError

from extractor.llm.cited import CitedEventsAnswer, CitedSanctionsAnswer
from extractor.llm.drafts import grounding_against
from extractor.pipeline.assemble import AssemblyOptions, PassOutput, assemble
from extractor.schemas import Meta, PassStat
from extractor.text.chunking import Chunk

TEXT = (
    "Gunmen killed four traders in Boro on Sunday.\n"
    "The U.S. Treasury sanctioned Ana Ruiz, Luis Vega and Delta Ltd.\n"
    "They are subject to an asset freeze and a travel ban."
)


def _sanctions() -> CitedSanctionsAnswer:
    return CitedSanctionsAnswer.model_validate(
        {
            "sanctions": [
                {
                    "sentence": 3,
                    "targets": ["Ana Ruiz", "Luis Vega", "Delta Ltd"],
                    "authority": "U.S. Treasury",
                    "measures": ["asset_freeze", "travel_ban", "asset_freeze"],
                    "status": "imposed",
                    "program": None,
                    "amount": None,
                    "currency": None,
                }
            ]
        }  # fmt: skip
    )


def test_a_sentence_number_that_does_not_exist_is_refused_for_a_reask() -> None:
    bad = {"events": [{"sentence": 7, "type": "battle", "perpetrators": [], "targets": [], "fatalities": None,
                       "country": None, "admin1": None, "location": None, "date": None}]}  # fmt: skip
    with (
        grounding_against(TEXT),
        pytest.raises(ValidationError, match=r"sentence number\(s\) \[7\]"),
    ):
        CitedEventsAnswer.model_validate(bad)


def test_evidence_is_the_cited_sentence_with_document_offsets() -> None:
    item = _sanctions().sanctions[0]
    evidence = item.evidence_in(TEXT, base=100)
    assert evidence.quote == "They are subject to an asset freeze and a travel ban."
    assert evidence.start == 100 + TEXT.index("They are")


def test_one_listing_record_becomes_one_fact_per_target_and_measure() -> None:
    chunk = Chunk(0, 0, len(TEXT), TEXT)
    output = PassOutput(
        chunk,
        "sanctions",
        _sanctions().items(),
        PassStat(name="sanctions", chunk=0, cache_hit=False, seconds=0),
    )
    meta = Meta(model="m", backend="b", prompt_version="v3", schema_hash="h")
    extraction = assemble(TEXT, [output], meta, None, AssemblyOptions())
    pairs = {(f.target, f.measure) for f in extraction.sanctions}
    assert pairs == {
        (t, m)
        for t in ("Ana Ruiz", "Luis Vega", "Delta Ltd")
        for m in ("asset_freeze", "travel_ban")
    }
    assert all(
        f.authority == "United States" and f.evidence.holds_in(TEXT)
        for f in extraction.sanctions
    )
    assert extraction.meta.schema_version == 3


def _event(sentence: int, fatalities: int | None) -> dict:
    return {"type": "violence_against_civilians", "perpetrators": ["Gunmen"], "targets": ["traders"],
            "fatalities": fatalities, "country": None, "admin1": None, "location": "Boro", "date": "Sunday",
            "sentence": sentence}  # fmt: skip


def test_the_same_incident_cited_from_two_sentences_is_one_event() -> None:
    text = "Gunmen killed four traders in Boro on Sunday.\nThe gunmen shot four traders.\nA third sentence."
    answer = CitedEventsAnswer.model_validate({"events": [_event(1, 4), _event(2, 4), _event(3, 9)]})
    chunk = Chunk(0, 0, len(text), text)
    output = PassOutput(chunk, "events", answer.items(), PassStat(name="events", chunk=0, cache_hit=False, seconds=0))
    meta = Meta(model="m", backend="b", prompt_version="v3", schema_hash="h")
    events = assemble(text, [output], meta, None, AssemblyOptions(consistency_checks=False)).events
    assert [(e.fatalities, e.evidence.quote) for e in events] == [(4, text.splitlines()[0]), (9, "A third sentence.")]
