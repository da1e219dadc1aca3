"""Server faults against a real HTTP server on loopback (tests.support.fake_server).

Every fault kind of the issue is injected into the OpenAI-compatible server the backend
talks to, and the outcome is asserted: transient faults are retried (Retry-After honoured)
and the document succeeds; persistent ones fail after bounded attempts with an error
record; invalid output is re-asked; a reply that never ends is cut by the per-attempt
timeout; failed responses are never cached.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from extractor.cache import ResponseCache
from extractor.pipeline import ExtractionError, Extractor
from extractor.schemas import Extraction
from tests.support.cli import DUMMY_KEY, cli_env, run_cli
from tests.support.fake_server import Fault, FakeOpenAIServer

ARTICLE = (
    "Fighters of the Islamic State attacked an army post near Raqqa on Sunday, killing four soldiers. "
    "The Syrian Observatory for Human Rights reported the clash.\n"
)
SANCTIONS_ARTICLE = (
    "The European Union imposed sanctions on Rosneft on Monday. "
    "Officials in Brussels said the asset freeze takes effect immediately.\n"
)


@pytest.fixture
def server():
    with FakeOpenAIServer(max_stall=30) as fake:
        yield fake


def make_extractor(server: FakeOpenAIServer, *, timeout: float = 2.0, attempts: int = 4, max_reasks: int = 2,
                   cache_dir: Path | None = None) -> Extractor:
    extractor = Extractor(
        "openai/fake",
        base_url=server.url,
        api_key=DUMMY_KEY,
        timeout=timeout,
        max_reasks=max_reasks,
        cache=cache_dir is not None,
        cache_dir=str(cache_dir) if cache_dir else None,
        retries=attempts,
    )
    return extractor


def pass_stat(result: Extraction, name: str):
    return next(p for p in result.meta.passes if p.name == name)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------------------- the server itself
def test_fake_server_answers_validate_and_ground(server: FakeOpenAIServer) -> None:
    with make_extractor(server) as extractor:
        result = extractor.extract(SANCTIONS_ARTICLE, source="s.txt")
    assert {a.name for a in result.actors} >= {"European Union", "Rosneft"}
    assert result.events and result.events[0].grounded
    assert result.sanctions and result.sanctions[0].target == "Rosneft" and result.sanctions[0].grounded
    assert all(r.grounded for r in result.records())
    assert result.meta.usage.prompt_tokens > 0 and result.meta.usage.completion_tokens > 0
    seen = server.completions()
    assert sorted(r.tool_name for r in seen) == ["ActorsAnswer", "EventsAnswer", "SanctionsAnswer"]
    for request in seen:  # instructor TOOLS mode: one tool, forced
        assert request.body["tool_choice"]["function"]["name"] == request.tool_name
        assert request.headers["authorization"] == f"Bearer {DUMMY_KEY}"


def test_fake_server_runs_as_a_program() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_server", "--port", "0", "--latency-ms", "200", "--fault", "503"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert "fake OpenAI server on http://127.0.0.1:" in line, line + process.stderr.read()
        url = line.split(" on ", 1)[1].strip()
        body = json.dumps(
            {
                "model": "fake",
                "messages": [{"role": "user", "content": f'Article:\n"""\n{ARTICLE}"""\n\nTask: ACTORS.'}],
                "tools": [{"type": "function", "function": {"name": "ActorsAnswer", "parameters": {}}}],
                "tool_choice": {"type": "function", "function": {"name": "ActorsAnswer"}},
            }
        ).encode()

        def post() -> tuple[int, dict, float]:
            started = time.monotonic()
            request = urllib.request.Request(f"{url}/chat/completions", data=body, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, json.loads(response.read()), time.monotonic() - started
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read()), time.monotonic() - started

        status, payload, _ = post()
        assert status == 503 and "error" in payload
        status, payload, seconds = post()
        assert status == 200 and seconds >= 0.19
        arguments = json.loads(payload["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])
        assert {a["name"] for a in arguments["actors"]} >= {"Islamic State", "Raqqa"}
        with urllib.request.urlopen(url.rsplit("/v1", 1)[0] + "/_control/requests", timeout=10) as response:
            assert [r["fault"] for r in json.loads(response.read())] == ["503", "ok"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


# ---------------------------------------------------------------------------- transient faults
TRANSIENT = ["429", "500", "502", "503", "reset", "hang", "truncated_body", "never_ending"]
# A 200 that is not a completion (or is over the size bound), and a Retry-After that is not a
# number: retried, not re-asked.
HOSTILE = ["error_200", "empty_choices", "non_json", "429_bad_retry", "huge_body", "huge_declared"]


@pytest.mark.parametrize("kind", TRANSIENT + HOSTILE)
def test_transient_fault_is_retried_and_document_succeeds(server: FakeOpenAIServer, kind: str) -> None:
    server.push(Fault(kind, retry_after=0, match="actors"))
    started = time.monotonic()
    with make_extractor(server, timeout=1.5) as extractor:
        result = extractor.extract(ARTICLE, source="a.txt")
    elapsed = time.monotonic() - started
    assert result.actors, "the document succeeded after the retry"
    assert result.meta.transport_retries == 1
    # retries are counted per call: the other passes ran concurrently without a fault
    assert pass_stat(result, "actors").transport_retries == 1
    assert pass_stat(result, "events").transport_retries == 0
    assert [r.fault for r in server.completions("actors")] == [kind, "ok"]
    # hang / never_ending are cut by the 1.5 s per-attempt timeout, not waited out
    assert elapsed < 1.5 + 3.0


def test_transient_faults_through_the_cli(server: FakeOpenAIServer, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    kinds = ["429", "500", "503", "reset", "hang"]
    for n, kind in enumerate(kinds):
        (docs / f"d{n}.txt").write_text(f"Document {n} says Mali Forces clashed with Wagner Group near Gao.\n")
        server.push(Fault(kind, retry_after=1, match="actors", doc=f"Document {n} says"))
    out = tmp_path / "out.jsonl"
    started = time.monotonic()
    proc = run_cli(
        "extract", str(docs), "-o", str(out), "--model", "openai/fake", "--base-url", server.url,
        "--timeout", "2", "--cache-dir", str(tmp_path / "cache"), env=cli_env(tmp_path / "home"), timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 40
    results = read_jsonl(out)
    assert len(results) == len(kinds)
    log = [(r.pass_name, r.fault, r.body["messages"][1]["content"][:30]) for r in server.completions()]
    for record in results:
        Extraction.model_validate(record)
        assert record["meta"]["transport_retries"] == 1, (record["source"], record["meta"]["passes"], log)
    assert "5 ok, 0 skipped (already in output: same file, content, model and prompt), 0 failed" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_retry_after_is_honoured(server: FakeOpenAIServer) -> None:
    server.push(Fault("429", retry_after=1, match="actors"))
    with make_extractor(server) as extractor:
        result = extractor.extract(ARTICLE, source="a.txt")
    assert result.meta.transport_retries == 1
    first, second = server.completions("actors")
    assert first.fault == "429" and second.fault == "ok"
    assert second.time - first.time >= 0.9  # Retry-After: 1, not the 0.5 s default backoff


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("error_200", "the server replied 200 with an error instead of a completion: model overloaded"),
        ("empty_choices", "the server's reply has no choices"),
        ("non_json", "the server's reply is not JSON: '<html>"),
        ("huge_body", "the server's reply is over 8,388,608 bytes; refused"),
        ("huge_declared", "the server's reply is over 8,388,608 bytes; refused"),
    ],
)
def test_a_persistent_200_that_is_not_a_completion_is_one_clear_line(
    server: FakeOpenAIServer, tmp_path: Path, kind: str, says: str
) -> None:
    server.set_default(kind)
    doc = tmp_path / "a.txt"
    doc.write_text(ARTICLE)
    errors = tmp_path / "errors.jsonl"
    proc = run_cli(
        "extract", str(doc), "-o", str(tmp_path / "out.jsonl"), "--errors", str(errors), "--model", "openai/fake",
        "--base-url", server.url, "--timeout", "2", "--retries", "2", "--max-reasks", "2", "--no-cache",
        env=cli_env(tmp_path / "home"), timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    error_lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and str(doc) in error_lines[0] and says in error_lines[0], proc.stderr
    (record,) = read_jsonl(errors)
    assert record["error_class"] == "BadReply" and record["attempts"] == 2
    for name in ("actors", "events", "sanctions"):
        assert len(server.completions(name)) <= 2  # retried as transport, never re-asked
    assert "Traceback" not in proc.stderr


def test_persistent_500_fails_after_bounded_attempts(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.set_default("500")
    doc = tmp_path / "a.txt"
    doc.write_text(ARTICLE)
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    started = time.monotonic()
    proc = run_cli(
        "extract", str(doc), "-o", str(out), "--errors", str(errors), "--model", "openai/fake",
        "--base-url", server.url, "--timeout", "2", "--retries", "3", "--max-reasks", "0", "--no-cache",
        env=cli_env(tmp_path / "home"), timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert time.monotonic() - started < 30
    assert not out.exists() or out.read_text() == ""
    (record,) = read_jsonl(errors)
    assert record["path"] == str(doc)
    assert record["error_class"] == "InternalServerError"
    assert record["attempts"] == 3
    assert str(doc) in record["message"] and "500" in record["message"]
    for name in ("actors", "events", "sanctions"):
        assert len(server.completions(name)) <= 3
    error_lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and str(doc) in error_lines[0]
    assert "0 ok, 0 skipped (already in output: same file, content, model and prompt), 1 failed" in proc.stderr
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------- invalid output
@pytest.mark.parametrize("kind,pass_name", [("truncated_json", "events"), ("schema_invalid", "sanctions")])
def test_invalid_output_is_reasked(server: FakeOpenAIServer, kind: str, pass_name: str) -> None:
    server.push(Fault(kind, match=pass_name))
    with make_extractor(server) as extractor:
        result = extractor.extract(SANCTIONS_ARTICLE, source="s.txt")
    assert result.meta.reasks == 1
    assert pass_stat(result, pass_name).reasks == 1
    assert result.meta.transport_retries == 0
    first, second = server.completions(pass_name)
    assert first.fault == kind and second.fault == "ok"
    # the re-ask carries the failed answer and the validation error back to the model
    assert len(second.messages) > len(first.messages)
    assert result.sanctions and result.events


def test_invalid_output_fails_cleanly_after_max_reasks(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.set_default("schema_invalid")
    doc = tmp_path / "a.txt"
    doc.write_text(ARTICLE)
    errors = tmp_path / "errors.jsonl"
    proc = run_cli(
        "extract", str(doc), "-o", str(tmp_path / "out.jsonl"), "--errors", str(errors), "--model", "openai/fake",
        "--base-url", server.url, "--timeout", "2", "--max-reasks", "1", "--no-cache",
        env=cli_env(tmp_path / "home"), timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    (record,) = read_jsonl(errors)
    assert record["error_class"] == "ValidationError"
    assert record["attempts"] == 2  # the answer + 1 re-ask
    assert "invalid output after 2 attempt(s)" in record["message"]
    assert all(len(server.completions(p)) <= 2 for p in ("actors", "events", "sanctions"))
    assert "Traceback" not in proc.stderr


def test_ungrounded_quotes_are_reasked_then_dropped(server: FakeOpenAIServer) -> None:
    server.push(Fault("ungrounded", match="events"), Fault("ungrounded", match="events"))
    with make_extractor(server, max_reasks=1) as extractor:
        result = extractor.extract(ARTICLE, source="a.txt")
    assert [r.fault for r in server.completions("events")] == ["ungrounded", "ungrounded"]
    assert result.events == []  # the invented quote never reaches the output
    assert any("kept after re-asks" in w for w in result.meta.warnings)
    assert result.actors


def test_output_cut_at_max_tokens_keeps_its_complete_items_without_retry(server: FakeOpenAIServer) -> None:
    with make_extractor(server) as extractor:
        full = extractor.extract(ARTICLE, source="a.txt")
    server.clear_requests()
    server.push(Fault("length", match="actors"))  # the answer's JSON cut in half, finish_reason "length"
    with make_extractor(server) as extractor:
        cut = extractor.extract(ARTICLE, source="a.txt")
    assert len(server.completions("actors")) == 1  # not retried: the same request would be cut again
    assert any("cut off at max_tokens" in w for w in cut.meta.warnings), cut.meta.warnings
    full_names = [a.name for a in full.actors]
    cut_names = [a.name for a in cut.actors]
    assert 0 < len(cut_names) < len(full_names) and set(cut_names) <= set(full_names)


def test_output_cut_before_its_first_item_fails_the_document(server: FakeOpenAIServer) -> None:
    server.push(Fault("length", match="sanctions"))  # an empty answer cut in half: no complete item
    with make_extractor(server) as extractor, pytest.raises(ExtractionError, match="IncompleteOutput"):
        extractor.extract(ARTICLE, source="a.txt")
    assert len(server.completions("sanctions")) == 1


# ---------------------------------------------------------------------------- timeouts
def test_never_ending_reply_is_bounded_by_the_attempt_timeout(server: FakeOpenAIServer) -> None:
    server.set_default(Fault("never_ending", interval=0.05))
    started = time.monotonic()
    with make_extractor(server, timeout=1.0, attempts=2, max_reasks=0) as extractor:
        with pytest.raises(ExtractionError, match=r"AttemptTimeout: no complete reply within 1 s") as caught:
            extractor.extract(ARTICLE, source="a.txt")
    elapsed = time.monotonic() - started
    # 2 attempts x 1 s + one backoff wait (0.5 s + up to 0.5 s jitter), with slack for a busy machine
    assert elapsed < 2 * 1.0 + 1.0 + 2.0
    assert caught.value.attempts == 2


def test_hang_is_cut_by_timeout_through_the_cli(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.set_default("hang")
    doc = tmp_path / "a.txt"
    doc.write_text(ARTICLE)
    errors = tmp_path / "errors.jsonl"
    started = time.monotonic()
    proc = run_cli(
        "extract", str(doc), "--errors", str(errors), "--model", "openai/fake", "--base-url", server.url,
        "--timeout", "2", "--retries", "2", "--no-cache", env=cli_env(tmp_path / "home"), timeout=60,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    (record,) = read_jsonl(errors)
    assert record["error_class"] in ("AttemptTimeout", "APITimeoutError")
    assert record["attempts"] == 2
    assert elapsed < 2 * 2 + 1 + 12  # two 2 s attempts + backoff, plus interpreter start-up
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------- caching of failures
def test_failed_responses_are_never_cached(server: FakeOpenAIServer, tmp_path: Path) -> None:
    doc = tmp_path / "a.txt"
    doc.write_text(ARTICLE)
    cache_dir = tmp_path / "cache"
    server.push(*[Fault("500", match="actors")] * 20)
    args = ("extract", str(doc), "--model", "openai/fake", "--base-url", server.url, "--timeout", "2",
            "--retries", "2", "--max-reasks", "0", "--cache-dir", str(cache_dir))
    env = cli_env(tmp_path / "home")
    failed = run_cli(*args, env=env, timeout=60)
    assert failed.returncode == 1, failed.stderr

    cache = ResponseCache(cache_dir)
    cached_passes = {value["pass"] for _, value in cache.items()}
    cache.close()
    assert "actors" not in cached_passes  # the failed pass left nothing behind

    server.clear_faults()
    server.clear_requests()
    ok = run_cli(*args, env=env, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert [r.pass_name for r in server.completions()].count("actors") == 1  # asked again, not replayed

    server.clear_requests()
    again = run_cli(*args, env=env, timeout=60)
    assert again.returncode == 0, again.stderr
    assert server.completions() == []  # now every pass is a cache hit
    assert json.loads(again.stdout)["meta"]["cache_hit"] is True
