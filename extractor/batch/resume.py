"""The one resume key: which documents `-o` already holds.

A document is done when the output has a line with the same resolved input path (so `x.txt`,
`/abs/x.txt` and `d/../x.txt` are one file), the same content (sha256 of the input bytes),
the same model identity (`meta.backend`: provider, model, endpoint and mode, no key) and the
same prompt set (`meta.prompt_version`, which carries the prompts' hash). Changing the model or
the prompts therefore re-extracts instead of silently keeping old results. Every engine that
resumes from our JSONL uses this key (docs/RELIABILITY.md, "Resume").
"""

from __future__ import annotations

import json
from pathlib import Path

from extractor.batch.inputs import resolved

Key = tuple[str, str, str, str]


def key(path: str, sha256: str, backend: str, prompt: str) -> Key:
    """The resume key of a document extracted from `path` by a model and a prompt set."""
    return (path, sha256, backend, prompt)


def document_of(record: dict) -> str | None:
    """The resolved input path an output line belongs to (lines written before `input_path`
    existed: their `source`, resolved from the current directory)."""
    meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
    path = meta.get("input_path")
    if isinstance(path, str):
        return path
    source = record.get("source")
    return resolved(source) if isinstance(source, str) else None


def done_keys(path: Path) -> set[Key]:
    """The resume key of every complete result line already in `path`."""
    keys: set[Key] = set()
    if not path.exists():
        return keys
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
                meta = record["meta"]
                document = document_of(record)
                if document is not None:
                    keys.add(key(document, meta["input_sha256"], meta["backend"], meta["prompt_version"]))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
    return keys
