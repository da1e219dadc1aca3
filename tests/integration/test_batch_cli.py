"""Batch runs through the real CLI: resumable output, kill -9 and resume, exit codes,
per-document failure isolation, and a response cache shared and survived.

All runs talk to tests.support.fake_server on loopback with a dummy key; HOME, the
model store and the cache live under tmp_path.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from extractor.batch import inputs as batch_inputs
from extractor.batch import jsonl as batch_jsonl
from extractor.cache import ResponseCache
from extractor.schemas import Extraction
from tests.support.cli import cli_command, cli_env, run_cli
from tests.support.fake_server import Fault, FakeOpenAIServer

PLACES = ["Gao", "Kidal", "Mopti", "Timbuktu", "Menaka", "Segou", "Kayes", "Sikasso", "Bamako", "Tessalit", "Ansongo", "Djenne"]


@pytest.fixture
def server():
    with FakeOpenAIServer(max_stall=30) as fake:
        yield fake


def write_docs(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"doc{n:02d}.txt"
        path.write_text(
            f"Soldiers of the Malian Army clashed with the Wagner Group near {PLACES[n % len(PLACES)]} on day {n}. "
            f"Reuters reported the fighting.\n",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def base_args(server: FakeOpenAIServer, tmp_path: Path, *extra: str) -> list[str]:
    return ["--model", "openai/fake", "--base-url", server.url, "--timeout", "2",
            "--cache-dir", str(tmp_path / "cache"), *extra]


def complete_lines(path: Path) -> list[dict]:
    """Parse every line; a line that is not JSON fails the test (no torn lines allowed)."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n"), "output ends in a torn line"
    return [json.loads(line) for line in text.splitlines()]


def valid_lines(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.endswith("\n"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def records(path: Path) -> dict[str, dict]:
    return {r["source"]: {k: r[k] for k in ("actors", "events", "sanctions")} for r in complete_lines(path)}


# ---------------------------------------------------------------------------- resume after kill -9
def test_kill9_mid_run_then_resume_completes_every_document_exactly_once(server: FakeOpenAIServer, tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", 12)
    out = tmp_path / "out.jsonl"
    server.latency_ms = 300
    env = cli_env(tmp_path / "home")
    args = ["extract", str(tmp_path / "docs"), "-o", str(out), *base_args(server, tmp_path, "--concurrency", "1")]

    with (tmp_path / "run1.err").open("w") as stderr:
        process = subprocess.Popen(cli_command(*args), env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None:
                if out.exists() and out.read_text(encoding="utf-8").count("\n") >= 2:
                    break
                time.sleep(0.05)
            assert process.poll() is None, "the run finished before it could be killed"
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL

    done_before = valid_lines(out)
    assert 2 <= len(done_before) < 12
    # simulate a crash in the middle of a write: a torn, unterminated last line
    with out.open("a", encoding="utf-8") as handle:
        handle.write('{"source": "%s", "actors": [{"id": "a1", "na' % docs[-1])

    resumed = run_cli(*args, env=env, timeout=90)
    assert resumed.returncode == 0, resumed.stderr
    lines = complete_lines(out)  # every line is valid JSON, the torn one is gone
    assert sorted(r["source"] for r in lines) == sorted(str(p) for p in docs)  # each exactly once
    for line in lines:
        Extraction.model_validate(line)
    skipped = len(done_before)
    assert f"{12 - skipped} ok, {skipped} skipped (already in output: same file, content, model and prompt), 0 failed" in resumed.stderr
    assert "Traceback" not in resumed.stderr

    # --force redoes every document, and the output still holds each exactly once
    forced = run_cli(*args, "--force", env=env, timeout=90)
    assert forced.returncode == 0, forced.stderr
    assert "12 ok, 0 skipped (already in output: same file, content, model and prompt), 0 failed" in forced.stderr
    lines = complete_lines(out)
    assert sorted(r["source"] for r in lines) == sorted(str(p) for p in docs)


def test_rerun_skips_done_documents_and_redoes_edited_ones(server: FakeOpenAIServer, tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", 3)
    out = tmp_path / "out.jsonl"
    env = cli_env(tmp_path / "home")
    args = ["extract", str(tmp_path / "docs"), "-o", str(out), *base_args(server, tmp_path)]
    first = run_cli(*args, env=env)
    assert first.returncode == 0, first.stderr  # exit 0: every document succeeded
    assert "3 ok, 0 skipped (already in output: same file, content, model and prompt), 0 failed" in first.stderr
    assert first.stdout == ""  # with -o the results go to the file only

    docs[1].write_text("The Wagner Group withdrew from Kidal on Friday. Residents confirmed it.\n", encoding="utf-8")
    edited = run_cli(*args, env=env)
    assert edited.returncode == 0, edited.stderr
    assert "1 ok, 2 skipped (already in output: same file, content, model and prompt), 0 failed" in edited.stderr
    # the cost line counts what this run extracted, not what it skipped
    this_run = [line for line in edited.stderr.splitlines() if line.startswith("this run: ")]
    first_run = [line for line in first.stderr.splitlines() if line.startswith("this run: ")]
    assert first_run[0].startswith("this run: 3 documents · ") and this_run[0].startswith("this run: 1 document · ")
    assert " model calls · " in this_run[0] and " s wall" in this_run[0]
    lines = complete_lines(out)
    assert sorted(r["source"] for r in lines) == sorted(str(p) for p in docs)  # replaced, not duplicated
    (new,) = [r for r in lines if r["source"] == str(docs[1])]
    assert new["events"][0]["evidence"]["quote"] == "The Wagner Group withdrew from Kidal on Friday."


# ---------------------------------------------------------------------------- exit codes and isolation
def test_a_failing_document_is_isolated_recorded_and_exits_1(server: FakeOpenAIServer, tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", 4)
    bad = docs[2]
    server.push(*[Fault("500", doc="day 2.") for _ in range(12)])
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    env = cli_env(tmp_path / "home")
    args = ["extract", str(tmp_path / "docs"), "-o", str(out), "--errors", str(errors),
            *base_args(server, tmp_path, "--retries", "2", "--max-reasks", "0")]
    proc = run_cli(*args, env=env)
    assert proc.returncode == 1, proc.stderr
    assert sorted(r["source"] for r in complete_lines(out)) == sorted(str(p) for p in docs if p != bad)
    (record,) = complete_lines(errors)
    assert record["path"] == str(bad)
    assert record["error_class"] == "InternalServerError"
    assert record["attempts"] == 2
    assert record["message"].startswith(f"{bad}: ")
    assert record["input_sha256"] == batch_inputs.read_document(str(bad)).sha256
    assert f"3 ok, 0 skipped (already in output: same file, content, model and prompt), 1 failed (details in {errors})" in proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.startswith("error:")] == [f"error: {record['message']}"]

    # the server recovers: the rerun does only the failed document, and the errors file
    # describes the latest run (now empty)
    server.clear_faults()
    rerun = run_cli(*args, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert "1 ok, 3 skipped (already in output: same file, content, model and prompt), 0 failed" in rerun.stderr
    assert sorted(r["source"] for r in complete_lines(out)) == sorted(str(p) for p in docs)
    assert complete_lines(errors) == []


def test_a_second_run_cannot_write_the_same_output(server: FakeOpenAIServer, tmp_path: Path) -> None:
    write_docs(tmp_path / "docs", 6)
    out = tmp_path / "out.jsonl"
    env = cli_env(tmp_path / "home")
    args = ["extract", str(tmp_path / "docs"), "-o", str(out),
            *base_args(server, tmp_path, "--concurrency", "1", "--timeout", "20")]
    first = subprocess.Popen(cli_command(*args), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and first.poll() is None and not (out.exists() and out.stat().st_size):
            time.sleep(0.05)
        server.latency_ms = 5000  # keep the first run busy while the second one starts
        second = run_cli(*args, env=env)
        server.latency_ms = 0
        assert second.returncode == 2, second.stderr
        assert "another extractor run is writing this file" in second.stderr
        _, first_err = first.communicate(timeout=90)
    finally:
        first.kill()
    assert first.returncode == 0, first_err
    assert len(complete_lines(out)) == 6


def test_ctrl_c_exits_130_and_keeps_finished_documents(server: FakeOpenAIServer, tmp_path: Path) -> None:
    write_docs(tmp_path / "docs", 6)
    out = tmp_path / "out.jsonl"
    server.latency_ms = 400
    env = cli_env(tmp_path / "home")
    args = ["extract", str(tmp_path / "docs"), "-o", str(out), *base_args(server, tmp_path, "--concurrency", "1")]
    # A shell that starts the test run in the background (`make test &`) ignores SIGINT, and the
    # child would inherit that: give it the default disposition, as in an interactive terminal.
    process = subprocess.Popen(cli_command(*args), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None and not (out.exists() and out.stat().st_size):
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "interrupted: finished documents are in the output; rerun to resume" in stderr
    assert "Traceback" not in stderr
    done = complete_lines(out)
    assert 1 <= len(done) < 6


# ---------------------------------------------------------------------------- the response cache
def test_corrupt_cache_entries_are_misses_and_get_overwritten(server: FakeOpenAIServer, tmp_path: Path) -> None:
    write_docs(tmp_path / "docs", 2)
    env = cli_env(tmp_path / "home")

    def run(name: str) -> Path:
        out = tmp_path / name
        proc = run_cli("extract", str(tmp_path / "docs"), "-o", str(out), *base_args(server, tmp_path), env=env)
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
        return out

    first = run("first.jsonl")
    assert len(server.completions()) == 6
    with sqlite3.connect(tmp_path / "cache" / "cache.db") as db:
        assert db.execute("UPDATE Cache SET value = '{not json at all'").rowcount == 6

    server.clear_requests()
    second = run("second.jsonl")
    assert len(server.completions()) == 6  # every corrupt entry was a miss...
    assert records(second) == records(first)  # ...and the results are the same

    cache = ResponseCache(tmp_path / "cache")  # ...and overwritten with good entries
    try:
        assert len(cache) == 6 and all(cache.get(key) is not None for key in list(cache._cache.iterkeys()))
        assert cache.errors == 0
    finally:
        cache.close()


def test_corrupt_cache_database_is_moved_aside(server: FakeOpenAIServer, tmp_path: Path) -> None:
    write_docs(tmp_path / "docs", 1)
    env = cli_env(tmp_path / "home")
    args = ["extract", str(tmp_path / "docs"), *base_args(server, tmp_path)]
    assert run_cli(*args, env=env).returncode == 0
    (tmp_path / "cache" / "cache.db").write_bytes(b"this is not a sqlite database" * 100)

    proc = run_cli(*args, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "warning: response cache" in proc.stderr and "corrupt" in proc.stderr
    assert list((tmp_path / "cache").glob("cache.db.corrupt-*"))

    cache = ResponseCache(tmp_path / "cache")  # the new cache holds the run's 3 passes
    try:
        assert len(list(cache.items())) == 3
    finally:
        cache.close()


def test_concurrent_processes_share_one_cache_directory(server: FakeOpenAIServer, tmp_path: Path) -> None:
    write_docs(tmp_path / "docs", 6)
    server.latency_ms = 100
    env = cli_env(tmp_path / "home")
    processes = [
        subprocess.Popen(
            cli_command("extract", str(tmp_path / "docs"), "-o", str(tmp_path / f"out{n}.jsonl"),
                        *base_args(server, tmp_path, "--concurrency", "2")),
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        for n in range(2)
    ]
    try:
        errs = [p.communicate(timeout=120)[1] for p in processes]
    finally:
        for p in processes:
            p.kill()
    assert [p.returncode for p in processes] == [0, 0], errs
    assert records(tmp_path / "out0.jsonl") == records(tmp_path / "out1.jsonl")
    assert len(records(tmp_path / "out0.jsonl")) == 6

    cache = ResponseCache(tmp_path / "cache")
    try:
        export = tmp_path / "export.jsonl"
        assert cache.export_jsonl(export) == 18  # 6 documents x 3 passes, every entry readable
        assert cache.errors == 0
        with sqlite3.connect(tmp_path / "cache" / "cache.db") as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        cache.close()
    assert len({e["key"] for e in complete_lines(export)}) == 18


# ---------------------------------------------------------------------------- the JSONL helpers
def test_repair_cuts_only_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text('{"a": 1}\n{"b": 2}\n{"c": ', encoding="utf-8")
    assert batch_jsonl.repair_jsonl(path) == len('{"c": ')
    assert path.read_text() == '{"a": 1}\n{"b": 2}\n'
    path.write_text('{"a": 1}\n{"b": \n', encoding="utf-8")  # terminated but not JSON
    batch_jsonl.repair_jsonl(path)
    assert path.read_text() == '{"a": 1}\n'
    assert batch_jsonl.repair_jsonl(path) == 0


def test_compact_keeps_the_newest_line_per_source(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    lines = [{"source": "a", "v": 1}, {"source": "b", "v": 1}, {"source": "a", "v": 2}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert batch_jsonl.compact_jsonl(path) == 1
    assert complete_lines(path) == [{"source": "b", "v": 1}, {"source": "a", "v": 2}]
    assert batch_jsonl.compact_jsonl(path) == 0


def test_resume_is_keyed_on_the_file_its_content_the_model_and_the_prompt(server: FakeOpenAIServer, tmp_path: Path) -> None:
    """Round 2, item 11: one file typed three ways is one document; another model or prompt
    set re-extracts it instead of keeping the old result (docs/RELIABILITY.md, Resume)."""
    (doc,) = write_docs(tmp_path / "d", 1)
    out = tmp_path / "out.jsonl"
    env = cli_env(tmp_path / "home")

    def run(path: str, *extra: str):
        proc = run_cli("extract", path, "-o", str(out), *base_args(server, tmp_path), *extra, env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        return proc.stderr

    assert "1 ok, 0 skipped" in run("d/doc00.txt")
    assert "0 ok, 1 skipped" in run(str(doc.resolve()))
    assert "0 ok, 1 skipped" in run("d/../d/doc00.txt")
    assert "1 ok, 0 skipped" in run("d/doc00.txt", "--model", "openai/another-model")
    assert "0 ok, 1 skipped" in run("d/doc00.txt", "--model", "openai/another-model")
    assert "1 ok, 0 skipped" in run("d/doc00.txt", "--model", "openai/another-model", "--prompt-version", "v3")
    lines = complete_lines(out)
    assert len(lines) == 1, "one line per document: the newest result replaced the older"
    assert lines[0]["meta"]["backend"].startswith("openai:another-model@")
    assert lines[0]["meta"]["prompt_version"].startswith("v3+")
    assert lines[0]["meta"]["input_path"] == str(doc.resolve())


def test_shards_split_a_corpus_exactly_once_wherever_it_lies(server: FakeOpenAIServer, tmp_path: Path) -> None:
    """--shard I/N: N runs cover every file exactly once; the choice depends on the path inside
    the input directory only, so a copy of the corpus elsewhere splits the same way."""
    write_docs(tmp_path / "corpus" / "sub", 12)
    taken: list[set[str]] = []
    for index in (1, 2, 3):
        out = tmp_path / f"shard{index}.jsonl"
        proc = run_cli("extract", str(tmp_path / "corpus"), "-o", str(out), "--shard", f"{index}/3",
                       *base_args(server, tmp_path), env=cli_env(tmp_path / "home"))  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        taken.append({Path(r["source"]).name for r in complete_lines(out)})
    assert sum(len(t) for t in taken) == 12 and set.union(*taken) == {f"doc{n:02d}.txt" for n in range(12)}
    assert all(taken), "a hash spreads 12 files over 3 shards"
    copy = tmp_path / "elsewhere" / "corpus-copy"
    (copy / "sub").mkdir(parents=True)
    for doc in (tmp_path / "corpus" / "sub").iterdir():
        (copy / "sub" / doc.name).write_bytes(doc.read_bytes())
    out = tmp_path / "copy2.jsonl"
    proc = run_cli("extract", str(copy), "-o", str(out), "--shard", "2/3", *base_args(server, tmp_path), env=cli_env(tmp_path / "home"))
    assert proc.returncode == 0, proc.stderr
    assert {Path(r["source"]).name for r in complete_lines(out)} == taken[1]
    bad = run_cli("extract", str(copy), "--shard", "4/3", *base_args(server, tmp_path), env=cli_env(tmp_path / "home"))
    assert bad.returncode == 2 and "--shard '4/3': expected I/N" in bad.stderr


def test_jsonl_input_carries_each_documents_own_date_and_resumes(server: FakeOpenAIServer, tmp_path: Path) -> None:
    docs = tmp_path / "docs.jsonl"
    lines = [
        {"id": "a1", "url": "https://example.org/a1", "published": "2024-05-06",
         "text": "Soldiers of the Malian Army clashed with the Wagner Group near Gao on Monday."},
        {"text": ""},
        {"id": 7, "published": "06/05/2024", "text": "Protesters marched in Bamako on Friday."},
        {"id": 8, "text": "Protesters of the Teachers Union marched in Bamako on Friday."},
    ]  # fmt: skip
    docs.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    args = ["extract", str(docs), "--input-format", "jsonl", "--published", "2024-01-01", "-o", str(out),
            *base_args(server, tmp_path)]  # fmt: skip
    first = run_cli(*args, env=cli_env(tmp_path / "home"))
    assert first.returncode == 1, first.stderr
    assert f"error: {docs}:2: no 'text' (a non-empty string)" in first.stderr
    assert f"error: {docs}:3: 'published' '06/05/2024' is not a YYYY-MM-DD date" in first.stderr
    assert "2 ok, 0 skipped" in first.stderr
    by_source = {r["source"]: r for r in complete_lines(out)}
    assert by_source["https://example.org/a1"]["meta"]["published"] == "2024-05-06"  # its own date
    assert by_source["8"]["meta"]["published"] == "2024-01-01"  # the run's date fills in
    assert by_source["8"]["meta"]["input_path"] == f"{docs.resolve()}#8"
    again = run_cli(*args, env=cli_env(tmp_path / "home"))
    assert "0 ok, 2 skipped" in again.stderr
