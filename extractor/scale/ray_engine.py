"""The Ray Data engine: the local batch's documents and records, on Ray workers.

A data team with a Ray cluster should not need another scheduler: documents become a
Dataset, `ExtractBatch` (a callable class for `Dataset.map_batches`) holds one `Extractor`
per actor, so each worker loads its model once, and a failed document becomes a row with an
`error` column instead of failing the job. Input files are read and decoded by Ray tasks
with the local engine's own reader, and the resume key is the local engine's, so
`--engine ray` writes the records `--engine local` writes and skips what the output holds.
The CLI streams result rows back to the driver, which appends them to the one JSONL file
(with its lock, torn-line repair and compaction); library users can write the Dataset to
Parquet or JSON directly (`rows` documents the columns).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa

from extractor.batch import resume
from extractor.batch.inputs import DEFAULT_MAX_BYTES, Document, InputProblem, discover, iter_documents
from extractor.batch.run import Batch, failure_of, stamp
from extractor.config import ExtractorConfig
from extractor.scale import rows
from extractor.schemas import Extraction
from extractor.secrets import redact

#: a document on its way to extraction (or the reason it will not be extracted)
DOCUMENT_SCHEMA = pa.schema([
    pa.field("source", pa.string()), pa.field("text", pa.string()), pa.field("sha256", pa.string()),
    pa.field("encoding", pa.string()), pa.field("path", pa.string()), pa.field("published", pa.string()),
    pa.field("error", pa.string()), pa.field("skipped", pa.bool_()),
])  # fmt: skip
#: input files per reader task (JSONL files: one, since each holds many documents)
FILES_PER_READ = 16
#: blocks a listing is split into at least (one per input when there are fewer)
MIN_BLOCKS = 16
#: reader tasks running at once
READ_TASKS = 2


def read_sources(
    batch: pa.Table, *, max_bytes: int = DEFAULT_MAX_BYTES, fallback: str | None = "cp1252", input_format: str = "text",
    done: frozenset[resume.Key] = frozenset(), backend: str = "", prompt: str = "",
) -> pa.Table:  # fmt: skip
    """Reader stage: input paths (`source`, or a `problem` found while listing them) ->
    document rows, read and decoded as the local engine does; a document whose resume key is
    in `done` becomes a skipped row."""
    out: list[dict[str, Any]] = []
    listed = batch.to_pylist()
    for row in listed:
        if row.get("problem"):
            out.append({"source": row["source"], "error": row["problem"], "skipped": False})
    sources = [row["source"] for row in listed if not row.get("problem")]
    for item in iter_documents(sources, max_bytes=max_bytes, fallback=fallback, input_format=input_format):
        if isinstance(item, InputProblem):
            out.append({"source": item.source, "error": item.message, "skipped": False})
        elif resume.key(item.path or item.source, item.sha256, backend, prompt) in done:
            out.append({"source": item.source, "sha256": item.sha256, "skipped": True})
        else:
            out.append({"source": item.source, "text": item.text, "sha256": item.sha256, "encoding": item.encoding,
                        "path": item.path, "published": item.published, "skipped": False})  # fmt: skip
    return pa.Table.from_pylist(out, schema=DOCUMENT_SCHEMA)


def _document(row: dict[str, Any], number: int) -> Document:
    """A Document of an input row (rows a user built may carry only `text`)."""
    import hashlib

    text = row["text"]
    sha = row.get("sha256") or hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    source = row.get("source") or row.get("id") or f"row:{sha[:16]}:{number}"
    return Document(source=str(source), text=text, sha256=sha, encoding=row.get("encoding") or "utf-8",
                    path=row.get("path"), published=row.get("published"))  # fmt: skip


class ExtractBatch:
    """`Dataset.map_batches(ExtractBatch, ...)`: rows (`text`, optional `source`,
    `published`) -> output rows (`rows.OUTPUT_SCHEMA`), one Extractor per actor.

    `concurrency` is the number of model requests each actor keeps in flight (`-j`);
    `published` applies to rows without their own date.
    """

    def __init__(self, config: ExtractorConfig | None = None, *, concurrency: int | None = None,
                 published: str | None = None, **options: Any):  # fmt: skip
        from extractor.pipeline import Extractor

        self.extractor = Extractor(config or ExtractorConfig(**options))
        self.concurrency = concurrency
        self.published = published

    def __call__(self, batch: pa.Table) -> pa.Table:
        return rows.table(self.extractor._run_sync(self._extract(batch.to_pylist())))

    async def _extract(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any] | None] = [None] * len(batch)
        documents: dict[int, Document] = {}
        for number, row in enumerate(batch):
            if row.get("skipped"):
                out[number] = rows.status_row(row.get("source"), skipped=True, sha256=row.get("sha256"))
            elif row.get("error") or not row.get("text"):
                out[number] = rows.status_row(row.get("source"), error=redact(row.get("error") or "no text"),
                                              error_class="InputError", sha256=row.get("sha256"))  # fmt: skip
            else:
                documents[number] = _document(row, number)
        triples = ((str(n), doc.text, doc.published or self.published) for n, doc in documents.items())
        async for key, result in self.extractor.aextract_many(triples, concurrency=self.concurrency):
            number = int(key)
            doc = documents[number]
            if isinstance(result, BaseException):
                error_class, message, attempts = failure_of(doc.source, result)
                out[number] = rows.status_row(doc.source, error=redact(message), error_class=error_class,
                                              attempts=attempts, sha256=doc.sha256)  # fmt: skip
            else:
                stamp(result, doc)
                out[number] = rows.result_row(result)
        return out  # type: ignore[return-value]


def read_documents(
    paths: Iterable[str], *, input_format: str = "text", shard: tuple[int, int] | None = None,
    follow_symlinks: bool = False, max_bytes: int = DEFAULT_MAX_BYTES, fallback: str | None = "cp1252",
    done: Iterable[resume.Key] = (), backend: str = "", prompt: str = "",
) -> Any:  # fmt: skip
    """A Dataset of document rows from files or directories (`*.txt`, or `*.jsonl` with
    `input_format="jsonl"`): listed here, read by Ray tasks. `done`, `backend` and `prompt`
    turn documents already extracted by that model and prompt set into skipped rows; an input
    that cannot be listed is an error row."""
    sources, problems = discover(list(paths), follow_symlinks=follow_symlinks, shard=shard, input_format=input_format)
    listed = [{"source": p.source, "problem": p.message} for p in problems if not p.skipped]
    return _documents(sources, listed, input_format=input_format, max_bytes=max_bytes, fallback=fallback,
                      done=done, backend=backend, prompt=prompt)  # fmt: skip


def _documents(sources: list[str], problems: list[dict[str, Any]], *, input_format: str, max_bytes: int,
               fallback: str | None, done: Iterable[resume.Key], backend: str, prompt: str) -> Any:  # fmt: skip
    """The Dataset of listed inputs (and listing problems), read by Ray tasks."""
    import ray.data

    listed = [{"source": s, "problem": None} for s in sources] + problems
    # Small listings are spread over MIN_BLOCKS read tasks, so every actor gets work at once.
    per_task = 1 if input_format == "jsonl" else max(1, min(FILES_PER_READ, len(listed) // MIN_BLOCKS))
    blocks = max(1, -(-len(listed) // per_task))
    return ray.data.from_items(listed, override_num_blocks=blocks).map_batches(
        # Reading is light: a couple of tasks at a time, each reusing its worker process. Every
        # extra concurrent task would start (and import into) a worker process of its own,
        # which on a small machine delays the extraction actors' start by tens of seconds.
        read_sources, batch_size=per_task, batch_format="pyarrow", num_cpus=0, concurrency=READ_TASKS,
        fn_kwargs={"max_bytes": max_bytes, "fallback": fallback, "input_format": input_format,
                   "done": frozenset(done), "backend": backend, "prompt": prompt},
    )  # fmt: skip


def extract_dataset(
    documents: Any, config: ExtractorConfig, *, workers: int = 1, concurrency: int | None = None,
    published: str | None = None, cpus_per_worker: float = 1.0,
) -> Any:  # fmt: skip
    """The output rows (`rows.OUTPUT_SCHEMA`) of a Dataset of document rows, extracted by
    `workers` actors, each with its own Extractor."""
    import ray.data

    return documents.map_batches(
        ExtractBatch, batch_size=max(1, concurrency or 4), batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=cpus_per_worker,
        fn_constructor_kwargs={"config": config, "concurrency": concurrency, "published": published},
    )  # fmt: skip


def start(address: str | None, workers: int) -> bool:
    """Connect to the cluster at `address`, or start a local one with room for `workers`
    actors; True when this call started Ray (and should shut it down)."""
    import ray

    if ray.is_initialized():
        return False
    # Ray's own start-up chatter (C++ core warnings, log dedup notes) is not this run's output.
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    if address:
        ray.init(address=address, **options)
    else:
        ray.init(num_cpus=max(os.cpu_count() or 1, workers), **options)
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    return True


def run(
    batch: Batch, config: ExtractorConfig, selection: dict[str, Any], *, published: str | None,
    concurrency: int | None, workers: int, address: str | None, on_progress: Callable[[], None] = lambda: None,
) -> None:  # fmt: skip
    """The CLI's `--engine ray`: the selection's documents extracted on Ray, each result row
    written by `batch` on this driver as it arrives (records, error lines, counts)."""
    import ray

    batch.report_problems(selection["problems"])
    started = start(address, workers)
    try:
        extractor = batch.extractor
        # The selection was listed already (and its problems reported): read what it holds.
        documents = _documents(
            selection["sources"], [], input_format=selection["input_format"], max_bytes=selection["max_bytes"],
            fallback=selection["fallback"], done=selection["already"], backend=extractor.backend.identity,
            prompt=extractor.prompts.id,
        )  # fmt: skip
        dataset = extract_dataset(documents, config, workers=workers, concurrency=concurrency, published=published)
        for row in dataset.iter_rows():
            row = dict(row)
            on_progress()
            if row["skipped"]:
                batch.counts.skipped += 1
            elif row["error"] is not None:
                sha = (row.get("meta") or {}).get("input_sha256")
                batch.fail(row["source"], row["error_class"] or "Error", row["error"], row["attempts"] or 0, sha)
            else:
                batch.write(Extraction.model_validate(rows.record_of(row)))
    finally:
        if started:
            ray.shutdown()
