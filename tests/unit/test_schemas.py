"""schemas: committed JSON schemas match the models; public models round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from extractor.schemas import (
    PUBLIC_MODELS,
    Actor,
    Event,
    Evidence,
    Extraction,
    Meta,
    PassStat,
    SanctionFact,
    Usage,
    json_schemas,
    write_schemas,
)

REGENERATE = "run `python -m extractor.schemas --write` and commit schemas/"


def test_committed_schemas_match_the_models(repo_root: Path) -> None:
    directory = repo_root / "schemas"
    generated = json_schemas()
    committed_files = sorted(p.name for p in directory.glob("*.schema.json"))
    assert committed_files == sorted(f"{name}.schema.json" for name in generated), (
        f"schemas/ holds {committed_files}; the models define {sorted(generated)}: {REGENERATE}"
    )
    for name, schema in generated.items():
        path = directory / f"{name}.schema.json"
        committed = json.loads(path.read_text(encoding="utf-8"))
        assert committed == schema, f"schemas/{path.name} is out of date with extractor/schemas.py: {REGENERATE}"


def test_write_schemas_is_what_the_drift_test_compares(tmp_path: Path, repo_root: Path) -> None:
    written = write_schemas(tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(f"{n}.schema.json" for n in PUBLIC_MODELS)
    for path in written:
        assert json.loads(path.read_text(encoding="utf-8")) == json_schemas()[path.name.split(".")[0]]
        # byte-identical with the committed file: the writer is deterministic
        assert path.read_bytes() == (repo_root / "schemas" / path.name).read_bytes(), REGENERATE


def sample_extraction() -> Extraction:
    text = "Gunmen from Katiba Serma killed 12 villagers in Dioura on Sunday, Reuters reported. Prix: 5 000 €."
    quote = "Gunmen from Katiba Serma killed 12 villagers in Dioura on Sunday, Reuters reported."
    evidence = Evidence(quote=quote, start=0, end=len(quote))
    assert evidence.holds_in(text)
    return Extraction(
        source="mali.txt",
        actors=[
            Actor(id="a1", name="Katiba Serma", aliases=["KS"], kind="armed_group", evidence=Evidence(quote="Katiba Serma", start=12, end=24), grounded=True),
            Actor(id="a2", name="Amadou Koné", kind="person"),
        ],
        events=[
            Event(
                id="e1",
                type="violence_against_civilians",
                perpetrators=["Katiba Serma"],
                perpetrator_ids=["a1"],
                targets=["villagers"],
                date="2024-03-03",
                date_text="Sunday",
                country="Mali",
                location="Dioura",
                fatalities=12,
                sources=["Reuters"],
                evidence=evidence,
                grounded=True,
            )
        ],
        sanctions=[
            SanctionFact(
                id="s1",
                target="Amadou Koné",
                target_id="a2",
                authority="United States",
                measure="reward",
                status="imposed",
                amount=5_000_000.0,
                currency="USD",
            )
        ],
        meta=Meta(
            model="local/qwen",
            backend="gguf:abc",
            prompt_version="v1+abc",
            schema_hash="0123456789abcdef",
            usage=Usage(prompt_tokens=10, completion_tokens=5),
            passes=[PassStat(name="events", chunk=0, cache_hit=False, seconds=1.5, usage=Usage(prompt_tokens=10))],
            warnings=["dropped 1 record(s)"],
            published="2024-03-04",
        ),
    )


def test_extraction_round_trips_through_json() -> None:
    extraction = sample_extraction()
    text = extraction.model_dump_json()
    again = Extraction.model_validate_json(text)
    assert again == extraction
    assert again.model_dump_json() == text
    assert json.loads(text)["events"][0]["type"] == "violence_against_civilians"
    assert [r.id for r in again.records()] == ["a1", "a2", "e1", "s1"]


def test_round_trip_through_python_json_module() -> None:
    extraction = sample_extraction()
    data = json.loads(json.dumps(extraction.model_dump(mode="json"), ensure_ascii=False))
    assert Extraction.model_validate(data) == extraction


def test_usage_total_and_add() -> None:
    usage = Usage(prompt_tokens=3, completion_tokens=4)
    usage.add(Usage(prompt_tokens=10, completion_tokens=1))
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (13, 5, 18)


@pytest.mark.parametrize(
    "model, data",
    [
        (Actor, {"id": "a1", "name": "", "kind": "person"}),
        (Actor, {"id": "a1", "name": "X", "kind": "militia"}),
        (Actor, {"id": "a1", "name": "X", "kind": "person", "confidence": 1}),
        (Event, {"id": "e1", "type": "battle", "fatalities": -1}),
        (Event, {"id": "e1", "type": "war"}),
        (SanctionFact, {"id": "s1", "target": "X", "measure": "reward", "status": "imposed", "amount": -1}),
        (SanctionFact, {"id": "s1", "target": "X", "measure": "reward", "status": "active"}),
        (Evidence, {"quote": "abc", "start": 0, "end": 4}),
    ],
)
def test_public_models_reject_bad_records(model, data) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(data)


def test_schema_enums_match_model_enums() -> None:
    schema = json_schemas()["extraction"]
    text = json.dumps(schema)
    for value in ("violence_against_civilians", "terrorist_designation", "under_review", "international_organization"):
        assert value in text
