"""LocalLlamaBackend on a real GGUF (SmolLM2-135M-Instruct, 93 MB) through llama-cpp-python.

What is checked is plumbing, not extraction quality: the JSON_SCHEMA -> llama.cpp grammar
shim, that the grammar yields a schema-valid pydantic object, token usage, and the pipeline's
cache. The model is asked to copy a short answer (see tests/gguf.py), so calls finish in a
few dozen tokens; assertions are about structure and enums, which the grammar guarantees.
"""

from __future__ import annotations

import asyncio
import json
import re
import typing

import pytest

from extractor.backends import BackendError, CallResult, GenerationParams, create_backend
from extractor.backends.local import loop_guard
from extractor.backends.local.llama import LocalLlamaBackend
from extractor.llm.drafts import ActorDraft, ActorsAnswer, EventDraft, EventsAnswer, SanctionsAnswer
from extractor.pipeline import Extractor
from extractor.schemas import Extraction
from tests.support.gguf import ARTICLE, dictating_messages, smollm2_gguf, write_dictating_prompts

pytestmark = pytest.mark.slow

N_CTX = 2048
MAX_TOKENS = 256

ACTOR_KINDS = set(typing.get_args(ActorDraft.model_fields["kind"].annotation))
EVENT_TYPES = set(typing.get_args(EventDraft.model_fields["type"].annotation))


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    # The GGUF's sha256 index (part of the backend identity) goes to EXTRACTOR_HOME.
    monkeypatch.setenv("EXTRACTOR_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def gguf_path():
    return smollm2_gguf()


@pytest.fixture
def backend(gguf_path) -> LocalLlamaBackend:
    # The llama.cpp model itself is loaded once per process (local._MODELS) and shared.
    backend = create_backend(f"local:{gguf_path}", n_ctx=N_CTX, params=GenerationParams(max_tokens=MAX_TOKENS))
    assert isinstance(backend, LocalLlamaBackend)
    return backend


class CreateSpy:
    """Wraps the Llama object's create_chat_completion_openai_v1: records kwargs and responses,
    and still calls the real method."""

    def __init__(self, monkeypatch, llama):
        self.calls: list[dict] = []
        self.responses: list = []
        real = llama.create_chat_completion_openai_v1

        def spy(**kwargs):
            self.calls.append(kwargs)
            response = real(**kwargs)
            self.responses.append(response)
            return response

        monkeypatch.setattr(llama, "create_chat_completion_openai_v1", spy)


def run(coroutine):
    return asyncio.run(coroutine)


def assert_actors_shape(answer: ActorsAnswer) -> None:
    assert isinstance(answer, ActorsAnswer)
    for actor in answer.actors:
        assert isinstance(actor.name, str)
        assert actor.kind in ACTOR_KINDS
        assert all(isinstance(alias, str) for alias in actor.aliases)


def assert_events_shape(answer: EventsAnswer) -> None:
    assert isinstance(answer, EventsAnswer)
    for event in answer.events:
        assert isinstance(event.quote, str)
        assert event.type in EVENT_TYPES
        assert event.fatalities is None or isinstance(event.fatalities, int)
        for names in (event.perpetrators, event.targets, event.sources):
            assert all(isinstance(name, str) for name in names)


# ---------------------------------------------------------------------- (a) the shim


def test_shim_turns_json_schema_into_llama_cpp_json_object_with_schema(backend, monkeypatch):
    """instructor's JSON_SCHEMA request (`response_format={"type": "json_schema", ...}`), which
    llama-cpp-python ignores in-process, reaches llama.cpp as `{"type": "json_object",
    "schema": ...}`: the form it turns into a grammar."""
    spy = CreateSpy(monkeypatch, backend.llama)
    result = run(backend.complete(ActorsAnswer, dictating_messages("actors")))

    assert spy.calls, "the real llama.cpp create was never reached"
    kwargs = spy.calls[0]
    assert kwargs["response_format"] == {"type": "json_object", "schema": ActorsAnswer.model_json_schema()}
    assert "model" not in kwargs  # llama-cpp-python would take it for a model alias
    assert kwargs["max_tokens"] == MAX_TOKENS and kwargs["temperature"] == 0.0 and kwargs["seed"] == 1234
    schema = kwargs["response_format"]["schema"]
    assert "$defs" not in json.dumps(schema) and "$ref" not in json.dumps(schema)  # llama.cpp drops refs
    # The message list goes through as given (JSON_SCHEMA mode adds no schema text to it).
    assert kwargs["messages"][-1]["content"] == dictating_messages("actors")[-1]["content"]

    raw = spy.responses[0].choices[0].message.content
    assert re.match(r'\s*\{\s*"actors"\s*:\s*\[', raw), raw
    # (instructor attaches the raw response as a private attribute: compare the data only)
    assert ActorsAnswer.model_validate_json(raw).model_dump() == result.parsed.model_dump()


def test_shim_passes_other_response_formats_through_and_drops_model(backend, monkeypatch):
    spy = CreateSpy(monkeypatch, backend.llama)
    backend._raw_create(
        model="ignored-alias",
        messages=[{"role": "user", "content": "Say yes."}],
        response_format={"type": "json_object"},
        max_tokens=1,
        temperature=0.0,
    )
    backend._raw_create(messages=[{"role": "user", "content": "Say yes."}], max_tokens=1, temperature=0.0)
    assert spy.calls[0]["response_format"] == {"type": "json_object"}
    assert "model" not in spy.calls[0]
    assert "response_format" not in spy.calls[1]


def test_grammar_constrains_even_an_unrelated_prompt(backend, monkeypatch):
    """A chat prompt that has nothing to do with JSON still decodes as the schema's JSON: the
    grammar is applied. (Few tokens: the answer is cut, which the backend reports as incomplete.)"""
    spy = CreateSpy(monkeypatch, backend.llama)
    backend.params = GenerationParams(max_tokens=8)
    with pytest.raises(BackendError) as excinfo:
        run(backend.complete(EventsAnswer, [{"role": "user", "content": "Say hello to me in French."}]))
    assert "incomplete" in str(excinfo.value).lower() or "max_tokens" in str(excinfo.value)
    raw = spy.responses[0].choices[0].message.content
    assert re.match(r'\s*\{\s*"events', raw), raw
    assert not raw.lower().lstrip().startswith(("hello", "bonjour"))
    assert spy.responses[0].choices[0].finish_reason == "length"
    # Usage of the failed call is still reported.
    assert excinfo.value.usage.completion_tokens == 8
    assert excinfo.value.partial == raw
    assert excinfo.value.kind == "truncated"  # the pipeline salvages on this kind, never on exception types


# ---------------------------------------------------------------------- (b) real structured calls


def test_complete_actors_returns_a_validated_answer(backend):
    result = run(backend.complete(ActorsAnswer, dictating_messages("actors")))
    assert isinstance(result, CallResult)
    assert_actors_shape(result.parsed)


def test_complete_events_returns_a_validated_answer(backend):
    result = run(backend.complete(EventsAnswer, dictating_messages("events")))
    assert_events_shape(result.parsed)


def test_complete_is_deterministic(backend):
    first = run(backend.complete(SanctionsAnswer, dictating_messages("sanctions")))
    second = run(backend.complete(SanctionsAnswer, dictating_messages("sanctions")))
    assert isinstance(first.parsed, SanctionsAnswer)
    assert first.parsed.model_dump() == second.parsed.model_dump()
    assert first.usage == second.usage


# ---------------------------------------------------------------------- (d) usage


def test_usage_tokens_are_counted_from_the_responses(backend, monkeypatch):
    spy = CreateSpy(monkeypatch, backend.llama)
    result = run(backend.complete(ActorsAnswer, dictating_messages("actors")))
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    # Exactly the sum of what llama.cpp reported for each response (re-asks included).
    assert result.usage.prompt_tokens == sum(r.usage.prompt_tokens for r in spy.responses)
    assert result.usage.completion_tokens == sum(r.usage.completion_tokens for r in spy.responses)
    assert result.reasks == len(spy.responses) - 1
    assert result.usage.completion_tokens <= MAX_TOKENS * len(spy.responses)


def test_count_tokens_uses_the_model_tokenizer(backend):
    n = backend.count_tokens(ARTICLE)
    assert n == len(backend.llama.tokenize(ARTICLE.encode(), add_bos=False, special=False))
    assert 5 < n < len(ARTICLE)


# ---------------------------------------------------------------------- (c) the pipeline and its cache


def test_extractor_end_to_end_then_from_cache(gguf_path, tmp_path, monkeypatch):
    monkeypatch.setenv("EXTRACTOR_PROMPTS_DIR", str(tmp_path / "prompts"))
    version = write_dictating_prompts(tmp_path / "prompts")
    cache_dir = str(tmp_path / "cache")
    options = dict(cache_dir=cache_dir, prompt_version=version, n_ctx=N_CTX, max_tokens=MAX_TOKENS)

    with Extractor(model=f"local:{gguf_path}", **options) as extractor:
        first = extractor.extract(ARTICLE, source="kano.txt")
    assert isinstance(first, Extraction)
    meta = first.meta
    assert meta.model_calls >= 3  # one call per pass at least (re-asks add to it)
    assert meta.cache_hit is False
    assert meta.model == "local/SmolLM2-135M-Instruct.Q4_1.gguf"
    assert meta.backend.startswith("local:gguf-sha256:") and meta.backend.endswith(f":ctx{N_CTX}:{loop_guard.VERSION}")
    assert [p.name for p in meta.passes] == ["actors", "events", "sanctions"]
    assert all(not p.cache_hit for p in meta.passes)
    assert meta.usage.prompt_tokens > 0 and meta.usage.completion_tokens > 0
    assert meta.usage.prompt_tokens == sum(p.usage.prompt_tokens for p in meta.passes)
    assert first.source == "kano.txt"
    # Whatever the model wrote, what the pipeline keeps is grounded and typed.
    for actor in first.actors:
        assert actor.kind in ACTOR_KINDS and actor.grounded and actor.evidence is not None
        assert ARTICLE[actor.evidence.start : actor.evidence.end] == actor.evidence.quote
    for event in first.events:
        assert event.type in EVENT_TYPES and event.grounded
        assert ARTICLE[event.evidence.start : event.evidence.end] == event.evidence.quote

    # A new Extractor on the same cache directory: no model call at all.
    calls: list[dict] = []
    with Extractor(model=f"local:{gguf_path}", **options) as extractor:
        monkeypatch.setattr(
            extractor.backend, "_raw_create", lambda **kwargs: calls.append(kwargs) or pytest.fail("model called")
        )
        second = extractor.extract(ARTICLE, source="kano.txt")
    assert calls == []
    assert second.meta.model_calls == 0
    assert second.meta.cache_hit is True
    assert all(p.cache_hit for p in second.meta.passes)
    assert second.meta.usage == meta.usage  # the cached calls' usage is reported, not re-spent
    assert second.model_dump(exclude={"meta"}) == first.model_dump(exclude={"meta"})


# ---------------------------------------------------------------------- (e) the system prompt's state across processes

# A system prompt shorter than one n_batch (512) batch is not saved: it must be longer.
LONG_RULES = " Background: " + " ".join(["The analyst reads every line of the article with care."] * 60)

_PROBE = """
import asyncio, json, sys
sys.path.insert(0, {tests!r})
from tests.support.gguf import dictating_messages
from extractor.backends import GenerationParams, create_backend
from extractor.llm.drafts import ActorsAnswer
backend = create_backend({spec!r}, n_ctx={n_ctx}, params=GenerationParams(max_tokens={max_tokens}))
backend.persist_prefix = {persist}
messages = dictating_messages("actors")
messages[0]["content"] += {rules!r}
result = asyncio.run(backend.complete(ActorsAnswer, messages))
print(json.dumps({{"restored": backend.prefix_tokens_restored, "n_batch": backend.llama.n_batch,
                  "answer": result.parsed.model_dump(), "usage": result.usage.model_dump()}}))
"""


def test_a_new_process_restores_the_system_prompt_state_and_answers_the_same(gguf_path, tmp_path):
    """Process 1 evaluates the system prompt and saves its state; process 2 loads it instead of
    evaluating it, and its answer and token usage are those of a process that does not persist."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    home = tmp_path / "home"

    def probe(persist: bool) -> dict:
        code = _PROBE.format(
            tests=str(Path(__file__).resolve().parents[2]), spec=f"local:{gguf_path}", n_ctx=N_CTX, max_tokens=MAX_TOKENS,
            persist=persist, rules=LONG_RULES,
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
            env={**os.environ, "EXTRACTOR_HOME": str(home)},
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = probe(True)
    files = list((home / "kv-state").glob("*.llama-state"))
    assert first["restored"] == 0 and len(files) == 1
    second = probe(True)
    assert 0 < second["restored"] < second["usage"]["prompt_tokens"]
    assert second["restored"] >= second["n_batch"]  # the system prompt up to the batching anchor
    unpersisted = probe(False)
    assert unpersisted["restored"] == 0
    assert first["answer"] == second["answer"] == unpersisted["answer"]
    assert first["usage"] == second["usage"] == unpersisted["usage"]


def test_a_state_file_that_does_not_load_is_ignored_and_replaced(backend, tmp_path):
    from extractor.backends.local import prefix_state
    from extractor.backends.local.model_store import cache_root

    messages = dictating_messages("actors")
    messages[0]["content"] += LONG_RULES
    path = prefix_state.state_file(cache_root() / "kv-state", backend.identity, backend.context_window, messages[0]["content"])
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a llama.cpp session file")
    backend.llama.reset()
    result = run(backend.complete(ActorsAnswer, messages))
    assert_actors_shape(result.parsed)
    assert backend.prefix_tokens_restored == 0
    assert path.stat().st_size > 1000  # rewritten with a real state after the call


def test_a_system_prompt_shorter_than_one_batch_saves_nothing(backend):
    from extractor.backends.local.model_store import cache_root

    backend.llama.reset()
    run(backend.complete(ActorsAnswer, dictating_messages("actors")))  # ~12-token system prompt
    assert list((cache_root() / "kv-state").glob("*.llama-state")) == []


# ---------------------------------------------------------------------- (f) batches independent of history


class EvalSpy:
    """Records the (start, end) of every multi-token batch llama.cpp evaluates (the prompt's;
    generation evaluates one token at a time). `Llama.eval` splits what it is given into
    `n_batch` batches from where it starts."""

    def __init__(self, monkeypatch, llama):
        self.batches: list[tuple[int, int]] = []
        real = llama.eval

        def spy(tokens):
            start, end = llama.n_tokens, llama.n_tokens + len(tokens)
            if len(tokens) > 1:
                self.batches += [(b, min(end, b + llama.n_batch)) for b in range(start, end, llama.n_batch)]
            return real(tokens)

        monkeypatch.setattr(llama, "eval", spy)

    def take(self) -> list[tuple[int, int]]:
        batches, self.batches = self.batches, []
        return batches


def _task_apart(pass_name: str, article: str) -> list[dict[str, str]]:
    """v4's layout: system, the article's message, the task's message."""
    system, user = dictating_messages(pass_name, article)
    article_part, task = user["content"].split("\n\nAnswer with", 1)
    return [
        {"role": "system", "content": system["content"] + LONG_RULES},
        {"role": "user", "content": article_part},
        {"role": "user", "content": "Answer with" + task},
    ]


def test_a_prompt_is_batched_and_answered_the_same_after_any_other_call(backend, monkeypatch):
    """The same messages meet llama.cpp in the same batches in a fresh context, after another
    pass over the same article, right after themselves (a re-ask shape) and after a prompt
    with another system message: only whole batches of the new prompt's own plan are reused."""
    backend.persist_prefix = False
    llama = backend.llama
    spy = EvalSpy(monkeypatch, llama)
    article = " ".join([ARTICLE] * 48)  # the article alone spans more than one batch
    target, other = _task_apart("actors", article), _task_apart("events", article)

    def call(answer_model, messages):
        answer = run(backend.complete(answer_model, messages)).parsed
        return answer, spy.take()

    llama.reset()
    fresh_answer, fresh = call(ActorsAnswer, target)
    starts = [start for start, _ in fresh]
    anchors = [s for s in starts if s % llama.n_batch]
    assert len(anchors) >= 2, fresh  # the system message's end and the article message's end

    llama.reset()
    call(EventsAnswer, other)
    after_other, batches_after_other = call(ActorsAnswer, target)
    again, batches_again = call(ActorsAnswer, target)
    llama.reset()
    call(ActorsAnswer, dictating_messages("actors"))  # another system prompt
    after_unrelated, batches_after_unrelated = call(ActorsAnswer, target)

    assert batches_after_other[0][0] == anchors[-1]  # the other pass's system + article is kept
    for batches in (batches_after_other, batches_again, batches_after_unrelated):
        assert batches and batches == [b for b in fresh if b[0] >= batches[0][0]]
    assert batches_after_unrelated == fresh
    assert after_other == fresh_answer == again == after_unrelated
