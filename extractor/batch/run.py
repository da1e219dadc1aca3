"""One batch run: inputs -> extractions -> the JSONL output and the errors file.

The CLI decides what to show; this module decides what happens to each document: skipped
when `-o` already holds it (same file, content, model and prompt: `resume`), recorded as an error line when it
cannot be read or extracted, written (with its input hash and encoding in `meta`) when it
succeeds. A failure never stops the batch, and every finished document is flushed as it
finishes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from extractor.batch import resume
from extractor.batch.inputs import Document, InputProblem, iter_documents
from extractor.batch.jsonl import JsonlWriter
from extractor.errors import first_line, root_cause
from extractor.pipeline import Extractor
from extractor.pipeline.deferred import CallsPending
from extractor.schemas import Extraction
from extractor.secrets import redact


@dataclass
class BatchCounts:
    """What a batch run did, for its summary line and exit code."""

    ok: int = 0
    skipped: int = 0
    failed: int = 0
    #: inputs not read on purpose (symbolic links that leave their directory)
    passed_over: int = 0
    #: documents waiting for Batch API answers
    pending: int = 0


def failure_of(source: str, exc: BaseException) -> tuple[str, str, int]:
    """A failed document's error class (the root cause), one-line message and attempts, as
    every engine reports them."""
    return type(root_cause(exc)).__name__, f"{source}: {first_line(exc)}", getattr(exc, "attempts", 0)


def stamp(result: Extraction, doc: Document) -> None:
    """What a result carries of its input (source, hash, path, encoding): every engine writes it."""
    result.source = doc.source
    result.meta.input_sha256 = doc.sha256
    result.meta.input_encoding = doc.encoding
    result.meta.input_path = doc.path
    if doc.encoding != "utf-8":
        result.meta.warnings.append(f"decoded as {doc.encoding} (not valid UTF-8)")


@dataclass
class Batch:
    """A batch run's sinks and callbacks; `run` processes the documents it is given."""

    extractor: Extractor
    output: JsonlWriter | None
    errors: JsonlWriter | None = None
    #: called with each failure's one-line (redacted) message
    on_error: Callable[[str], None] = lambda message: None
    #: called with each finished document's result, after it is written
    on_result: Callable[[Document | None, Extraction], None] = lambda doc, result: None
    #: called with each exception (for --debug tracebacks)
    on_exception: Callable[[BaseException], None] = lambda exc: None
    #: called with a document whose model calls wait for a Batch API answer (`pipeline.deferred`)
    on_pending: Callable[[Document, CallsPending], None] | None = None
    counts: BatchCounts = field(default_factory=BatchCounts)

    def fail(self, source: str, error_class: str, message: str, attempts: int = 0, sha: str | None = None) -> None:
        """Count a failed document, report it, and append its error line."""
        self.counts.failed += 1
        message = redact(message)
        self.on_error(message)
        if self.errors is not None:
            self.errors.write(
                {"path": source, "source": source, "input_sha256": sha, "error_class": error_class,
                 "message": message, "attempts": attempts,
                 "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            )  # fmt: skip

    def report_problems(self, problems: Iterable[InputProblem]) -> None:
        """Inputs found unreadable while listing them: error lines (or passed over, for
        symbolic links that leave their directory)."""
        for problem in problems:
            if problem.skipped:
                self.counts.passed_over += 1
                self.on_error(redact(problem.message))
            else:
                self.fail(problem.source, "InputError", problem.message)

    def write(self, result: Extraction, doc: Document | None = None) -> None:
        """Append a finished document's record and count it."""
        if self.output is not None:
            self.output.write(result.model_dump(mode="json"))
        self.counts.ok += 1
        self.on_result(doc, result)

    def select(
        self,
        sources: list[str],
        problems: Iterable[InputProblem],
        already: set[tuple[str, str, str, str]],
        *,
        max_bytes: int,
        fallback: str | None,
        input_format: str = "text",
        on_progress: Callable[[], None] = lambda: None,
    ) -> Iterator[Document]:
        """The documents to extract, read one at a time as the run asks for them (a corpus
        is never held in memory): unreadable ones become error lines and finished ones are
        skipped as they are met, each advancing the progress."""
        self.report_problems(problems)

        def readable() -> Iterator[Document]:
            for item in iter_documents(sources, max_bytes=max_bytes, fallback=fallback, input_format=input_format):
                if isinstance(item, InputProblem):
                    self.fail(item.source, "InputError", item.message)
                    on_progress()
                else:
                    yield item

        yield from self.not_done(readable(), already, on_progress)

    def not_done(
        self, documents: Iterable[Document], already: set[tuple[str, str, str, str]],
        on_progress: Callable[[], None] = lambda: None,
    ) -> Iterator[Document]:  # fmt: skip
        """The documents whose resume key (this extractor's model and prompts) is not in
        `already`; the others are counted as skipped."""
        backend, prompt = self.extractor.backend.identity, self.extractor.prompts.id
        for doc in documents:
            if resume.key(doc.path or doc.source, doc.sha256, backend, prompt) in already:
                self.counts.skipped += 1
                on_progress()
            else:
                yield doc

    async def run(
        self,
        documents: Iterable[Document],
        *,
        published: str | None,
        concurrency: int | None,
        on_progress: Callable[[], None] = lambda: None,
    ) -> BatchCounts:
        """Extract `documents` (consumed lazily), writing each result or error as it finishes."""
        # Each document travels under a key of its own: two JSONL lines may share a source.
        in_flight: dict[str, Document] = {}

        def triples():
            for number, doc in enumerate(documents):
                key = f"{number}:{doc.source}"
                in_flight[key] = doc
                yield key, doc.text, doc.published or published

        stream = self.extractor.aextract_many(triples(), concurrency=concurrency)
        async for key, result in stream:
            doc = in_flight.pop(key)
            source = doc.source
            on_progress()
            if isinstance(result, CallsPending) and self.on_pending is not None:
                self.counts.pending += 1
                self.on_pending(doc, result)
                continue
            if isinstance(result, BaseException):
                self.on_exception(result)
                self.fail(source, *failure_of(source, result), doc.sha256)
                continue
            stamp(result, doc)
            self.write(result, doc)
        return self.counts
