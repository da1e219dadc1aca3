"""The facade: `Extractor` (configured, reusable), `extract` and `aextract` (one-shot).

A document goes chunk -> withhold injected instructions -> passes (`run.PassRunner`:
cache, backend) -> a second look at the incidents no event cites (`second_look`) ->
`assemble.assemble` (grounding, resolution, checks). The facade owns the
lifetime of the backend, the cache and a private event loop for the synchronous API; it knows
backends only through `extractor.backends` (the protocol and the factory).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterable
from functools import cached_property
from typing import Any

from extractor.backends import Backend, GenerationParams, create_backend
from extractor.cache import ResponseCache, open_or_recover
from extractor.config import ExtractorConfig
from extractor.errors import CacheError, ConfigError
from extractor.llm.prompts import PromptSet
from extractor.pipeline import second_look
from extractor.pipeline.assemble import AssemblyOptions, assemble
from extractor.pipeline.deferred import AnswerBook
from extractor.pipeline.plan import plan
from extractor.pipeline.run import BATCH_CALLS, PassRunner
from extractor.records import schema_hash
from extractor.schemas import Extraction, Meta
from extractor.text import entities
from extractor.text.chunking import chunk_text

log = logging.getLogger(__name__)

#: tokens kept free beside the system prompt when a chunk's budget is fitted to the context
PROMPT_MARGIN_TOKENS = 200
#: no chunk budget below this, however small the context window
MIN_CHUNK_TOKENS = 256


class Extractor:
    """Configured extractor. Reuse one instance for many documents: the model stays loaded.

    `Extractor(config)` or `Extractor(model="local", **fields)` (the fields of
    `ExtractorConfig`); `backend=` injects a ready backend (tests, embedding); `answers=`
    answers cache misses from a Batch API results file instead of the model
    (`pipeline.deferred`).
    """

    def __init__(
        self,
        model: str | ExtractorConfig = "local",
        *,
        backend: Backend | None = None,
        cache_instance: ResponseCache | None = None,
        answers: AnswerBook | None = None,
        **options: Any,
    ):
        if isinstance(model, ExtractorConfig):
            config = model.replace(**options) if options else model
        else:
            config = ExtractorConfig(model=model, **options)
        self.config = config
        #: problems met while starting (e.g. an unusable cache) that did not stop it
        self.warnings: list[str] = []
        self.backend = backend or create_backend(
            config.model,
            base_url=config.base_url,
            api_key=config.api_key,
            mode=config.mode,
            params=GenerationParams(temperature=config.temperature, seed=config.seed, max_tokens=config.max_tokens),
            max_reasks=config.max_reasks,
            timeout=config.timeout,
            retries=config.retries,
            n_ctx=config.n_ctx,
        )
        self.prompts = PromptSet.load(config.prompt_version)
        self.cache = cache_instance if cache_instance is not None else self._open_cache(config)
        self.schema_hash = schema_hash(self.prompts.style)
        self.runner = PassRunner(self.backend, self.prompts, self.cache, schema_hash=self.schema_hash, replay=config.replay,
                                 answers=answers)
        self._assembly = AssemblyOptions(
            ungrounded=config.ungrounded,
            participants_as_actors=config.participants_as_actors,
            consistency_checks=config.consistency_checks,
            method_types=config.method_types,
            canonical_authorities=config.canonical_authorities,
            one_incident_per_place_and_day=config.one_incident_per_place_and_day,
            places_are_not_actors=config.places_are_not_actors,
            event_sides=config.event_sides,
            people=config.people,
            listed_are_distinct=config.listed_are_distinct,
            names_as_written=config.names_as_written,
            status_as_stated=config.status_as_stated,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_lock = threading.Lock()
        if config.places_are_not_actors or config.people:
            # Load and run the name tagger now, in the caller's thread. Its first import pulls in spaCy's
            # dependencies (httpx among them); made from an assembly worker thread while a request
            # on the event loop used the same module, it once failed a document with "partially
            # initialized module 'httpx'" (CI, under load).
            entities.warm()

    def _open_cache(self, config: ExtractorConfig) -> ResponseCache | None:
        if not config.cache:
            return None
        if config.replay:  # the cache is the only source of answers: never move it aside
            try:
                return ResponseCache(config.cache_dir)
            except CacheError as exc:
                raise ConfigError(f"--replay: the response cache cannot be opened: {exc}") from exc
        cache, warning = open_or_recover(config.cache_dir)
        if warning:
            log.warning("%s", warning)
            self.warnings.append(warning)
        return cache

    # ------------------------------------------------------------------ public API
    @property
    def model_label(self) -> str:
        """provider/model of the backend, for people."""
        return self.backend.label

    @property
    def replay(self) -> bool:
        """Whether answers come from the cache only."""
        return self.config.replay

    def extract(self, text: str, *, source: str | None = None, published: str | None = None) -> Extraction:
        """Synchronous extraction (runs the async pipeline on a private event loop)."""
        return self._run_sync(self.aextract(text, source=source, published=published))

    async def aextract(self, text: str, *, source: str | None = None, published: str | None = None) -> Extraction:
        """Extract actors, events and sanctions from one document."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("text is empty")
        started = time.perf_counter()
        chunks = chunk_text(
            text,
            max_tokens=self._chunk_budget(),
            overlap_tokens=self.config.overlap_tokens,
            count_tokens=self.backend.count_tokens,
        )
        # What the model reads of each chunk (passages that address an AI model withheld),
        # and which passes have anything to answer.
        jobs, withheld_spans = plan(chunks, self.prompts, self.config.passes, self.config.withhold_instructions)
        outputs = await self.runner.run_all(jobs, published)
        if self.config.second_look and self.prompts.style == "sentence":  # uncited incidents, asked again
            follow = second_look.jobs(jobs, outputs)
            if follow:
                answers = await self.runner.run_all(follow, published)
                outputs += [second_look.shown_only(job, answer) for job, answer in zip(follow, answers)]
        meta = Meta(
            model=self.backend.label,
            backend=self.backend.identity,
            prompt_version=self.prompts.id,
            schema_hash=self.schema_hash[:16],
            published=published,
        )
        # Grounding and resolution are CPU work: off the event loop, so one large document
        # never stalls the requests (and their deadlines) of the documents beside it.
        extraction = await asyncio.to_thread(assemble, text, outputs, meta, published, self._assembly)
        withheld = {w.text for w in withheld_spans}
        if withheld:
            shown = "; ".join(repr(t[:80] + ("…" if len(t) > 80 else "")) for t in sorted(withheld)[:3])
            extraction.meta.warnings.insert(
                0, f"withheld {len(withheld)} passage(s) that address an AI model (possible prompt injection): {shown}"
            )
        extraction.source = source
        extraction.meta.chunks = len(chunks)
        extraction.meta.seconds = round(time.perf_counter() - started, 3)
        return extraction

    async def aextract_many(
        self, documents: Iterable[tuple[str, str, str | None]], *, concurrency: int | None = None
    ) -> AsyncIterator[tuple[str, Extraction | BaseException]]:
        """Extract (source, text, published) triples concurrently; yield (source, result) as each finishes.

        The iterable is consumed lazily (a generator that reads files as it goes keeps memory
        constant over any corpus size).

        `concurrency` caps the model requests in flight (default: the backend's, 8 for HTTP
        servers, 1 for the in-process model) and also the documents in flight, so a server
        with N slots never sees more than N requests from one batch, however many passes and
        chunks a document has. A failure is yielded as the exception, never raised: one bad
        document cannot stop a batch.
        """
        capabilities = self.backend.capabilities
        limit = max(1, concurrency or capabilities.max_concurrency)
        if capabilities.prefix_reuse:
            # Two documents in flight would only alternate their passes, evict each other's
            # article from the backend's prompt cache and re-evaluate it
            # (benchmarks/tokens.py measures the cost).
            limit = 1
        calls = asyncio.Semaphore(limit)

        async def one(source: str, text: str, published: str | None) -> tuple[str, Extraction | BaseException]:
            try:
                return source, await self.aextract(text, source=source, published=published)
            except Exception as exc:  # noqa: BLE001 - isolated per document by design
                return source, exc

        def start(document: tuple[str, str, str | None]) -> asyncio.Future:
            token = BATCH_CALLS.set(calls)  # the task copies the context: every call shares the cap
            try:
                return asyncio.ensure_future(one(*document))
            finally:
                BATCH_CALLS.reset(token)

        # Documents are taken from the iterable only as slots free up, so a corpus streams
        # through in constant memory: at most `limit` documents are read and in flight.
        upcoming = iter(documents)
        in_flight: set[asyncio.Future] = set()
        try:
            while True:
                for document in itertools.islice(upcoming, limit - len(in_flight)):
                    in_flight.add(start(document))
                if not in_flight:
                    return
                done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for finished in done:
                    yield finished.result()
        finally:
            for task in in_flight:
                task.cancel()

    async def aclose(self) -> None:
        """Close the backend and the cache from inside a running event loop."""
        await self.backend.aclose()
        if self.cache is not None:
            self.cache.close()

    def close(self) -> None:
        """Close the backend (on the private loop, if one was used) and the cache."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.run_until_complete(self.backend.aclose())
            self._loop.close()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _run_sync(self, coroutine: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            with self._loop_lock:
                if self._loop is None or self._loop.is_closed():
                    self._loop = asyncio.new_event_loop()
                return self._loop.run_until_complete(coroutine)
        # Called from inside a running loop (e.g. a notebook): run on a worker thread.
        result: dict[str, Any] = {}

        def runner() -> None:
            try:
                result["value"] = self._run_sync(coroutine)
            except BaseException as exc:  # noqa: BLE001
                result["error"] = exc

        worker = threading.Thread(target=runner)
        worker.start()
        worker.join()
        if "error" in result:
            raise result["error"]
        return result["value"]

    def _chunk_budget(self) -> int:
        return self.config.chunk_tokens or self._fitted_chunk_budget

    @cached_property
    def _fitted_chunk_budget(self) -> int:
        # Computed once per Extractor: tokenizing the system prompt for every document is a
        # noticeable share of a warm rerun (benchmarks/cache.py).
        overhead = self.backend.count_tokens(self.prompts.system) + PROMPT_MARGIN_TOKENS
        return max(MIN_CHUNK_TOKENS, self.backend.context_window - overhead - self.backend.params.max_tokens)


def extract(text: str, *, model: str = "local", source: str | None = None, published: str | None = None, **options: Any) -> Extraction:
    """Extract actors, events and sanctions from `text` with a one-off `Extractor`."""
    with Extractor(model, **options) as extractor:
        return extractor.extract(text, source=source, published=published)


async def aextract(
    text: str, *, model: str = "local", source: str | None = None, published: str | None = None, **options: Any
) -> Extraction:
    """Async `extract`."""
    extractor = Extractor(model, **options)
    try:
        return await extractor.aextract(text, source=source, published=published)
    finally:
        await extractor.aclose()
