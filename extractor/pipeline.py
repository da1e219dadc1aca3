"""The extraction pipeline: chunk -> record-type passes (cached) -> grounding -> resolution.

`Extractor` holds configuration and a backend for repeated use; `extract` / `aextract`
are one-shot conveniences. The pipeline knows backends only through `Backend` (base.py).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from instructor.core.exceptions import IncompleteOutputException
from rapidfuzz import fuzz

from extractor.backends import Backend, BackendError, GenerationParams, create_backend
from extractor.cache import ResponseCache, make_key
from extractor.chunking import Chunk, chunk_text
from extractor.dates import resolve_date
from extractor.passes import ANSWER_MODELS, ActorDraft, EventDraft, SanctionDraft, ground, grounding_against, schema_hash
from extractor.prompts import PASS_NAMES, PromptSet
from extractor.grounding import locate
from extractor.jsonitems import close_after_last_item
from extractor.injection import withhold
from extractor.consistency import check_events, complete_measures
from extractor.resolution import Entity, canonical_authority, find_entity, guess_kind, normalise, resolve_actors
from extractor.schemas import Actor, Event, Evidence, Extraction, Meta, PassStat, SanctionFact, Usage

Ungrounded = Literal["drop", "flag"]

#: The model-request limit of the `aextract_many` batch a task belongs to (its tasks copy the
#: context they were created in), so two batches on one Extractor keep their own limits.
_BATCH_CALLS: ContextVar[asyncio.Semaphore | None] = ContextVar("extractor_batch_calls", default=None)


class ExtractionError(RuntimeError):
    """A document could not be extracted (a pass failed after retries and re-asks)."""

    def __init__(self, message: str, *, attempts: int = 0):
        super().__init__(message)
        self.attempts = attempts


@dataclass
class _PassOutput:
    chunk: Chunk
    name: str
    items: list[Any]
    stat: PassStat


class Extractor:
    """Configured extractor. Reuse one instance for many documents: the model stays loaded."""

    def __init__(
        self,
        model: str = "local",
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        mode: str | None = None,
        prompt_version: str | None = None,
        cache: bool = True,
        cache_dir: str | None = None,
        replay: bool = False,
        ungrounded: Ungrounded = "drop",
        participants_as_actors: bool = True,
        withhold_instructions: bool = True,
        consistency_checks: bool = True,
        canonical_authorities: bool = True,
        passes: Iterable[str] = PASS_NAMES,
        chunk_tokens: int | None = None,
        overlap_tokens: int = 120,
        temperature: float = 0.0,
        seed: int = 1234,
        max_tokens: int = 1024,
        max_reasks: int | None = None,
        timeout: float = 120.0,
        n_ctx: int = 4096,
        backend: Backend | None = None,
    ):
        passes = tuple(passes)
        unknown = [p for p in passes if p not in PASS_NAMES]
        if unknown or not passes:
            raise ValueError(f"passes must be among {', '.join(PASS_NAMES)}; got {', '.join(passes) or 'none'}")
        if ungrounded not in ("drop", "flag"):
            raise ValueError("ungrounded must be 'drop' or 'flag'")
        params = GenerationParams(temperature=temperature, seed=seed, max_tokens=max_tokens)
        self.backend = backend or create_backend(
            model,
            base_url=base_url,
            api_key=api_key,
            mode=mode,
            params=params,
            max_reasks=max_reasks,
            timeout=timeout,
            n_ctx=n_ctx,
        )
        self.prompts = PromptSet.load(prompt_version)
        if replay and not cache:
            raise ValueError("replay reads the response cache; it cannot run with the cache off")
        self.cache = ResponseCache(cache_dir) if cache else None
        #: answer from the cache only: a miss fails the document instead of calling the model
        self.replay = replay
        self.ungrounded = ungrounded
        self.participants_as_actors = participants_as_actors
        #: replace passages that address an AI model before the model sees them (extractor.injection)
        self.withhold_instructions = withhold_instructions
        #: drop events whose quote says nothing of their type, add the measures a sanctions
        #: quote states (extractor.consistency)
        self.consistency_checks = consistency_checks
        #: sanctions authority = its jurisdiction ("U.S. Treasury" -> "United States"); the
        #: article's wording stays in authority_text (extractor.resolution.canonical_authority)
        self.canonical_authorities = canonical_authorities
        self.passes = passes
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        self.schema_hash = schema_hash()
        self._call_slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_lock = threading.Lock()

    # ------------------------------------------------------------------ public API
    @property
    def model_label(self) -> str:
        return self.backend.label

    def extract(self, text: str, *, source: str | None = None, published: str | None = None) -> Extraction:
        """Synchronous extraction (runs the async pipeline on a private event loop)."""
        return self._run_sync(self.aextract(text, source=source, published=published))

    async def aextract(self, text: str, *, source: str | None = None, published: str | None = None) -> Extraction:
        if not isinstance(text, str) or not text.strip():
            raise ValueError("text is empty")
        started = time.perf_counter()
        chunks = chunk_text(
            text,
            max_tokens=self._chunk_budget(),
            overlap_tokens=self.overlap_tokens,
            count_tokens=self.backend.count_tokens,
        )
        # What the model reads of each chunk: passages that address an AI model withheld.
        shown_to_model = [withhold(c.text) if self.withhold_instructions else (c.text, []) for c in chunks]
        outputs = await self._run_passes(chunks, [model_text for model_text, _ in shown_to_model], published)
        extraction = self._assemble(text, outputs, published)
        if self.withhold_instructions:
            withheld = {w.text for _, spans in shown_to_model for w in spans}
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

        `concurrency` caps the model requests in flight (default: the backend's, 8 for HTTP
        servers, 1 for the in-process model) and also the documents in flight, so a server
        with N slots never sees more than N requests from one batch, however many passes and
        chunks a document has. A failure is yielded as the exception, never raised: one bad
        document cannot stop a batch.
        """
        limit = max(1, concurrency or self.backend.default_concurrency)
        if self.backend.default_concurrency <= 1:
            # One in-process model runs one call at a time anyway; two documents in flight only
            # alternate their passes, evict each other's article from llama.cpp's KV cache and
            # re-evaluate it (2.2x the prompt tokens per article, benchmarks/tokens.py).
            limit = 1
        documents_in_flight = asyncio.Semaphore(limit)

        async def one(source: str, text: str, published: str | None) -> tuple[str, Extraction | BaseException]:
            async with documents_in_flight:
                try:
                    return source, await self.aextract(text, source=source, published=published)
                except Exception as exc:  # noqa: BLE001 - isolated per document by design
                    return source, exc

        token = _BATCH_CALLS.set(asyncio.Semaphore(limit))
        try:
            tasks = [asyncio.ensure_future(one(*doc)) for doc in documents]
        finally:
            _BATCH_CALLS.reset(token)
        try:
            for finished in asyncio.as_completed(tasks):
                yield await finished
        finally:
            for task in tasks:
                task.cancel()

    def close(self) -> None:
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
        return self.chunk_tokens or self._fitted_chunk_budget

    @cached_property
    def _fitted_chunk_budget(self) -> int:
        # Computed once per Extractor: tokenizing the system prompt for every document cost
        # 4 ms each on the embedded model's tokenizer, 15 % of a warm rerun (benchmarks/cache.py).
        overhead = self.backend.count_tokens(self.prompts.system) + 200
        return max(256, self.backend.context_window - overhead - self.backend.params.max_tokens)

    def _slots(self) -> asyncio.Semaphore:
        """Bound on concurrent model calls: the batch's (`aextract_many`), else one per event
        loop sized by the backend's default (a semaphore binds to its loop)."""
        batch = _BATCH_CALLS.get()
        if batch is not None:
            return batch
        loop = asyncio.get_running_loop()
        if self._call_slots is None or self._call_slots[0] is not loop:
            self._call_slots = (loop, asyncio.Semaphore(max(1, self.backend.default_concurrency)))
        return self._call_slots[1]

    async def _run_passes(self, chunks: list[Chunk], model_texts: list[str], published: str | None) -> list[_PassOutput]:
        jobs = [(chunk, model_text, name) for chunk, model_text in zip(chunks, model_texts) for name in self.passes]
        if self.backend.default_concurrency <= 1:
            # In-process model: keep chunk-major order so llama.cpp reuses the article prefix.
            return [await self._one_pass(chunk, model_text, name, published) for chunk, model_text, name in jobs]
        # A TaskGroup cancels the document's other passes as soon as one fails for good.
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self._one_pass(chunk, model_text, name, published)) for chunk, model_text, name in jobs
                ]
        except ExceptionGroup as group_error:
            raise group_error.exceptions[0]  # keeps its own __cause__ (the root error class)
        return [task.result() for task in tasks]

    async def _one_pass(self, chunk: Chunk, model_text: str, name: str, published: str | None) -> _PassOutput:
        model = ANSWER_MODELS[name]
        messages = self.prompts.messages(name, model_text, published)
        key = "" if self.cache is None else make_key(
            identity=self.backend.identity,
            prompt_id=self.prompts.id,
            schema_hash=self.schema_hash,
            params=self.backend.params.as_dict(),
            pass_name=name,
            text=chunk.text,
            messages=messages,
        )
        started = time.perf_counter()
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None:
            try:
                answer = model.model_validate(cached["output"])
                usage = Usage.model_validate(cached.get("usage") or {})
                stat = PassStat(
                    name=name, chunk=chunk.index, cache_hit=True, seconds=0.0, usage=usage,
                    error=cached.get("warning"),
                )
                stat.seconds = round(time.perf_counter() - started, 4)
                return _PassOutput(chunk, name, answer.items(), stat)
            except Exception:  # noqa: BLE001 - a stale or corrupt entry is a miss
                cached = None
        if self.replay:
            raise ExtractionError(
                f"replay: no cached answer for the {name} pass on chunk {chunk.index} "
                f"(model {self.backend.identity[:40]}, prompt {self.prompts.id})"
            )

        async with self._slots():
            try:
                with grounding_against(chunk.text):
                    result = await self.backend.complete(model, messages)
            except BackendError as exc:
                return self._salvage(chunk, name, exc, started, key)
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
        return _PassOutput(chunk, name, result.parsed.items(), stat)

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

    def _salvage(self, chunk: Chunk, name: str, exc: BackendError, started: float, key: str) -> _PassOutput:
        """After re-asks are spent, keep a parseable answer whose only fault is grounding:
        its ungrounded records are then dropped or flagged like any other. The kept answer is
        cached with its warning (the model's reply to the same request is the same at
        temperature 0), so a warm rerun and a replay make no model call; transport failures
        and unparseable output are never cached."""
        model = ANSWER_MODELS[name]
        text, note = exc.last_output, f"kept after re-asks: {exc}"
        if text and isinstance(exc.__cause__, IncompleteOutputException):
            # Cut off at max_tokens (typically a list the model kept extending): its complete
            # items are a valid, deterministic answer.
            text = close_after_last_item(text)
            note = f"kept the complete items of an answer cut off at max_tokens ({self.backend.params.max_tokens})"
        if text:
            try:
                answer = model.model_validate_json(text)
            except Exception:  # noqa: BLE001
                answer = None
            if answer is not None:
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
                return _PassOutput(chunk, name, answer.items(), stat)
        raise ExtractionError(f"{name} pass on chunk {chunk.index} failed: {exc}", attempts=exc.attempts) from exc

    # ------------------------------------------------------------------ assembly
    @staticmethod
    def _evidence(item: Any, chunk: Chunk, text: str) -> Evidence | None:
        evidence = ground(item, chunk.text, base=chunk.start)
        return evidence if evidence is not None and evidence.holds_in(text) else None

    def _assemble(self, text: str, outputs: list[_PassOutput], published: str | None) -> Extraction:
        meta = Meta(
            model=self.backend.label,
            backend=self.backend.identity,
            prompt_version=self.prompts.id,
            schema_hash=self.schema_hash[:16],
            published=published,
        )
        for output in outputs:
            meta.passes.append(output.stat)
            meta.usage.add(output.stat.usage)
            meta.reasks += output.stat.reasks
            meta.transport_retries += output.stat.transport_retries
            meta.model_calls += 0 if output.stat.cache_hit else 1 + output.stat.reasks
            if output.stat.error:
                meta.warnings.append(f"{output.name} pass, chunk {output.chunk.index}: {output.stat.error}")
        meta.cache_hit = bool(outputs) and all(o.stat.cache_hit for o in outputs)

        dropped = 0
        actor_mentions: list[tuple[ActorDraft, Evidence | None]] = []
        event_drafts: list[tuple[EventDraft, Evidence | None]] = []
        sanction_drafts: list[tuple[SanctionDraft, Evidence | None]] = []
        for output in outputs:
            for item in output.items:
                evidence = self._evidence(item, output.chunk, text)
                if evidence is None and self.ungrounded == "drop":
                    dropped += 1
                    continue
                target = {"actors": actor_mentions, "events": event_drafts, "sanctions": sanction_drafts}[output.name]
                target.append((item, evidence))
        if dropped:
            meta.warnings.append(f"dropped {dropped} record(s) whose quote or name is not in the text")

        actors, entities = self._actors(actor_mentions)
        if self.participants_as_actors:
            self._add_participants(text, event_drafts, sanction_drafts, entities, actors)
        events = self._events(event_drafts, entities, actors, published)
        sanctions = self._sanctions(sanction_drafts, entities, actors)
        if self.consistency_checks:
            events, notes = check_events(events)
            sanctions, added = complete_measures(sanctions)
            meta.warnings += notes + ([f"added {added} measure(s) that a sanctions quote states"] if added else [])
        return Extraction(actors=actors, events=events, sanctions=sanctions, meta=meta)

    def _actors(self, mentions: list[tuple[ActorDraft, Evidence | None]]) -> tuple[list[Actor], list]:
        entities, assignment = resolve_actors([(d.name, d.kind, list(d.aliases)) for d, _ in mentions])
        evidence_of: dict[int, Evidence | None] = {}
        for (_, evidence), entity_index in zip(mentions, assignment):
            if evidence_of.get(entity_index) is None:
                evidence_of[entity_index] = evidence
        actors = [
            Actor(
                id=f"a{n + 1}",
                name=_as_written(entity.name, evidence_of.get(n)),
                aliases=[a for a in entity.aliases if a != _as_written(entity.name, evidence_of.get(n))],
                kind=entity.kind,
                evidence=evidence_of.get(n),
                grounded=evidence_of.get(n) is not None,
            )
            for n, entity in enumerate(entities)
        ]
        return actors, entities

    @staticmethod
    def _add_participants(text, event_drafts, sanction_drafts, entities, actors) -> None:
        """Named participants of events and sanctions that the actors pass missed become
        actors too, when their name is in the text and is not a collective noun ("civilians")."""
        roles: list[tuple[str, str]] = []
        for draft, _ in event_drafts:
            roles += [(n, "perpetrator") for n in draft.perpetrators] + [(n, "target") for n in draft.targets]
        for draft, _ in sanction_drafts:
            roles.append((draft.target, "sanction_target"))
            if draft.authority:
                roles.append((draft.authority, "authority"))
        for name, role in roles:
            if find_entity(entities, name) is not None:
                continue
            kind = guess_kind(name, role)
            evidence = locate(name, text, whole_word=True) if kind else None
            if evidence is None or fuzz.ratio(normalise(evidence.quote), normalise(name)) < 85:
                continue
            entities.append(Entity(name=evidence.quote, kind=kind, members=[-1]))
            actors.append(
                Actor(id=f"a{len(actors) + 1}", name=evidence.quote, kind=kind, evidence=evidence, grounded=True)
            )

    @staticmethod
    def _refs(names: list[str], entities: list, actors: list[Actor]) -> tuple[list[str], list[str]]:
        resolved_names, ids = [], []
        for name in names:
            index = find_entity(entities, name)
            canonical = actors[index].name if index is not None else name
            if canonical not in resolved_names:
                resolved_names.append(canonical)
                if index is not None:
                    ids.append(actors[index].id)
        return resolved_names, ids

    def _events(self, drafts, entities, actors, published) -> list[Event]:
        events: list[Event] = []
        seen: set[tuple] = set()
        for draft, evidence in drafts:
            perpetrators, perpetrator_ids = self._refs(draft.perpetrators, entities, actors)
            targets, target_ids = self._refs(draft.targets, entities, actors)
            fatalities = draft.fatalities
            key = (
                draft.type,
                evidence.start if evidence else f"ungrounded-{len(events)}",  # flagged ones never merge
                tuple(sorted(normalise(p) for p in perpetrators)),
                tuple(sorted(normalise(t) for t in targets)),
            )
            if key in seen:
                continue
            seen.add(key)
            events.append(
                Event(
                    id=f"e{len(events) + 1}",
                    type=draft.type,
                    perpetrators=perpetrators,
                    targets=targets,
                    perpetrator_ids=perpetrator_ids,
                    target_ids=target_ids,
                    date=resolve_date(draft.date, published),
                    date_text=draft.date,
                    country=_blank_to_none(draft.country),
                    admin1=_blank_to_none(draft.admin1),
                    location=_blank_to_none(draft.location),
                    fatalities=fatalities,
                    sources=list(draft.sources),
                    evidence=evidence,
                    grounded=evidence is not None,
                )
            )
        return events

    def _sanctions(self, drafts, entities, actors) -> list[SanctionFact]:
        facts: list[SanctionFact] = []
        seen: set[tuple] = set()
        for draft, evidence in drafts:
            (target,), target_ids = self._refs([draft.target], entities, actors)
            authority, authority_ids = (
                self._refs([draft.authority], entities, actors) if draft.authority else ([None], [])
            )
            jurisdiction = (self.canonical_authorities and canonical_authority(draft.authority)) or authority[0]
            key = (normalise(target), normalise(jurisdiction or ""), draft.measure)
            if key in seen:
                continue
            seen.add(key)
            facts.append(
                SanctionFact(
                    id=f"s{len(facts) + 1}",
                    target=target,
                    target_id=target_ids[0] if target_ids else None,
                    authority=jurisdiction,
                    authority_text=_blank_to_none(draft.authority),
                    authority_id=authority_ids[0] if authority_ids else None,
                    measure=draft.measure,
                    status=draft.status,
                    program=_blank_to_none(draft.program),
                    amount=draft.amount,
                    currency=_currency(draft.currency),
                    evidence=evidence,
                    grounded=evidence is not None,
                )
            )
        return facts


def _as_written(name: str, evidence: Evidence | None) -> str:
    """Prefer the article's spelling when the name was grounded by a near match."""
    if evidence is not None and evidence.quote != name:
        if fuzz.ratio(normalise(evidence.quote), normalise(name)) >= 85:
            return evidence.quote
    return name


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value if value and value.lower() not in {"null", "none", "unknown", "n/a"} else None


def _currency(value: str | None) -> str | None:
    value = _blank_to_none(value)
    if value is None:
        return None
    aliases = {"$": "USD", "DOLLARS": "USD", "US DOLLARS": "USD", "€": "EUR", "EUROS": "EUR", "£": "GBP", "POUNDS": "GBP"}
    upper = value.upper()
    if upper in aliases:
        return aliases[upper]
    return upper if re.fullmatch(r"[A-Z]{3}", upper) else None


def extract(text: str, *, model: str = "local", source: str | None = None, published: str | None = None, **options: Any) -> Extraction:
    """Extract actors, events and sanctions from `text` with a one-off `Extractor`."""
    with Extractor(model, **options) as extractor:
        return extractor.extract(text, source=source, published=published)


async def aextract(
    text: str, *, model: str = "local", source: str | None = None, published: str | None = None, **options: Any
) -> Extraction:
    extractor = Extractor(model, **options)
    try:
        return await extractor.aextract(text, source=source, published=published)
    finally:
        await extractor.backend.aclose()
        if extractor.cache is not None:
            extractor.cache.close()
