"""Running the passes of one document: cache, replay, call slots and salvage.

Each (chunk, pass) job is answered from the response cache when it can be, else by one
backend call inside a slot of the batch's request limit. A failed call whose last answer is
still usable (a list cut off at max_tokens, or an answer whose only fault is grounding) is
salvaged and cached with its warning; everything else fails the document. Backends that keep
the evaluated prompt between calls (`Capabilities.prefix_reuse`) get their jobs one at a time
in chunk order, so a chunk's passes share the article prefix. A job marked `skip` (no
candidate sentence for its pass) makes no call and returns no items.
"""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from extractor.backends import Backend
from extractor.cache import FORMAT_VERSION, ResponseCache, make_key
from extractor.errors import BackendError, ExtractionError
from extractor.llm.drafts import grounding_against
from extractor.llm.partial_json import close_after_last_item
from extractor.llm.prompts import PromptSet
from extractor.pipeline.assemble import PassOutput
from extractor.pipeline.deferred import AnswerBook, CallsPending, PendingCall
from extractor.records import passes_for
from extractor.schemas import PassStat, Usage
from extractor.text.chunking import Chunk

#: The model-request limit of the `aextract_many` batch a task belongs to (its tasks copy the
#: context they were created in), so two batches on one Extractor keep their own limits.
BATCH_CALLS: ContextVar[asyncio.Semaphore | None] = ContextVar("extractor_batch_calls", default=None)


@dataclass(frozen=True)
class PassJob:
    """One pass over one chunk: the chunk as the model sees it, the task template's
    variables, and whether the pass is skipped (no candidate sentence)."""

    chunk: Chunk
    model_text: str
    name: str
    hints: dict | None = None
    skip: bool = False


class PassRunner:
    """Answers (chunk, pass) jobs for one Extractor: from the cache, or by calling the backend."""

    def __init__(
        self, backend: Backend, prompts: PromptSet, cache: ResponseCache | None, *, schema_hash: str, replay: bool,
        answers: AnswerBook | None = None,
    ):
        self.backend = backend
        #: where misses are answered instead of the model (None: call the model)
        self.answers = answers
        self.prompts = prompts
        self.cache = cache
        self.schema_hash = schema_hash
        self.replay = replay
        self.passes = passes_for(prompts.style)
        self._call_slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def _slots(self) -> asyncio.Semaphore:
        """Bound on concurrent model calls: the batch's (`aextract_many`), else one per event
        loop sized by the backend's capabilities (a semaphore binds to its loop)."""
        batch = BATCH_CALLS.get()
        if batch is not None:
            return batch
        loop = asyncio.get_running_loop()
        if self._call_slots is None or self._call_slots[0] is not loop:
            self._call_slots = (loop, asyncio.Semaphore(max(1, self.backend.capabilities.max_concurrency)))
        return self._call_slots[1]

    def answer_model(self, name: str) -> type:
        """The draft answer model of a pass in this prompt set's evidence style."""
        return self.passes[name].answer_model

    async def run_all(self, jobs: list[PassJob], published: str | None) -> list[PassOutput]:
        """Every job (chunk-major order); outputs in the same order. Raises `CallsPending`
        when an answer book leaves calls unanswered."""
        if self.answers is not None:
            return self._complete(await self._each_from_book(jobs, published))
        if self.backend.capabilities.prefix_reuse:
            # Keep chunk-major order, one call at a time, so the backend reuses the article prefix.
            return [await self.one(job, published) for job in jobs]
        # A TaskGroup cancels the document's other passes as soon as one fails for good.
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self.one(job, published)) for job in jobs]
        except ExceptionGroup as group_error:
            raise group_error.exceptions[0]  # keeps its own __cause__ (the root error class)
        return [task.result() for task in tasks]

    async def _each_from_book(self, jobs: list[PassJob], published: str | None) -> list[PassOutput]:
        """Every job against the answer book, none cancelled by another's failure: each valid
        answer reaches the cache and each refused one the book's `failed`, whatever its
        neighbours did. The first failure is raised after all have run."""
        outputs: list[PassOutput] = []
        failures: list[ExtractionError] = []
        for job in jobs:
            try:
                outputs.append(await self.one(job, published))
            except ExtractionError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]
        return outputs

    @staticmethod
    def _complete(outputs: list[PassOutput]) -> list[PassOutput]:
        pending = [output.pending for output in outputs if output.pending is not None]
        if pending:
            raise CallsPending(pending)
        return outputs

    def _key(self, name: str, chunk: Chunk, messages: list[dict[str, str]], *, legacy: bool = False) -> str:
        if self.cache is None:
            return ""
        return make_key(
            identity=self.backend.identity,
            prompt_id=self.prompts.id if legacy else self.prompts.pass_id(name),
            schema_hash=self.schema_hash,
            params=self.backend.params.as_dict(),
            pass_name=name,
            text=chunk.text,
            messages=messages,
            format_version=1 if legacy else FORMAT_VERSION,
        )

    def _from_cache(self, key: str, name: str, chunk: Chunk, started: float, messages: list[dict[str, str]]) -> PassOutput | None:
        if self.cache is None:
            return None
        cached = self.cache.get(key)
        if cached is None:
            # An entry of a format-1 cache (keyed by the whole prompt version): found, and moved
            # to its format-2 key (one old key maps to exactly one new key).
            legacy = self._key(name, chunk, messages, legacy=True)
            cached = self.cache.get(legacy)
            if cached is not None:
                self.cache.move(legacy, key, cached)
        if cached is None:
            return None
        try:
            answer = self.answer_model(name).model_validate(cached["output"])
            usage = Usage.model_validate(cached.get("usage") or {})
        except Exception:  # noqa: BLE001 - a stale or corrupt entry is a miss
            return None
        stat = PassStat(name=name, chunk=chunk.index, cache_hit=True, seconds=0.0, usage=usage, error=cached.get("warning"))
        stat.seconds = round(time.perf_counter() - started, 4)
        return PassOutput(chunk, name, answer.items(), stat)

    async def one(self, job: PassJob, published: str | None) -> PassOutput:
        """One pass over one chunk: from the cache, else one backend call (none when skipped)."""
        chunk, name = job.chunk, job.name
        if job.skip:
            return PassOutput(chunk, name, [], PassStat(name=name, chunk=chunk.index, cache_hit=False, seconds=0.0, skipped=True))
        messages = self.prompts.messages(name, job.model_text, published, job.hints)
        key = self._key(name, chunk, messages)
        started = time.perf_counter()
        hit = self._from_cache(key, name, chunk, started, messages)
        if hit is not None:
            return hit
        if self.answers is not None:
            return self._from_book(job, key, messages, started)
        if self.replay:
            raise ExtractionError(
                f"replay: no cached answer for the {name} pass on chunk {chunk.index} "
                f"(model {self.backend.identity[:40]}, prompt {self.prompts.id})"
            )
        async with self._slots():
            try:
                with grounding_against(chunk.text):
                    result = await self.backend.complete(self.answer_model(name), messages)
            except BackendError as exc:
                return self._salvage(chunk, name, exc, started, key)
        return self._answered(chunk, name, key, result, started)

    def _from_book(self, job: PassJob, key: str, messages: list[dict[str, str]], started: float) -> PassOutput:
        """A miss answered by the book (validated by the backend as a live reply, salvaged
        and cached the same way), or left pending when the book has no answer for it."""
        chunk, name, book = job.chunk, job.name, self.answers
        assert book is not None
        model = self.answer_model(name)
        if key not in book:
            stat = PassStat(name=name, chunk=chunk.index, cache_hit=False, seconds=0.0)
            return PassOutput(chunk, name, [], stat, pending=PendingCall(key, name, chunk.index, messages, model))
        try:
            if key in book.errors:
                raise BackendError(book.errors[key], kind="other")
            with grounding_against(chunk.text):
                result = self.backend.parse_completion(model, book.completions[key])
        except BackendError as exc:
            try:
                return self._salvage(chunk, name, exc, started, key)
            except ExtractionError as failed:
                book.failed[key] = str(failed)
                raise
        return self._answered(chunk, name, key, result, started)

    def _answered(self, chunk: Chunk, name: str, key: str, result: Any, started: float) -> PassOutput:
        """A validated answer: its stat, cached, as the pass's output."""
        stat = PassStat(
            name=name,
            chunk=chunk.index,
            cache_hit=False,
            seconds=round(time.perf_counter() - started, 3),
            usage=result.usage,
            reasks=result.reasks,
            transport_retries=result.transport_retries,
        )
        self._store(key, name, result.parsed, result.usage)
        return PassOutput(chunk, name, result.parsed.items(), stat)

    def _store(self, key: str, name: str, answer: Any, usage: Usage, warning: str | None = None) -> None:
        if self.cache is None:
            return
        entry = {
            "pass": name,
            "identity": self.backend.identity,
            "prompt": self.prompts.id,
            "output": answer.model_dump(mode="json"),
            "usage": usage.model_dump(),
        }
        if warning:
            entry["warning"] = warning
        self.cache.set(key, entry)

    def _salvage(self, chunk: Chunk, name: str, exc: BackendError, started: float, key: str) -> PassOutput:
        """After re-asks are spent, keep a parseable answer whose only fault is grounding:
        its ungrounded records are then dropped or flagged like any other. The kept answer is
        cached with its warning (the model's reply to the same request is the same at
        temperature 0), so a warm rerun and a replay make no model call; transport failures
        and unparseable output are never cached."""
        text, note = exc.partial, f"kept after re-asks: {exc}"
        if text and exc.kind == "truncated":
            # Cut off at max_tokens (typically a list the model kept extending): its complete
            # items are a valid, deterministic answer.
            text = close_after_last_item(text)
            note = f"kept the complete items of an answer cut off at max_tokens ({self.backend.params.max_tokens})"
        answer = None
        if text:
            try:
                answer = self.answer_model(name).model_validate_json(text)
            except Exception:  # noqa: BLE001
                answer = None
        if answer is None:
            raise ExtractionError(f"{name} pass on chunk {chunk.index} failed: {exc}", attempts=exc.attempts) from exc
        stat = PassStat(
            name=name,
            chunk=chunk.index,
            cache_hit=False,
            seconds=round(time.perf_counter() - started, 3),
            usage=exc.usage,
            reasks=max(0, exc.attempts - 1),
            error=note,
        )
        self._store(key, name, answer, exc.usage, warning=stat.error)
        return PassOutput(chunk, name, answer.items(), stat)
