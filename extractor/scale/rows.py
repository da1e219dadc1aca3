"""Extractions as table rows: the Arrow schema of the Ray engine's output, and the way back.

A Dataset's blocks are typed independently, so a batch whose documents have no events
would type `events` as a list of nulls and refuse to concatenate with the next one. Every
block is therefore built against one schema derived from the pydantic models themselves
(a new field reaches the table without a second definition; a type this mapping does not
know fails the schema test instead of becoming a silent string). Nested records become
Arrow structs and lists of structs, so Parquet keeps them queryable.

Columns: the JSONL line's own fields (`source`, `actors`, `events`, `sanctions`, `meta`),
then `error` and `error_class` (set when the document failed; the record columns are null),
`attempts`, and `skipped` (the document was already in the output: nothing was extracted).
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

import pyarrow as pa
from pydantic import BaseModel

from extractor.schemas import Extraction

_SCALARS: dict[type, pa.DataType] = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
#: the columns that are not the JSONL line's own
STATUS_FIELDS: tuple[pa.Field, ...] = (
    pa.field("error", pa.string()),
    pa.field("error_class", pa.string()),
    pa.field("attempts", pa.int64()),
    pa.field("skipped", pa.bool_()),
)


def arrow_type(annotation: Any) -> pa.DataType:
    """The Arrow type of a pydantic field annotation (optional parts are nullable anyway)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        present = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(present) != 1:
            raise TypeError(f"no Arrow type for the union {annotation!r}")
        return arrow_type(present[0])
    if origin in (list, tuple):
        (item, *_) = typing.get_args(annotation)
        return pa.list_(arrow_type(item))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return pa.struct([pa.field(name, arrow_type(info.annotation)) for name, info in annotation.model_fields.items()])
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return pa.string()
    for scalar, arrow in _SCALARS.items():
        if annotation is scalar:
            return arrow
    raise TypeError(f"no Arrow type for {annotation!r}")


#: the record columns, in the JSONL line's order
RECORD_FIELDS: tuple[str, ...] = tuple(Extraction.model_fields)
OUTPUT_SCHEMA = pa.schema(
    [pa.field(name, arrow_type(info.annotation)) for name, info in Extraction.model_fields.items()] + list(STATUS_FIELDS)
)


def result_row(result: Extraction) -> dict[str, Any]:
    """The row of a successful extraction."""
    return {**result.model_dump(mode="json"), "error": None, "error_class": None, "attempts": None, "skipped": False}


def status_row(source: str | None, *, error: str | None = None, error_class: str | None = None,
               attempts: int | None = None, skipped: bool = False, sha256: str | None = None) -> dict[str, Any]:  # fmt: skip
    """The row of a document that failed (or was skipped): its record columns are null but
    `source` and `meta.input_sha256`, which say which document it was."""
    row: dict[str, Any] = dict.fromkeys(RECORD_FIELDS)
    row["source"] = source
    row.update(error=error, error_class=error_class, attempts=attempts, skipped=skipped)
    row["meta"] = None if sha256 is None else _bare_meta(sha256)
    return row


def _bare_meta(sha256: str) -> dict[str, Any]:
    return {field.name: None for field in OUTPUT_SCHEMA.field("meta").type} | {"input_sha256": sha256}


def table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as one Arrow table of the output schema."""
    return pa.Table.from_pylist(rows, schema=OUTPUT_SCHEMA)


def record_of(row: dict[str, Any]) -> dict[str, Any]:
    """The JSONL line of a successful row, exactly as the local engine writes it."""
    return Extraction.model_validate({name: row[name] for name in RECORD_FIELDS}).model_dump(mode="json")
