"""Corrections become gold: an analyst's review of our output turned into eval-set cases.

A team's best eval set is the work it already reviews. A corrections file (written by the
review page's "Download corrections" button, or by hand) lists, per reviewed document, the
records that are wrong, field values to fix and records the extraction missed. Every record
of a reviewed document that is not marked wrong is taken as confirmed, so the gold of a case
is: the extraction's records, minus the wrong ones, with the fixes applied, plus the added
ones, written in the eval-set contract (docs/EVAL_FORMAT.md) and checked by its loader.

    {"format": "extractor-corrections/1",
     "documents": [{"document": "news/aleppo.txt", "case": "aleppo-clash",
                    "wrong": ["e2"], "fix": {"e1": {"fatalities": 14}},
                    "add": {"actors": [{"name": "SOHR", "kind": "ngo"}]}}]}
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from extractor.errors import GoldError
from extractor.schemas import Actor, Event, Extraction, SanctionFact

FORMAT = "extractor-corrections/1"
#: the gold fields of each record type, in the contract's order
GOLD_FIELDS: dict[str, tuple[str, ...]] = {
    "actors": ("name", "aliases", "kind"),
    "events": ("type", "perpetrators", "targets", "country", "admin1", "location", "date", "fatalities"),
    "sanctions": ("target", "authority", "measure", "status", "program", "amount", "currency"),
}
RecordType = Literal["actors", "events", "sanctions"]


class Correction(BaseModel):
    """One reviewed document: what is wrong, what to fix, what was missed."""

    model_config = ConfigDict(extra="forbid")

    document: str = Field(min_length=1, description="The extraction's `source`, as in the JSONL.")
    case: str | None = Field(default=None, description="Case id (default: from the document name).")
    wrong: list[str] = Field(default_factory=list, description="Record ids left out of gold.")
    fix: dict[str, dict[str, Any]] = Field(default_factory=dict, description="Record id -> gold field values.")
    add: dict[RecordType, list[dict[str, Any]]] = Field(default_factory=dict, description="Missed records, in gold form.")


class CorrectionsFile(BaseModel):
    """A corrections file: its format tag and the reviewed documents."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["extractor-corrections/1"] = FORMAT
    documents: list[Correction]


def load_corrections(path: Path) -> CorrectionsFile:
    """The corrections in `path`; GoldError names the file and the first problem."""
    try:
        return CorrectionsFile.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise GoldError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise GoldError(f"{path}: {where}: {first['msg']}") from exc
        raise GoldError(f"{path}: not JSON ({str(exc).splitlines()[0] if str(exc) else 'too deeply nested'})") from exc


def case_id(document: str) -> str:
    """A case id from a document name: "news/2025/aleppo.txt" -> "aleppo"; FILE#ID -> ID."""
    stem = document.rsplit("#", 1)[1] if "#" in document else Path(document).stem
    if stem == "article" and "#" not in document:
        stem = Path(document).parent.name or stem
    return re.sub(r"[^a-z0-9]+", "-", stem.casefold()).strip("-") or "case"


def gold_record(record: Actor | Event | SanctionFact, kind: RecordType) -> dict[str, Any]:
    """A record in the contract's form: its gold fields, without empty ones."""
    data = record.model_dump(mode="json")
    return {name: data[name] for name in GOLD_FIELDS[kind] if data.get(name) not in (None, "", [])}


def _fixed(record: dict[str, Any], changes: dict[str, Any], kind: RecordType, record_id: str) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(GOLD_FIELDS[kind]))
    if unknown:
        raise GoldError(f"fix {record_id}: {', '.join(unknown)} is not a gold field of {kind} ({', '.join(GOLD_FIELDS[kind])})")
    merged = {**record, **changes}
    return {name: value for name, value in merged.items() if value is not None}


def build_gold(extraction: Extraction, correction: Correction) -> dict[str, Any]:
    """The gold.json of one reviewed document; GoldError names an unknown record id or field."""
    by_id = {r.id: kind for kind in GOLD_FIELDS for r in getattr(extraction, kind)}
    for record_id in [*correction.wrong, *correction.fix]:
        if record_id not in by_id:
            raise GoldError(f"{correction.document}: no record {record_id!r} in its extraction")
    gold: dict[str, Any] = {"id": correction.case or case_id(correction.document)}
    if extraction.meta.published:
        gold["published"] = extraction.meta.published
    for kind in GOLD_FIELDS:
        kept = [
            _fixed(gold_record(r, kind), correction.fix.get(r.id, {}), kind, r.id)
            for r in getattr(extraction, kind)
            if r.id not in correction.wrong
        ]
        gold[kind] = kept + list(correction.add.get(kind, []))
    return gold
