"""On-disk response cache (diskcache), one entry per successful model pass.

Key: sha256 over the backend identity (GGUF sha256, or provider+model+endpoint; never a
key), the hash of the prompt files the pass renders (`PromptSet.pass_id`), the draft schema
hash, the generation params, the pass name, the text hash and the rendered messages. Keys of
format 1 covered the whole prompt version instead; an entry stored under one is still found
and is moved to its format-2 key. Values are JSON text, not pickles,
so a cache can be exported for review and imported elsewhere (`extractor cache export`).

Only validated outputs are stored. A corrupt or unreadable entry is a miss, is deleted and
is overwritten by the next success; the cache never crashes a run. diskcache is SQLite
backed, so processes sharing a directory are safe.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diskcache

from extractor.config import cache_root
from extractor.errors import CacheError
from extractor.secrets import scrub_registered

log = logging.getLogger(__name__)
FORMAT_VERSION = 2


def default_cache_dir() -> Path:
    """$EXTRACTOR_CACHE_DIR, else <cache root>/responses."""
    return Path(os.environ.get("EXTRACTOR_CACHE_DIR") or cache_root() / "responses")


def sha256_text(text: str) -> str:
    """Hex sha256 of UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_key(
    *,
    identity: str,
    prompt_id: str,
    schema_hash: str,
    params: dict[str, Any],
    pass_name: str,
    text: str,
    messages: list[dict[str, str]],
    format_version: int = FORMAT_VERSION,
) -> str:
    """The cache key of one pass request (no secret enters it). `prompt_id` is the pass's
    prompt id (format 2) or the whole version's (format 1, the keys of older caches, still read)."""
    payload = {
        "format": format_version,
        "identity": identity,
        "prompt": prompt_id,
        "schema": schema_hash,
        "params": params,
        "pass": pass_name,
        "text_sha256": sha256_text(text),
        "messages_sha256": sha256_text(json.dumps(messages, sort_keys=True, ensure_ascii=False)),
    }
    return sha256_text(json.dumps(payload, sort_keys=True))


@dataclass
class CacheStats:
    """What `extractor cache stats` shows."""

    directory: str
    entries: int
    bytes_on_disk: int
    hits: int
    misses: int
    errors: int


class ResponseCache:
    """Validated model answers on disk, keyed by `make_key`; raises `CacheError` when it cannot open."""

    def __init__(self, directory: Path | str | None = None, *, size_limit: int = 2**31):
        self.directory = Path(directory) if directory else default_cache_dir()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._cache = diskcache.Cache(str(self.directory), size_limit=size_limit, timeout=30)
        except (sqlite3.DatabaseError, OSError) as exc:  # permissions, a file in the path, read-only disk
            raise CacheError(str(exc)) from exc
        self.hits = 0
        self.misses = 0
        self.errors = 0

    def get(self, key: str) -> dict[str, Any] | None:
        """The entry, or None (a corrupt entry is a miss and is deleted)."""
        try:
            raw = self._cache.get(key, default=None)
        except Exception as exc:  # corrupt DB page, missing value file, unpickling error...
            self._drop(key, exc)
            return None
        if raw is None:
            self.misses += 1
            return None
        try:
            value = json.loads(raw)
            if not isinstance(value, dict) or "output" not in value:
                raise ValueError("entry has no output")
        except (TypeError, ValueError) as exc:
            self._drop(key, exc)
            return None
        self.hits += 1
        return value

    def set(self, key: str, value: dict[str, Any]) -> None:
        """Store an entry; a failed write is logged, never raised."""
        entry = {"stored_at": time.time(), **value}
        try:
            # A key a server echoed into an answer must not be kept (nor exported): registered
            # secrets are removed, nothing else of the answer changes.
            self._cache.set(key, scrub_registered(json.dumps(entry, ensure_ascii=False, sort_keys=True)))
        except Exception as exc:  # a full disk or read-only cache must not fail the extraction
            self.errors += 1
            log.warning("cache write failed (%s): %s", self.directory, exc)

    def move(self, old: str, new: str, value: dict[str, Any]) -> None:
        """Store `value` under `new` and remove `old` (a format-1 entry re-keyed); never raises."""
        self.set(new, value)
        try:
            self._cache.delete(old)
        except Exception as exc:  # noqa: BLE001 - the copy under the new key is what matters
            log.warning("cache entry %s not removed after re-keying: %s", old[:12], exc)

    def _drop(self, key: str, exc: Exception) -> None:
        self.errors += 1
        self.misses += 1
        log.warning("cache entry %s unreadable, treated as a miss: %s", key[:12], exc)
        try:
            self._cache.delete(key)
        except Exception:
            pass

    def __len__(self) -> int:
        return len(self._cache)

    def stats(self) -> CacheStats:
        """Entries, bytes and this process's hit/miss/error counts."""
        return CacheStats(
            directory=str(self.directory),
            entries=len(self._cache),
            bytes_on_disk=int(self._cache.volume()),
            hits=self.hits,
            misses=self.misses,
            errors=self.errors,
        )

    def clear(self) -> int:
        """Delete every entry; return how many there were."""
        return int(self._cache.clear())

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(key, entry) for every readable entry, sorted by key."""
        for key in sorted(self._cache.iterkeys()):
            value = self.get(key)
            if value is not None:
                yield key, value

    def export_jsonl(self, path: Path) -> int:
        """Write every entry as one JSON line, sorted by key, for review and replay."""
        count = 0
        with path.open("w", encoding="utf-8") as out:
            for key, value in self.items():
                value = {k: v for k, v in value.items() if k != "stored_at"}
                out.write(json.dumps({"key": key, **value}, ensure_ascii=False, sort_keys=True) + "\n")
                count += 1
        return count

    def import_jsonl(self, path: Path) -> int:
        """Store every line of an export; CacheError names the first malformed line.

        All or nothing: every line is checked before the first is stored, so a bad line
        leaves the cache as it was. A line is read at most `MAX_IMPORT_LINE` characters at a
        time, so one enormous line cannot exhaust memory."""
        count = sum(1 for _ in _export_entries(path))  # check everything first
        for key, entry in _export_entries(path):
            self.set(key, entry)
        return count

    def close(self) -> None:
        """Close the database."""
        self._cache.close()


#: characters of one `cache import` line (an entry is a model answer: kilobytes)
MAX_IMPORT_LINE = 16 * 1024 * 1024


def _export_entries(path: Path):
    """(key, entry) of each line of a cache export; CacheError names the first bad line."""
    with path.open(encoding="utf-8", errors="replace") as handle:  # bytes that are not UTF-8 fail as JSON, by line
        number = 0
        while True:
            line = handle.readline(MAX_IMPORT_LINE + 1)
            if not line:
                return
            number += 1
            if len(line) > MAX_IMPORT_LINE:
                raise CacheError(f"{path}:{number}: not a cache export line (over {MAX_IMPORT_LINE:,} characters)")
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict):
                    raise ValueError("not a JSON object")
                key = entry.pop("key")
                if not isinstance(key, str) or "output" not in entry:
                    raise ValueError("needs 'key' and 'output'")
            except RecursionError:
                raise CacheError(f"{path}:{number}: not a cache export line (JSON nested too deeply)") from None
            except (ValueError, KeyError) as exc:
                raise CacheError(f"{path}:{number}: not a cache export line ({exc})") from exc
            yield key, entry


def open_or_recover(directory: Path | str | None) -> tuple[ResponseCache | None, str | None]:
    """A response cache that cannot be opened never stops a run.

    A corrupt database file ("file is not a database") is moved aside and a new cache is
    started; a cache that cannot be opened at all (permissions, read-only disk) is skipped.
    Returns the cache (None when skipped) and a warning for the user (None when all was well).
    """
    try:
        return ResponseCache(directory), None
    except CacheError as exc:
        cause = exc.__cause__
    folder = Path(directory) if directory else default_cache_dir()
    database = folder / "cache.db"
    corrupt = isinstance(cause, sqlite3.DatabaseError) and not isinstance(cause, sqlite3.OperationalError)
    if corrupt and database.is_file():
        stamp = time.strftime("%Y%m%dT%H%M%S")
        try:
            for suffix in ("", "-wal", "-shm"):
                part = folder / f"cache.db{suffix}"
                if part.exists():
                    part.rename(folder / f"cache.db{suffix}.corrupt-{stamp}")
            warning = f"response cache {database} is corrupt ({cause}); moved aside as *.corrupt-{stamp}, starting a new one"
            return ResponseCache(directory), warning
        except (OSError, CacheError):
            pass
    return None, f"response cache {folder} cannot be used ({cause}); running without the cache"
