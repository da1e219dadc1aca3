"""Reading our own JSONL back, one line at a time, and the article each line came from.

A malformed line becomes a `BadLine` naming its line number, and the lines after it are
still read: one damaged record must not cost an analyst the rest of a batch. The output
holds no article text (it would double every file's size); the review page needs it, so it
is read again from the document's `source` path and used only when its sha256 is the one
the extraction recorded, since offsets into an edited file would highlight the wrong words.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from extractor.batch.inputs import decode
from extractor.errors import InputError
from extractor.schemas import Extraction


@dataclass(frozen=True)
class Loaded:
    """One document's extraction, and the line it stood on."""

    line: int
    extraction: Extraction


@dataclass(frozen=True)
class BadLine:
    """A line that is not one of our records; `message` is one line naming file and line."""

    line: int
    message: str


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "record"
        return f"{where}: {first['msg']}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def read_extractions(path: Path) -> Iterator[Loaded | BadLine]:
    """Each non-blank line of `path` parsed as an Extraction, streaming (constant memory)."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise ValueError(f"a JSON {type(data).__name__}, not an extraction object")
                yield Loaded(number, Extraction.model_validate(data))
            except (ValueError, ValidationError) as exc:
                yield BadLine(number, f"{path}:{number}: not an extraction record ({_problem(exc)}); skipped")


@dataclass(frozen=True)
class SourceText:
    """The article text, or why it is not available."""

    text: str | None
    problem: str | None = None


def source_text(extraction: Extraction, root: Path | None = None) -> SourceText:
    """The text the extraction was made from, re-read from `source` (relative to `root`).

    Refused when the file is gone, unreadable, or no longer has the recorded sha256."""
    meta = extraction.meta
    source = extraction.source
    if not source or source == "-":
        return SourceText(None, "read from stdin: the text is not stored in the output")
    path = Path(source)
    if root is not None and not path.is_absolute():
        path = root / path
    try:
        data = path.read_bytes()
    except OSError as exc:
        return SourceText(None, f"{path}: cannot read the article ({exc.strerror or exc})")
    if meta.input_sha256 and hashlib.sha256(data).hexdigest() != meta.input_sha256:
        return SourceText(None, f"{path}: changed since it was extracted (sha256 differs); offsets would be wrong")
    fallback = meta.input_encoding if meta.input_encoding not in (None, "utf-8") else None
    try:
        text, _ = decode(data, str(path), fallback)  # exactly as `extract` decoded it
    except (InputError, LookupError) as exc:
        return SourceText(None, str(exc))
    return SourceText(text)
