"""The OpenAI Batch API round trip through the real CLI, against the fake server.

prepare -> run the requests -> ingest must give the records an online run gives, send the
bodies the online run sends, leave answers in the cache for the next online run, and never
lose or duplicate a document when answers are invalid, missing or the ingest is cut off.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import cli_env, run_cli
from tests.support.fake_server import FakeOpenAIServer

#: the shipped default prompts (v3): the batch path must work on what users run
PROMPT_VERSION = None
PLACES = ["Gao", "Kidal", "Mopti", "Timbuktu"]


@pytest.fixture
def server():
    with FakeOpenAIServer(max_stall=30) as fake:
        yield fake


def write_docs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n, place in enumerate(PLACES):
        (folder / f"doc{n}.txt").write_text(
            f"Islamic State fighters attacked a Malian Army convoy near {place} on Monday, killing {n + 2} soldiers. "
            f"The United States sanctioned Sahel Trading Ltd for financing the group.\n", encoding="utf-8")  # fmt: skip


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def comparable(record: dict) -> dict:
    """A record without what differs between two runs of the same answers (time, cache use)."""
    meta = {k: v for k, v in record["meta"].items() if k not in ("seconds", "cache_hit", "model_calls")}
    meta["passes"] = [{k: v for k, v in p.items() if k not in ("seconds", "cache_hit")} for p in meta["passes"]]
    return {**record, "meta": meta}


def by_file(path: Path) -> dict[str, dict]:
    return {Path(r["meta"]["input_path"]).name: comparable(r) for r in lines(path)}


def execute(requests: Path, results: Path, server: FakeOpenAIServer) -> None:
    """Run a requests file on the fake server, one call at a time (what a batch service does)."""
    import urllib.request

    with results.open("w", encoding="utf-8") as out:
        for number, request in enumerate(lines(requests)):
            call = urllib.request.Request(server.url.removesuffix("/v1") + request["url"], method="POST",
                                          data=json.dumps(request["body"]).encode(),
                                          headers={"Content-Type": "application/json"})  # fmt: skip
            with urllib.request.urlopen(call, timeout=30) as reply:
                body = json.loads(reply.read())
            out.write(json.dumps({"id": f"r{number}", "custom_id": request["custom_id"],
                                  "response": {"status_code": 200, "body": body}, "error": None}) + "\n")  # fmt: skip


@pytest.fixture
def job(server, tmp_path):
    docs = tmp_path / "docs"
    write_docs(docs)
    env = cli_env(tmp_path / "home")
    model = ["--model", "openai/fake", "--base-url", server.url]
    return docs, env, model


def test_prepared_bodies_are_the_online_calls_and_ingest_gives_the_online_records(job, server, tmp_path):
    docs, env, model = job
    online = run_cli("extract", str(docs), *model, "--max-reasks", "0", "--cache-dir", str(tmp_path / "online-cache"),
                     "-o", str(tmp_path / "online.jsonl"), env=env)  # fmt: skip
    assert online.returncode == 0, online.stderr
    sent = sorted(json.dumps(r.body, sort_keys=True) for r in server.completions())
    server.clear_requests()

    cache = ["--cache-dir", str(tmp_path / "batch-cache")]
    requests = tmp_path / "job" / "requests.jsonl"
    prepared = run_cli("batch", "prepare", str(docs), *model, *cache, "-o", str(requests), env=env)
    assert prepared.returncode == 0, prepared.stderr
    assert server.completions() == []  # prepare calls no model
    request_lines = lines(requests)
    assert sorted(json.dumps(r["body"], sort_keys=True) for r in request_lines) == sent
    assert {r["url"] for r in request_lines} == {"/v1/chat/completions"} and all(r["method"] == "POST" for r in request_lines)
    assert len({r["custom_id"] for r in request_lines}) == len(request_lines)
    assert (tmp_path / "job" / "requests.documents.jsonl").exists()

    results = tmp_path / "results.jsonl"
    execute(requests, results, server)
    out = tmp_path / "out.jsonl"
    ingested = run_cli("batch", "ingest", str(requests), str(results), *cache, "-o", str(out), env=env)
    assert ingested.returncode == 0, ingested.stderr
    assert by_file(out) == by_file(tmp_path / "online.jsonl")
    assert len(by_file(out)) == len(PLACES)

    # the answers are in the cache: the online run that follows calls no model
    server.clear_requests()
    again = run_cli("extract", str(docs), *model, *cache, "-o", str(tmp_path / "after.jsonl"), env=env)
    assert again.returncode == 0, again.stderr
    assert server.completions() == []


def test_invalid_and_missing_answers_become_retry_and_next_requests_and_every_document_lands_once(job, server, tmp_path):
    docs, env, model = job
    cache = ["--cache-dir", str(tmp_path / "cache")]
    requests = tmp_path / "requests.jsonl"
    assert run_cli("batch", "prepare", str(docs), *model, *cache, "-o", str(requests), env=env).returncode == 0
    results = tmp_path / "results.jsonl"
    execute(requests, results, server)
    answers, pristine = lines(results), lines(results)
    doc0 = next(r["custom_id"] for r in lines(requests) if "Gao" in json.dumps(r["body"]))
    doc1 = [r["custom_id"] for r in lines(requests) if "Kidal" in json.dumps(r["body"])]
    for answer in answers:  # doc0: one answer that does not fit the schema; doc1: no answers at all
        if answer["custom_id"] == doc0:
            answer["response"]["body"]["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = '{"hacked": true}'
    first = [a for a in answers if a["custom_id"] not in doc1]
    results.write_text("".join(json.dumps(a) + "\n" for a in first), encoding="utf-8")

    out = tmp_path / "out.jsonl"
    ingested = run_cli("batch", "ingest", str(requests), str(results), *cache, "-o", str(out), env=env)
    assert ingested.returncode == 1
    assert len(lines(out)) == len(PLACES) - 2
    errors = lines(tmp_path / "out.jsonl.errors.jsonl")
    assert [Path(e["source"]).name for e in errors] == ["doc0.txt"]
    assert [r["custom_id"] for r in lines(tmp_path / "out.jsonl.retry.jsonl")] == [doc0]
    assert sorted(r["custom_id"] for r in lines(tmp_path / "out.jsonl.next.jsonl")) == sorted(doc1)
    assert "failed validation" in ingested.stderr and "no answer yet" in ingested.stderr

    # the retried and the missing calls answered: every document exactly once, the rest skipped
    second = [a for a in pristine if a["custom_id"] in doc1 or a["custom_id"] == doc0]
    results.write_text("".join(json.dumps(a) + "\n" for a in second), encoding="utf-8")
    again = run_cli("batch", "ingest", str(requests), str(results), *cache, "-o", str(out), env=env)
    assert again.returncode == 0, again.stderr
    names = [Path(r["meta"]["input_path"]).name for r in lines(out)]
    assert sorted(names) == [f"doc{n}.txt" for n in range(len(PLACES))]
    assert f"{len(PLACES) - 2} skipped" in again.stderr
    assert not (tmp_path / "out.jsonl.retry.jsonl").exists() and not (tmp_path / "out.jsonl.next.jsonl").exists()


def test_an_ingest_cut_off_mid_line_resumes_with_every_document_once(job, server, tmp_path):
    docs, env, model = job
    cache = ["--cache-dir", str(tmp_path / "cache")]
    requests, results, out = tmp_path / "requests.jsonl", tmp_path / "results.jsonl", tmp_path / "out.jsonl"
    assert run_cli("batch", "prepare", str(docs), *model, *cache, "-o", str(requests), env=env).returncode == 0
    execute(requests, results, server)
    assert run_cli("batch", "ingest", str(requests), str(results), *cache, "-o", str(out), env=env).returncode == 0
    full = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text(full[0] + full[1][: len(full[1]) // 2], encoding="utf-8")  # what a kill leaves: a torn line
    again = run_cli("batch", "ingest", str(requests), str(results), *cache, "-o", str(out), env=env)
    assert again.returncode == 0, again.stderr
    assert sorted(by_file(out)) == [f"doc{n}.txt" for n in range(len(PLACES))]
    assert "1 skipped" in again.stderr


def test_submit_status_fetch_through_the_files_and_batches_endpoints(job, server, tmp_path):
    docs, env, model = job
    cache = ["--cache-dir", str(tmp_path / "cache")]
    requests = tmp_path / "requests.jsonl"
    assert run_cli("batch", "prepare", str(docs), *model, *cache, "-o", str(requests), env=env).returncode == 0
    submitted = run_cli("batch", "submit", str(requests), "--base-url", server.url, env=env)
    assert submitted.returncode == 0, submitted.stderr
    batch_id = submitted.stdout.strip()
    assert batch_id in server.batches
    assert server.files[server.batches[batch_id]["input_file_id"]] == requests.read_bytes()
    status = run_cli("batch", "status", batch_id, "--base-url", server.url, env=env)
    total = len(lines(requests))
    assert status.returncode == 0 and f"completed · {total} of {total} completed, 0 failed" in status.stdout
    results = tmp_path / "results.jsonl"
    fetched = run_cli("batch", "fetch", batch_id, "-o", str(results), "--base-url", server.url, env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert len(lines(results)) == total
    out = tmp_path / "out.jsonl"
    assert run_cli("batch", "ingest", str(requests), str(results), *cache, "-o", str(out), env=env).returncode == 0
    assert len(lines(out)) == len(PLACES)
    missing = run_cli("batch", "status", "batch_nope", "--base-url", server.url, env=env)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "status: NotFoundError" in missing.stderr


def test_refusals_are_one_line(job, tmp_path):
    docs, env, model = job
    local = run_cli("batch", "prepare", str(docs), "--model", "local", "-o", str(tmp_path / "r.jsonl"), env=env)
    assert local.returncode == 2 and local.stderr.count("\n") == 1 and "cannot take part in a Batch API job" in local.stderr
    nothing = run_cli("batch", "ingest", str(tmp_path / "nope.jsonl"), str(tmp_path / "r.jsonl"), "-o",
                      str(tmp_path / "o.jsonl"), env=env)  # fmt: skip
    assert nothing.returncode == 2 and "requests file not found" in nothing.stderr
    (tmp_path / "plain.jsonl").write_text('{"custom_id": "x"}\n', encoding="utf-8")
    (tmp_path / "res.jsonl").write_text("", encoding="utf-8")
    no_manifest = run_cli("batch", "ingest", str(tmp_path / "plain.jsonl"), str(tmp_path / "res.jsonl"), "-o",
                          str(tmp_path / "o.jsonl"), env=env)  # fmt: skip
    assert no_manifest.returncode == 2 and no_manifest.stderr.count("\n") == 1 and "no document manifest" in no_manifest.stderr


def test_ingest_refuses_a_job_prepared_with_other_prompts(job, tmp_path):
    docs, env, model = job
    cache = ["--cache-dir", str(tmp_path / "cache")]
    requests = tmp_path / "requests.jsonl"
    assert run_cli("batch", "prepare", str(docs), *model, *cache, "-o", str(requests), env=env).returncode == 0
    manifest = tmp_path / "requests.documents.jsonl"
    header, *rest = manifest.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = json.loads(header)
    changed["prompt"] = "v3-0123456789ab"
    manifest.write_text(json.dumps(changed) + "\n" + "".join(rest), encoding="utf-8")
    (tmp_path / "res.jsonl").write_text("", encoding="utf-8")
    refused = run_cli("batch", "ingest", str(requests), str(tmp_path / "res.jsonl"), *cache, "-o",
                      str(tmp_path / "o.jsonl"), env=env)  # fmt: skip
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert "prepared for" in refused.stderr and "no answer would match" in refused.stderr
    assert not (tmp_path / "o.jsonl").exists() or (tmp_path / "o.jsonl").read_text() == ""


def test_a_job_the_cache_answers_has_an_empty_requests_file_and_ingests_from_the_cache(job, server, tmp_path):
    docs, env, model = job
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert run_cli("extract", str(docs), *model, *cache, "-o", str(tmp_path / "online.jsonl"), env=env).returncode == 0
    server.clear_requests()
    requests = tmp_path / "requests.jsonl"
    prepared = run_cli("batch", "prepare", str(docs), *model, *cache, "-o", str(requests), env=env)
    assert prepared.returncode == 0, prepared.stderr
    assert requests.exists() and requests.read_text(encoding="utf-8") == ""
    assert f"0 request(s) for 0 document(s) in {requests}; {len(PLACES)} already answered" in prepared.stderr
    (tmp_path / "results.jsonl").write_text("", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    ingested = run_cli("batch", "ingest", str(requests), str(tmp_path / "results.jsonl"), *cache, "-o", str(out), env=env)
    assert ingested.returncode == 0, ingested.stderr
    assert by_file(out) == by_file(tmp_path / "online.jsonl") and server.completions() == []
