"""Round 2, item 10: what used to end in a traceback, a wrong exit code or a split line now
ends in one clear line (docs/RELIABILITY.md). Each test fails on the code before its fix."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from extractor.cache import ResponseCache
from tests.support.cli import cli_env, run_cli
from tests.support.fake_server import FakeOpenAIServer

ARTICLE = "Soldiers of the Malian Army clashed with the Wagner Group near Gao on Monday. Reuters reported it.\n"


@pytest.fixture
def server():
    with FakeOpenAIServer(max_stall=30) as fake:
        yield fake


def fake_args(server: FakeOpenAIServer, *extra: str) -> list[str]:
    return ["--model", "openai/fake", "--base-url", server.url, "--timeout", "2", *extra]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_a_full_disk_names_the_output_and_still_prints_the_summary(server: FakeOpenAIServer, tmp_path: Path) -> None:
    doc = tmp_path / "a.txt"
    doc.write_text(ARTICLE)
    proc = run_cli("extract", str(doc), "-o", "/dev/full", "--no-cache", *fake_args(server), env=cli_env(tmp_path / "home"))
    assert proc.returncode == 1, proc.stderr
    (line,) = error_lines(proc.stderr)
    assert line.startswith("error: /dev/full: cannot write (No space left on device)")
    assert "0 ok, 0 skipped (already in output: same file, content, model and prompt), 0 failed" in proc.stderr
    assert "Traceback" not in proc.stderr and "OSError" not in proc.stderr


def test_control_characters_in_a_file_name_never_reach_the_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "evil\x1b[31mred.txt").write_text("")
    (folder / "two\nlines.txt").write_text("")
    proc = run_cli("extract", str(folder), "-o", str(tmp_path / "out.jsonl"), "--replay", "--cache-dir",
                   str(tmp_path / "cache"), env=cli_env(tmp_path / "home"))  # fmt: skip
    assert proc.returncode == 1
    assert "\x1b" not in proc.stderr
    lines = error_lines(proc.stderr)
    assert len(lines) == 2, proc.stderr  # one line each: the newline did not split the error
    assert any("evil\\x1b[31mred.txt: empty or whitespace-only" in line for line in lines)
    assert any("two\\x0alines.txt: empty or whitespace-only" in line for line in lines)


def test_markup_and_escapes_in_records_are_shown_as_text_by_pretty(server: FakeOpenAIServer, tmp_path: Path) -> None:
    doc = tmp_path / "a.txt"
    doc.write_text("Soldiers of the [bold]Malian[/] Army\x1b[2J clashed with the Wagner Group near Gao on Monday.\n")
    proc = run_cli("extract", str(doc), "--pretty", "--no-cache", *fake_args(server), env=cli_env(tmp_path / "home"))
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[2J" not in proc.stdout
    assert "Soldiers of the [bold]Malian[/] Army\\x1b[2J clashed" in proc.stdout  # brackets as text, escape shown


def test_an_uncreatable_cache_directory_is_skipped_with_a_warning(server: FakeOpenAIServer, tmp_path: Path) -> None:
    doc = tmp_path / "a.txt"
    doc.write_text(ARTICLE)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    proc = run_cli("extract", str(doc), "--cache-dir", str(blocker / "cache"), *fake_args(server),
                   env=cli_env(tmp_path / "home"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "warning: response cache" in proc.stderr and "running without the cache" in proc.stderr
    assert json.loads(proc.stdout)["actors"]


def test_cache_import_is_all_or_nothing_and_refuses_deep_nesting(tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    good = json.dumps({"key": "k1", "output": {"actors": []}})
    export.write_text(f"{good}\n{good.replace('k1', 'k2')}\n" + '{"key": "k3", "output": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    cache_dir = tmp_path / "cache"
    proc = run_cli("cache", "import", str(export), "--cache-dir", str(cache_dir), env=cli_env(tmp_path / "home"))
    assert proc.returncode == 2
    (line,) = error_lines(proc.stderr)
    assert f"{export}:3: not a cache export line (JSON nested too deeply)" in line
    cache = ResponseCache(cache_dir)
    try:
        assert cache.stats().entries == 0, "nothing stored before the bad line"
    finally:
        cache.close()


def test_cache_import_refuses_an_enormous_line_without_reading_it_whole(tmp_path: Path, monkeypatch) -> None:
    import extractor.cache as cache_module

    monkeypatch.setattr(cache_module, "MAX_IMPORT_LINE", 1000)
    export = tmp_path / "export.jsonl"
    export.write_text(json.dumps({"key": "k", "output": {"text": "x" * 5000}}) + "\n")
    cache = ResponseCache(tmp_path / "cache")
    try:
        with pytest.raises(cache_module.CacheError, match=r"export.jsonl:1: not a cache export line \(over 1,000 characters\)"):
            cache.import_jsonl(export)
    finally:
        cache.close()


@pytest.mark.parametrize("where", ["directory", "missing-parent", "read-only"])
def test_cache_export_to_an_unwritable_path_is_one_line(tmp_path: Path, where: str) -> None:
    target = {"directory": tmp_path, "missing-parent": tmp_path / "no" / "such" / "x.jsonl",
              "read-only": Path("/sys/x.jsonl")}[where]  # fmt: skip (sysfs: not even root creates files)
    proc = run_cli("cache", "export", str(target), "--cache-dir", str(tmp_path / "cache"), env=cli_env(tmp_path / "home"))
    assert proc.returncode == 2, proc.stderr
    (line,) = error_lines(proc.stderr)
    assert str(target) in line and "Traceback" not in proc.stderr


def test_a_deeply_nested_gold_file_is_one_line(tmp_path: Path) -> None:
    case = tmp_path / "fixtures" / "deep"
    case.mkdir(parents=True)
    (case / "article.txt").write_text(ARTICLE)
    (case / "gold.json").write_text("[" * 100_000 + "]" * 100_000)
    proc = run_cli("eval", "--fixtures", str(tmp_path / "fixtures"), "--replay", "--cache-dir", str(tmp_path / "cache"),
                   env=cli_env(tmp_path / "home"))  # fmt: skip
    assert proc.returncode != 0
    assert "nested too deeply" in proc.stderr and "RecursionError" not in proc.stderr and "Traceback" not in proc.stderr
    assert os.path.join("deep", "gold.json") in proc.stderr
