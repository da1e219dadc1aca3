"""`extractor cache ...` commands: round trip through export/import, and a clear error on a bad cache."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from extractor.cache import ResponseCache


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "extractor", "cache", *args], capture_output=True, text=True, timeout=60)


def test_export_import_round_trip_and_stats(tmp_path: Path) -> None:
    source = ResponseCache(tmp_path / "a")
    source.set("k1", {"pass": "events", "output": {"events": []}})
    source.set("k2", {"pass": "actors", "output": {"actors": []}})
    source.close()
    export = tmp_path / "replay.jsonl"
    assert _cli("export", str(export), "--cache-dir", str(tmp_path / "a")).returncode == 0
    assert len(export.read_text().splitlines()) == 2
    assert _cli("import", str(export), "--cache-dir", str(tmp_path / "b")).returncode == 0
    stats = _cli("stats", "--cache-dir", str(tmp_path / "b"))
    assert stats.returncode == 0 and "entries: 2" in stats.stdout
    assert ResponseCache(tmp_path / "b").get("k1")["output"] == {"events": []}


def test_corrupt_cache_database_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "cache.db").write_text("this is not a database, " * 20)
    result = _cli("stats", "--cache-dir", str(tmp_path))
    assert result.returncode == 2
    assert "cannot be opened" in result.stderr and "Traceback" not in result.stderr
