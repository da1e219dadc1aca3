"""Which document a record came from, named the same way in every merged record.

A document is named by its `source` (the input path, or FILE#ID for a JSONL input) and, when
an extraction has none (stdin), by the sha256 of its text, so a mention can always be traced
back to the line of the batch it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from extractor.schemas import Evidence, Extraction
from extractor.text.dates import parse_published


@dataclass(frozen=True)
class Document:
    """One extraction of the batch: its name, line and publication date."""

    name: str
    line: int
    published: date | None
    extraction: Extraction


def document(extraction: Extraction, line: int) -> Document:
    """The document of one batch line."""
    name = extraction.source if extraction.source and extraction.source != "-" else None
    if name is None:
        name = f"sha256:{extraction.meta.input_sha256}" if extraction.meta.input_sha256 else f"line:{line}"
    return Document(name, line, parse_published(extraction.meta.published), extraction)


def mention(doc: Document, record_id: str, evidence: Evidence | None, **values) -> dict:
    """One record of one document, as merged records list their mentions."""
    return {
        "document": doc.name,
        "line": doc.line,
        "record_id": record_id,
        "evidence": evidence.model_dump() if evidence else None,
        **values,
    }
