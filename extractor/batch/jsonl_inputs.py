"""`--input-format jsonl`: documents given as JSON lines, each with its own metadata.

News archives are usually exported as records, not files: one JSON object a line with
`text` and optionally `id`, `source`, `url` and `published` (YYYY-MM-DD). Each line becomes a
document with its own publication date (the `--published` option only fills in lines without
one). The document's `source` is its `source`, else its `url`, else its `id`, else
`FILE:LINE`; its resume path is `FILE#ID` (or `FILE#LINE`), so a rerun skips the lines
already extracted. A bad line is an input error naming the file and line; the others go on.
Lines are read one at a time, so a file of millions of documents streams.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from collections.abc import Iterator

from extractor.batch.inputs import STDIN, Document, InputProblem, display_name, resolved
from extractor.text.dates import parse_published


def _document(record: object, where: str, resume_path: str, line: int, max_bytes: int) -> Document:
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("no 'text' (a non-empty string)")
    data = text.encode("utf-8", "surrogatepass")
    if len(data) > max_bytes:
        raise ValueError(f"text of {len(data):,} bytes is over the {max_bytes:,}-byte limit (--max-bytes)")
    published = record.get("published")
    if published is not None and (not isinstance(published, str) or parse_published(published) is None):
        raise ValueError(f"'published' {published!r} is not a YYYY-MM-DD date")
    ident = record.get("id")
    ident = str(ident) if isinstance(ident, (str, int)) and str(ident) else None
    named = next((record[k] for k in ("source", "url") if isinstance(record.get(k), str) and record[k]), None)
    return Document(
        source=display_name(named or ident or f"{where}:{line}"), text=text, sha256=hashlib.sha256(data).hexdigest(),
        path=f"{resume_path}#{ident if ident is not None else line}", published=published,
    )  # fmt: skip


def iter_jsonl_documents(paths: list[str], *, max_bytes: int) -> Iterator[Document | InputProblem]:
    """Every line of every JSONL file, in order: a Document, or an InputProblem naming file and line."""
    for path in paths:
        where = display_name(path)
        try:
            handle = (io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="surrogateescape") if path == STDIN
                      else open(path, encoding="utf-8", errors="surrogateescape"))  # noqa: SIM115 - closed below
        except OSError as exc:
            yield InputProblem(where, f"{where}: cannot read ({exc.strerror or exc})")
            continue
        resume_path = resolved(path)
        with handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield _document(json.loads(line), where, resume_path, number, max_bytes)
                except (ValueError, RecursionError) as exc:
                    message = str(exc) if not isinstance(exc, RecursionError) else "JSON nested too deeply"
                    yield InputProblem(f"{where}:{number}", f"{where}:{number}: {message.splitlines()[0]}")
