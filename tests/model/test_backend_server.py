"""OpenAIBackend against a real `python -m llama_cpp.server` (llama-cpp-python 0.3.36) serving
SmolLM2-135M-Instruct on 127.0.0.1.

Observed behaviour of llama_cpp.server, which is why `llamacpp/*` defaults to TOOLS:

* TOOLS (instructor sends `tools=[...]` and a forced `tool_choice`): the server's chat
  handler builds a GBNF grammar from the tool's parameter schema
  (`LlamaGrammar.from_json_schema`, llama_chat_format.chat_formatter_to_chat_completion_handler)
  and decodes the arguments under it, so the call is schema-constrained.
* JSON_SCHEMA (`response_format={"type": "json_schema", ...}`): rejected. The request model only
  allows `"text"` or `"json_object"`; the server answers HTTP 500 with a pydantic
  `literal_error` ("Input should be 'text' or 'json_object'"), deterministically, before any
  decoding.
* JSON (`{"type": "json_object"}` without a schema): a generic JSON grammar, not the schema.
  The schema-constrained `{"type": "json_object", "schema": ...}` is a llama-cpp extension
  that no instructor mode sends (the in-process backend uses it through its shim).

Caveat seen here: for a forced tool call the server reports `finish_reason="tool_calls"` even
when decoding stopped at max_tokens, so a cut answer reaches instructor as invalid JSON (and is
re-asked) rather than as an incomplete output. The tests keep answers short to avoid that.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import time
import typing
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from extractor.backends import BackendError, GenerationParams, create_backend
from extractor.backends import instructor_calls as backend_base
from extractor.backends.remote.openai import OpenAIBackend
from extractor.llm.drafts import ActorDraft, ActorsAnswer, EventDraft, EventsAnswer
from extractor.pipeline import Extractor
from extractor.schemas import Extraction
from tests.support.gguf import ARTICLE, dictating_messages, smollm2_gguf, write_dictating_prompts

pytestmark = pytest.mark.slow

STARTUP_SECONDS = 90.0
MAX_TOKENS = 256
ACTOR_KINDS = set(typing.get_args(ActorDraft.model_fields["kind"].annotation))
EVENT_TYPES = set(typing.get_args(EventDraft.model_fields["type"].annotation))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_json(method: str, url: str, body: dict | None = None, timeout: float = 120.0) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> str:
    """Start llama_cpp.server on a free loopback port; yield its /v1 base URL; stop it."""
    gguf = smollm2_gguf()
    try:
        import llama_cpp.server.app  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"llama_cpp.server is not importable ({exc}); pip install 'llama-cpp-python[server]==0.3.36'")
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(gguf),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", "2048",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{_log_tail(log_path)}")
            try:
                status, _ = http_json("GET", f"{base_url}/models", timeout=2.0)
                if status == 200:
                    break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer within {STARTUP_SECONDS:g} s:\n{_log_tail(log_path)}")
            time.sleep(0.5)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture
def backend(server) -> OpenAIBackend:
    backend = create_backend("llamacpp/smollm2", base_url=server, params=GenerationParams(max_tokens=MAX_TOKENS))
    assert isinstance(backend, OpenAIBackend)
    assert backend.mode == "tools"
    return backend


class ResponseSpy:
    """Records every chat completion the backend receives (via base.response_text)."""

    def __init__(self, monkeypatch):
        self.responses: list = []
        real = backend_base.response_text

        def spy(response):
            self.responses.append(response)
            return real(response)

        monkeypatch.setattr(backend_base, "response_text", spy)


async def complete_and_close(backend: OpenAIBackend, model, messages):
    try:
        return await backend.complete(model, messages)
    finally:
        await backend.aclose()


def tools_request(schema_model, messages, max_tokens: int) -> dict:
    """The request instructor's TOOLS mode makes: one tool, forced."""
    name = schema_model.__name__
    return {
        "model": "smollm2",
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": 0.0,
        "seed": 1234,
        "tools": [{"type": "function", "function": {"name": name, "parameters": schema_model.model_json_schema()}}],
        "tool_choice": {"type": "function", "function": {"name": name}},
    }


# ---------------------------------------------------------------------- TOOLS: the default


def test_server_lists_the_model(server):
    status, body = http_json("GET", f"{server}/models")
    assert status == 200
    assert any(entry["id"].endswith(".gguf") for entry in json.loads(body)["data"])


def test_tools_mode_returns_a_validated_actors_answer(backend, monkeypatch):
    spy = ResponseSpy(monkeypatch)
    result = asyncio.run(complete_and_close(backend, ActorsAnswer, dictating_messages("actors")))
    answer = result.parsed
    assert isinstance(answer, ActorsAnswer)
    for actor in answer.actors:
        assert actor.kind in ACTOR_KINDS
    # It came back as a forced tool call, and its usage was counted.
    call = spy.responses[0].choices[0].message.tool_calls[0]
    assert call.function.name == "ActorsAnswer"
    assert ActorsAnswer.model_validate_json(call.function.arguments).model_dump() == answer.model_dump()
    assert result.usage.prompt_tokens == sum(r.usage.prompt_tokens for r in spy.responses) > 0
    assert result.usage.completion_tokens == sum(r.usage.completion_tokens for r in spy.responses) > 0


def test_tools_mode_returns_a_validated_events_answer(backend):
    result = asyncio.run(complete_and_close(backend, EventsAnswer, dictating_messages("events")))
    answer = result.parsed
    assert isinstance(answer, EventsAnswer)
    for event in answer.events:
        assert event.type in EVENT_TYPES
        assert event.fatalities is None or isinstance(event.fatalities, int)


def test_a_forced_tool_call_is_decoded_under_the_schema_grammar(server):
    """Same prompt, same greedy decoding: free text without tools, the schema's JSON with a
    forced tool call. Proof that llama_cpp.server constrains TOOLS mode."""
    messages = [{"role": "user", "content": "Say hello to me in French."}]
    status, body = http_json("POST", f"{server}/chat/completions", tools_request(EventsAnswer, messages, 8))
    assert status == 200, body
    choice = json.loads(body)["choices"][0]
    arguments = choice["message"]["tool_calls"][0]["function"]["arguments"]
    assert re.match(r'\s*\{\s*"events', arguments), arguments
    # The server's quirk: a cut tool call is still reported as finished.
    assert choice["finish_reason"] == "tool_calls"

    status, body = http_json(
        "POST",
        f"{server}/chat/completions",
        {"model": "smollm2", "messages": messages, "max_tokens": 8, "temperature": 0.0, "seed": 1234},
    )
    assert status == 200, body
    free_text = json.loads(body)["choices"][0]["message"]["content"]
    assert not re.match(r'\s*\{\s*"events', free_text), free_text


# ---------------------------------------------------------------------- JSON_SCHEMA: rejected


def test_json_schema_response_format_is_rejected_by_the_server(server):
    """llama_cpp.server 0.3.36 validates response_format.type against "text" | "json_object":
    a json_schema request fails at once (HTTP 500, pydantic literal_error), nothing is decoded."""
    request = {
        "model": "smollm2",
        "messages": dictating_messages("actors"),
        "max_tokens": 8,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "ActorsAnswer", "schema": ActorsAnswer.model_json_schema(), "strict": True},
        },
    }
    started = time.monotonic()
    status, body = http_json("POST", f"{server}/chat/completions", request)
    assert status >= 400, body
    assert "json_object" in body and "json_schema" in body
    assert time.monotonic() - started < 10


def test_json_schema_mode_fails_as_a_backend_error(server):
    backend = create_backend(
        "llamacpp/smollm2", base_url=server, mode="json_schema", params=GenerationParams(max_tokens=8)
    )
    with pytest.raises(BackendError) as excinfo:
        asyncio.run(complete_and_close(backend, ActorsAnswer, dictating_messages("actors")))
    assert "500" in str(excinfo.value) or "json_object" in str(excinfo.value)
    assert excinfo.value.partial is None  # no answer was ever decoded
    assert excinfo.value.kind in ("transport", "other")


# ---------------------------------------------------------------------- the pipeline


def test_extractor_with_the_server_backend(backend, tmp_path, monkeypatch):
    monkeypatch.setenv("EXTRACTOR_PROMPTS_DIR", str(tmp_path / "prompts"))
    version = write_dictating_prompts(tmp_path / "prompts")
    with Extractor(backend=backend, cache_dir=str(tmp_path / "cache"), prompt_version=version) as extractor:
        extraction = extractor.extract(ARTICLE, source="kano.txt")
        again = extractor.extract(ARTICLE, source="kano.txt")
    assert isinstance(extraction, Extraction)
    meta = extraction.meta
    assert meta.model == "llamacpp/smollm2"
    assert meta.backend == f"llamacpp:smollm2@{backend_url(backend)}#tools"
    assert meta.model_calls >= 3 and not meta.cache_hit
    assert [p.name for p in meta.passes] == ["actors", "events", "sanctions"]
    assert meta.usage.prompt_tokens > 0 and meta.usage.completion_tokens > 0
    for actor in extraction.actors:
        assert actor.kind in ACTOR_KINDS and actor.grounded
    for event in extraction.events:
        assert event.type in EVENT_TYPES and event.grounded
    assert again.meta.cache_hit and again.meta.model_calls == 0
    assert again.model_dump(exclude={"meta"}) == extraction.model_dump(exclude={"meta"})


def backend_url(backend: OpenAIBackend) -> str:
    return backend.base_url.rstrip("/")



def test_a_batch_job_run_on_the_server_ingests_to_the_online_records(server, tmp_path):
    """prepare -> each request line POSTed to llama_cpp.server as it stands -> ingest: the
    records of an online run on the same server (re-asks off on both sides)."""
    from tests.support.cli import cli_env, run_cli

    version = write_dictating_prompts(tmp_path / "prompts")
    env = cli_env(tmp_path / "home", EXTRACTOR_PROMPTS_DIR=str(tmp_path / "prompts"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kano.txt").write_text(ARTICLE + "\n", encoding="utf-8")
    (docs / "jos.txt").write_text(ARTICLE.replace("Kano", "Jos").replace("three", "five") + "\n", encoding="utf-8")
    model = ["--model", "llamacpp/smollm2", "--base-url", server, "--prompt-version", version]
    online = run_cli("extract", str(docs), *model, "--max-reasks", "0", "--cache-dir", str(tmp_path / "c1"),
                     "-o", str(tmp_path / "online.jsonl"), env=env, timeout=600)  # fmt: skip
    assert online.returncode == 0, online.stderr

    requests, results = tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    cache = ["--cache-dir", str(tmp_path / "c2")]
    prepared = run_cli("batch", "prepare", str(docs), *model, *cache, "-o", str(requests), env=env)
    assert prepared.returncode == 0, prepared.stderr
    with requests.open(encoding="utf-8") as lines, results.open("w", encoding="utf-8") as out:
        for line in lines:
            request = json.loads(line)
            status, body = http_json("POST", server.removesuffix("/v1") + request["url"], request["body"], timeout=300)
            assert status == 200, body
            out.write(json.dumps({"custom_id": request["custom_id"], "response": {"status_code": 200, "body": json.loads(body)}}) + "\n")
    ingested = run_cli("batch", "ingest", str(requests), str(results), *cache, "-o", str(tmp_path / "batch.jsonl"), env=env)
    assert ingested.returncode == 0, ingested.stderr

    def records(path: Path) -> dict[str, dict]:
        out = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            out[Path(record["source"]).name] = {k: record[k] for k in ("actors", "events", "sanctions")}
        return out

    assert records(tmp_path / "batch.jsonl") == records(tmp_path / "online.jsonl")
    assert sorted(records(tmp_path / "batch.jsonl")) == ["jos.txt", "kano.txt"]
