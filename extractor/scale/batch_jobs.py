"""OpenAI Batch API jobs: `prepare` writes every model call of a corpus as a request line,
`ingest` turns the results file into the JSONL a live run writes.

Both run the ordinary pipeline with an answer book (`pipeline.deferred`): prepare's book is
empty, so every call the cache cannot answer is written down; ingest's book is the results
file, so each answer is validated by the backend as a live reply would be (same draft model,
mode, grounding and salvage), cached (a later live run is a cache hit), and the documents
whose calls are all answered are assembled and written with the local engine's writer,
resume key and error lines. What ingest cannot finish is written as requests again: answers
that failed validation to a retry file, calls that have no answer yet (an expired job, or a
later round of a pipeline with dependent stages) to a next-round file.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extractor.batch import resume
from extractor.batch.inputs import Document, discover
from extractor.batch.jsonl import JsonlWriter
from extractor.batch.run import Batch, BatchCounts
from extractor.config import ExtractorConfig
from extractor.errors import ConfigError, InputError
from extractor.pipeline import Extractor
from extractor.pipeline.deferred import AnswerBook, CallsPending
from extractor.scale import batch_files


@dataclass
class JobCounts:
    """What a prepare or an ingest did."""

    documents: BatchCounts
    #: request lines prepare wrote
    requests: int = 0
    #: request lines ingest wrote to the retry and the next-round files
    retry: int = 0
    next_round: int = 0
    #: result lines that could not be read
    bad_results: int = 0


class _RequestWriter:
    """Request lines, each custom_id once (two identical chunks make one call)."""

    def __init__(self, path: Path, backend: Any, *, keep_empty: bool = False):
        self.path = path
        #: write the file even when it gets no line (the job's requests file always exists)
        self.keep_empty = keep_empty
        self.backend = backend
        self.writer: JsonlWriter | None = None
        self.written: set[str] = set()

    def add(self, pending: CallsPending) -> list[str]:
        keys = []
        for call in pending.calls:
            keys.append(call.key)
            if call.key in self.written:
                continue
            if self.writer is None:
                self.writer = JsonlWriter(self.path, truncate=True, first_key="custom_id")
            self.writer.write(batch_files.request_line(call.key, self.backend.request_body(call.answer_model, call.messages)))
            self.written.add(call.key)
        return keys

    def close(self) -> None:
        if self.writer is None and self.keep_empty:
            self.writer = JsonlWriter(self.path, truncate=True, first_key="custom_id")
        if self.writer is not None:
            self.writer.close()
        else:
            _drop_stale(self.path)


def _drop_stale(path: Path) -> None:
    """Remove a previous run's requests file: it would describe calls that are now answered."""
    if path.exists() and batch_files.is_requests_file(path):
        path.unlink()


def _manifest_line(doc: Document, published: str | None, calls: list[str]) -> dict[str, Any]:
    return {"source": doc.source, "path": doc.path, "sha256": doc.sha256, "encoding": doc.encoding,
            "published": doc.published or published, "text": doc.text, "calls": calls}  # fmt: skip


def check_batchable(extractor: Extractor) -> None:
    """Refuse a backend that cannot write requests, or an extractor without a cache."""
    if extractor.cache is None:
        raise ConfigError("a Batch API job keeps its answers in the response cache: it cannot run with --no-cache")
    extractor.backend.request_body(extractor.runner.answer_model("actors"), [{"role": "user", "content": "probe"}])


async def prepare(
    paths: list[str], requests_path: Path, config: ExtractorConfig, *, published: str | None = None,
    input_format: str = "text", shard: tuple[int, int] | None = None, follow_symlinks: bool = False,
    max_bytes: int, fallback: str | None, errors: JsonlWriter | None = None,
    on_error: Callable[[str], None] = lambda message: None,
) -> JobCounts:  # fmt: skip
    """Write the requests of every call the documents need (none for what the cache holds)
    and the document manifest beside them."""
    extractor = Extractor(config, answers=AnswerBook())
    try:
        check_batchable(extractor)
        sources, problems = discover(paths, follow_symlinks=follow_symlinks, shard=shard, input_format=input_format)
        requests = _RequestWriter(requests_path, extractor.backend, keep_empty=True)
        manifest = JsonlWriter(batch_files.manifest_path(requests_path), truncate=True, first_key="extractor_batch")
        manifest.write(batch_files.manifest_header(config, extractor.backend.identity, extractor.prompts.id))

        def pending(doc: Document, calls: CallsPending) -> None:
            manifest.write(_manifest_line(doc, published, requests.add(calls)))

        batch = Batch(extractor, None, errors, on_error=on_error, on_pending=pending,
                      on_result=lambda doc, result: manifest.write(_manifest_line(doc, published, [])))  # fmt: skip
        try:
            documents = batch.select(sources, problems, set(), max_bytes=max_bytes, fallback=fallback,
                                     input_format=input_format)  # fmt: skip
            await batch.run(documents, published=published, concurrency=None)
        finally:
            manifest.close()
            requests.close()
        return JobCounts(batch.counts, requests=len(requests.written))
    finally:
        await extractor.aclose()


def read_results(path: Path, book: AnswerBook, on_error: Callable[[str], None]) -> int:
    """Fill the book from a results file; the number of lines that could not be read."""
    bad = 0
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                custom_id, completion, error = batch_files.result_answer(json.loads(line))
            except (ValueError, AttributeError) as exc:
                bad += 1
                on_error(f"{path}: line {number} is not a batch result ({exc}); skipped")
                continue
            if completion is not None:
                book.completions[custom_id] = completion
            else:
                book.errors[custom_id] = error or "no completion"
    return bad


def _documents(lines: Iterable[dict[str, Any]]) -> Iterator[Document]:
    for line in lines:
        yield Document(source=line["source"], text=line["text"], sha256=line["sha256"],
                       encoding=line.get("encoding") or "utf-8", path=line.get("path"), published=line.get("published"))  # fmt: skip


def _copy_requests(source: Path, target: Path, wanted: set[str]) -> int:
    """Copy the request lines whose custom_id is wanted; how many."""
    if not wanted:
        _drop_stale(target)
        return 0
    copied = 0
    writer = JsonlWriter(target, truncate=True, first_key="custom_id")
    try:
        with source.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if record.get("custom_id") in wanted:
                    writer.write(record)
                    copied += 1
    finally:
        writer.close()
    return copied


async def ingest(
    requests_path: Path, results_path: Path, output: JsonlWriter, *, retry_path: Path, next_path: Path,
    errors: JsonlWriter | None = None, cache_dir: str | None = None, force: bool = False,
    on_error: Callable[[str], None] = lambda message: None,
    on_result: Callable[[Document | None, Any], None] = lambda doc, result: None,
) -> JobCounts:  # fmt: skip
    """Validate and cache every answer of a results file, write each document whose calls
    are all answered, and write requests again for what is still missing."""
    header, lines = batch_files.read_manifest(batch_files.manifest_path(requests_path))
    config = batch_files.config_of(header, cache_dir=cache_dir)
    scratch = Path(tempfile.mkdtemp(prefix="extractor-results-"))
    import diskcache

    completions = diskcache.Cache(str(scratch))
    book = AnswerBook(completions=completions)
    try:
        bad = read_results(results_path, book, on_error)
        extractor = Extractor(config.replace(api_key=config.api_key or "unused-by-ingest"), answers=book)
        try:
            if extractor.backend.identity != header.get("backend") or extractor.prompts.id != header.get("prompt"):
                raise InputError(
                    f"{requests_path}: prepared for {header.get('backend')} with prompts {header.get('prompt')}; "
                    f"this installation builds {extractor.backend.identity} with {extractor.prompts.id}, so no answer "
                    "would match its call"
                )
            next_round = _RequestWriter(next_path, extractor.backend)
            batch = Batch(extractor, output, errors, on_error=on_error, on_result=on_result,
                          on_pending=lambda doc, calls: next_round.add(calls))  # fmt: skip
            already = set() if force or not output.regular or output.path is None else resume.done_keys(output.path)
            try:
                await batch.run(batch.not_done(_documents(lines), already), published=None, concurrency=None)
            finally:
                next_round.close()
            retry = _copy_requests(requests_path, retry_path, set(book.failed))
            return JobCounts(batch.counts, retry=retry, next_round=len(next_round.written), bad_results=bad)
        finally:
            await extractor.aclose()
    finally:
        completions.close()
        shutil.rmtree(scratch, ignore_errors=True)
