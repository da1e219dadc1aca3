"""`--format csv`: every record as one flat row, for spreadsheets and pandas.

One file with a `record_type` column rather than three files, so the output streams to one
path (or stdout) like the other formats, and `df[df.record_type == "events"]` gives each
table. Lists are joined with "; ", absent values are empty cells, and each row carries its
document and evidence offsets so it can be traced back to the words it came from. The
columns are listed in docs/EXPORT.md.
"""

from __future__ import annotations

import csv
from typing import TextIO

from extractor.schemas import Extraction, Record

COMMON = ("record_type", "document", "id", "name", "quote", "start", "end", "grounded", "checks")
ACTOR = ("kind", "aliases", "affiliation", "country")
EVENT = (
    "type", "sub_type", "perpetrators", "targets", "perpetrator_ids", "target_ids", "date", "date_text",
    "admin1", "location", "fatalities", "sources",
)  # fmt: skip
SANCTION = (
    "authority", "authority_text", "authority_id", "measure", "status", "program", "amount", "currency",
    "conditions", "target_id",
)  # fmt: skip
META = ("model", "prompt_version", "published", "input_sha256")
COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(COMMON + ACTOR + EVENT + SANCTION + META))


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return getattr(value, "value", value)  # enums as their values


def _row(record_type: str, record: Record, name: str, extraction: Extraction) -> dict[str, object]:
    meta = extraction.meta
    evidence = record.evidence
    row: dict[str, object] = {
        "record_type": record_type, "document": extraction.source or "", "id": record.id, "name": name,
        "quote": evidence.quote if evidence else "", "start": evidence.start if evidence else "",
        "end": evidence.end if evidence else "", "grounded": _cell(record.grounded), "checks": _cell(record.checks),
        "model": meta.model, "prompt_version": meta.prompt_version, "published": meta.published or "",
        "input_sha256": meta.input_sha256 or "",
    }  # fmt: skip
    fields = record.model_dump()
    for column in COLUMNS:
        if column not in row:
            row[column] = _cell(getattr(record, column, None)) if column in fields else ""
    return row


def rows(extraction: Extraction):
    """The document's actors, events and sanctions as rows; `name` is the actor's name, the
    event's type and the sanction's target."""
    for actor in extraction.actors:
        yield _row("actors", actor, actor.name, extraction)
    for event in extraction.events:
        yield _row("events", event, event.type.value, extraction)
    for sanction in extraction.sanctions:
        yield _row("sanctions", sanction, sanction.target, extraction)


class TableWriter:
    """Streams every record as a row under one header."""

    def __init__(self, out: TextIO):
        self._csv = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        self._csv.writeheader()

    def add(self, extraction: Extraction) -> None:
        """Write the document's records as rows."""
        self._csv.writerows(rows(extraction))

    def close(self, *, bad_lines: int = 0, summary=None) -> None:
        """Nothing is held back: every row is already written."""
