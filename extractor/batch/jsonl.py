"""Batch output: JSONL results written resumably.

Output is JSONL, one line per document, appended and flushed as each finishes. On rerun
the existing lines are read (a torn last line from a killed run is cut off first) and
documents already there are skipped (the resume key: `extractor.batch.resume`). A run holds an
exclusive advisory lock on its output file, so two runs cannot interleave lines in one file;
at the end of a run, lines superseded by a newer result for the same document (--force, an
edited file, another model or prompt) are dropped with an atomic rewrite, so the output holds each document exactly once.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, TextIO

from extractor.batch.resume import document_of
from extractor.errors import ConfigError, OutputBusy, OutputError


class NotOurFile(ConfigError):
    """An existing output file that this tool did not write: never appended to, cut or rewritten."""


def is_regular(path: Path) -> bool:
    """True for a regular file (not a device such as /dev/stdout, a FIFO or a directory)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def check_ours(path: Path, first_key: str) -> None:
    """Refuse an existing, non-empty regular file whose first line is not one of our records
    (each starts with `{"<first_key>": `): repairing or compacting it would destroy someone's data."""
    if not is_regular(path) or os.path.getsize(path) == 0:
        return
    with open(path, "rb") as handle:
        head = handle.read(len(first_key) + 5)
    if not head.startswith(b'{"' + first_key.encode() + b'": '):
        raise NotOurFile(f"{path}: exists and is not a JSONL file written by extractor; refusing to change it (choose another path)")

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


def compact_jsonl(path: Path) -> int:
    """Keep only the last line per document (its resolved input path: a newer result, from
    an edited file, --force or another model or prompt, supersedes older ones).

    Rewrites atomically (temp file + os.replace) and only when something is dropped.
    Returns the number of lines removed.
    """
    if not path.exists():
        return 0
    with path.open(encoding="utf-8") as handle:
        lines = handle.readlines()
    sources = [_document_of(line) for line in lines]
    last = {source: number for number, source in enumerate(sources) if source is not None}
    keep = [line for number, (line, source) in enumerate(zip(lines, sources)) if source is None or last[source] == number]
    removed = len(lines) - len(keep)
    if removed:
        path = Path(os.path.realpath(path))  # through a symlink: rewrite its target, keep the link
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))  # keep the file's permissions
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.writelines(keep)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return removed


def _document_of(line: str) -> str | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return document_of(record) if isinstance(record, dict) else None


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
    An existing file must be one this tool wrote (`first_key` is the key its lines start with);
    a device or FIFO (`-o /dev/stdout`) is only written to, never read, repaired or compacted.
    """

    def __init__(self, path: Path | None, stream: TextIO | None = None, *, truncate: bool = False,
                 first_key: str = "source"):  # fmt: skip
        self.path = path
        self._handle: TextIO | None = None
        #: a regular file (repaired, resumed from and compacted), not a device or a pipe
        self.regular = False
        if path is not None:
            check_ours(path, first_key)
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("a", encoding="utf-8")
            self.regular = is_regular(path)
            if self.regular:
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
        if self.path is None or self._handle is None or not self.regular:
            return 0
        self._handle.flush()
        return compact_jsonl(self.path)

    def write(self, record: dict[str, Any]) -> None:
        """Append one record as a line and flush it."""
        if self._handle is None:
            return
        # allow_nan=False: NaN or Infinity would make the line invalid JSON for every reader.
        line = json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"
        try:
            self._handle.write(line)
            self._handle.flush()
        except BrokenPipeError:
            raise  # stdout closed by its reader (`| head`): not a failure of ours
        except OSError as exc:
            raise OutputError(f"{self.path or 'stdout'}: cannot write ({exc.strerror or exc})") from exc

    def close(self) -> None:
        """Close the file (which releases the lock)."""
        if self.path is not None and self._handle is not None:
            try:
                self._handle.close()
            except OSError:  # the buffered rest of a line that could not be written
                pass
        self._handle = None

