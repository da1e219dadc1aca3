"""Batch input and output: find documents, read them safely, write results resumably.

Output is JSONL, one line per document, appended and flushed as each finishes. On rerun
the existing lines are read (a torn last line from a killed run is cut off first) and
documents whose (source, content sha256) are already there are skipped. Failures go to a
separate errors JSONL and never stop the batch. A run holds an exclusive advisory lock on
its output file, so two runs cannot interleave lines in one file; at the end of a run,
lines superseded by a newer result for the same source (--force, or an edited file) are
dropped with an atomic rewrite, so the output holds each document exactly once.

Secrets (API keys, bearer tokens, URL credentials) are removed from every message the
CLI shows or writes with `redact`.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import sys
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

DEFAULT_MAX_BYTES = 2_000_000
STDIN = "-"


class InputError(ValueError):
    """A document that cannot be read; the message names the file and the problem."""


class OutputBusy(RuntimeError):
    """Another process holds the lock on this output file."""


# ---------------------------------------------------------------------------- secrets
_SECRETS: set[str] = set()
_SECRET_PATTERNS = [
    (re.compile(r"\b(sk-(?:proj-|ant-)?)[A-Za-z0-9_\-]{6,}"), r"\1***"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=\-]{6,}"), r"\1***"),
    (re.compile(r"(?i)\b((?:api[_-]?key|access[_-]?token|token|key)=)[^&\s'\"]+"), r"\1***"),
    (re.compile(r"(//)[^/@\s:]+:[^/@\s]+@"), r"\1***@"),
]


def register_secret(value: str | None) -> None:
    """Remember a secret (e.g. the API key in use) so `redact` removes it verbatim."""
    if value and len(value.strip()) >= 6:
        _SECRETS.add(value.strip())


def redact(text: str) -> str:
    """Remove registered secrets and anything shaped like a key, token or URL password."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


@dataclass
class Document:
    source: str
    text: str
    sha256: str
    encoding: str = "utf-8"


@dataclass
class InputProblem:
    source: str
    message: str


def discover(paths: Iterable[str]) -> tuple[list[str], list[InputProblem]]:
    """Expand paths (files, directories recursively for *.txt, '-' for stdin)."""
    found: list[str] = []
    problems: list[InputProblem] = []
    for raw in paths:
        if raw == STDIN:
            found.append(STDIN)
            continue
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.txt") if p.is_file())
            if not files:
                problems.append(InputProblem(raw, f"{raw}: directory has no .txt files"))
            found.extend(str(p) for p in files)
        elif path.is_file():
            found.append(str(path))
        elif path.exists():
            problems.append(InputProblem(raw, f"{raw}: not a regular file"))
        else:
            problems.append(InputProblem(raw, f"{raw}: no such file or directory"))
    unique = list(dict.fromkeys(found))
    return unique, problems


_TEXT_CONTROLS = set("\t\n\r\f\v\x1b")
MAX_CONTROL_SHARE = 0.05


def _looks_binary(text: str) -> bool:
    """More than 5% control characters (other than whitespace) in the first 8 KB."""
    sample = text[:8192]
    if not sample:
        return False
    controls = sum(1 for c in sample if c not in _TEXT_CONTROLS and unicodedata.category(c) == "Cc")
    return controls / len(sample) > MAX_CONTROL_SHARE


def check_encoding(name: str | None) -> str | None:
    """Validate a --encoding-fallback name ('' or None = no fallback); ValueError if unknown."""
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError as exc:
        raise ValueError(f"--encoding-fallback {name!r} is not a known encoding") from exc


def decode(data: bytes, source: str, fallback: str | None = "cp1252") -> tuple[str, str]:
    """Decode bytes as UTF-8 (BOM allowed), else the declared fallback; refuse binary data."""
    if b"\x00" in data[:8192]:
        raise InputError(f"{source}: binary file (NUL bytes), not text")
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        if not fallback:
            raise InputError(
                f"{source}: not valid UTF-8 (byte {exc.start}) and no fallback encoding (--encoding-fallback '')"
            ) from exc
        try:
            text, encoding = data.decode(fallback), fallback
        except (UnicodeDecodeError, LookupError) as exc2:
            raise InputError(f"{source}: not valid UTF-8 (byte {exc.start}) nor {fallback}") from exc2
    if _looks_binary(text):
        raise InputError(f"{source}: binary file (control bytes), not text")
    return text, encoding


def read_document(
    source: str, *, max_bytes: int = DEFAULT_MAX_BYTES, fallback: str | None = "cp1252", stdin: TextIO | None = None
) -> Document:
    if source == STDIN:
        stream = stdin or sys.stdin
        data = stream.buffer.read(max_bytes + 1) if hasattr(stream, "buffer") else stream.read().encode()
    else:
        try:
            size = os.path.getsize(source)
            if size > max_bytes:
                raise InputError(f"{source}: {size:,} bytes is over the {max_bytes:,}-byte limit (--max-bytes)")
            data = Path(source).read_bytes()
        except OSError as exc:
            raise InputError(f"{source}: cannot read ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:
        raise InputError(f"{source}: over the {max_bytes:,}-byte limit (--max-bytes)")
    text, encoding = decode(data, source, fallback)
    if not text.strip():
        raise InputError(f"{source}: empty or whitespace-only")
    return Document(source=source, text=text, sha256=hashlib.sha256(data).hexdigest(), encoding=encoding)


def repair_jsonl(path: Path) -> int:
    """Cut a torn (unterminated or unparsable) last line left by a killed run.

    Returns the number of bytes removed.
    """
    if not path.exists():
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb+") as handle:
        data = handle.read()
        keep = len(data)
        if not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
        else:
            last_start = data.rfind(b"\n", 0, len(data) - 1) + 1
            try:
                json.loads(data[last_start:])
            except ValueError:
                keep = last_start
        if keep < len(data):
            handle.truncate(keep)
        return len(data) - keep


def done_keys(path: Path) -> set[tuple[str, str]]:
    """(source, sha256) of every complete result line already in `path`."""
    keys: set[tuple[str, str]] = set()
    if not path.exists():
        return keys
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
                keys.add((record["source"], record["meta"]["input_sha256"]))
            except (ValueError, KeyError, TypeError):
                continue
    return keys


def compact_jsonl(path: Path) -> int:
    """Keep only the last line per source (a newer result supersedes older ones).

    Rewrites atomically (temp file + os.replace) and only when something is dropped.
    Returns the number of lines removed.
    """
    if not path.exists():
        return 0
    with path.open(encoding="utf-8") as handle:
        lines = handle.readlines()
    sources = [_source_of(line) for line in lines]
    last = {source: number for number, source in enumerate(sources) if source is not None}
    keep = [line for number, (line, source) in enumerate(zip(lines, sources)) if source is None or last[source] == number]
    removed = len(lines) - len(keep)
    if removed:
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.writelines(keep)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return removed


def _source_of(line: str) -> str | None:
    try:
        source = json.loads(line)["source"]
    except (ValueError, KeyError, TypeError):
        return None
    return source if isinstance(source, str) else None


def _lock(handle: TextIO, path: Path) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise OutputBusy(f"{path}: another extractor run is writing this file") from exc


class JsonlWriter:
    """Append-only JSONL sink: one write + flush per record, so a crash tears at most one line.

    `truncate=True` starts the file empty (the errors file describes the latest run only).
    """

    def __init__(self, path: Path | None, stream: TextIO | None = None, *, truncate: bool = False):
        self.path = path
        self._handle: TextIO | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("a", encoding="utf-8")
            _lock(handle, path)  # before repairing: never cut a line another run is writing
            if truncate:
                handle.truncate(0)
            else:
                repair_jsonl(path)
            self._handle = handle
        else:
            self._handle = stream

    def compact(self) -> int:
        """Drop superseded lines (see `compact_jsonl`) while this writer still holds the lock."""
        if self.path is None or self._handle is None:
            return 0
        self._handle.flush()
        return compact_jsonl(self.path)

    def write(self, record: dict[str, Any]) -> None:
        if self._handle is None:
            return
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self.path is not None and self._handle is not None:
            self._handle.close()
        self._handle = None


def iter_documents(
    sources: list[str], *, max_bytes: int, fallback: str | None
) -> Iterator[Document | InputProblem]:
    for source in sources:
        try:
            yield read_document(source, max_bytes=max_bytes, fallback=fallback)
        except InputError as exc:
            yield InputProblem(source, str(exc))
