"""`extractor batch prepare | ingest | submit | status | fetch`: the OpenAI Batch API round trip.

prepare writes one request per model call (`requests.jsonl`, the Batch API's own input format,
also what `vllm run-batch` reads) and a document manifest beside it; ingest validates a results
file against them and writes the JSONL `extract` would write. submit, status and fetch move
the files through an endpoint's files and batches API. The work is in `extractor.scale`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Optional

import typer

from extractor.cli.common import (
    BaseUrlOpt, CacheDirOpt, DebugOpt, ModelOpt, ModeOpt, PromptOpt, build_config, err, fail_usage, print_traceback,
    register_run_secrets, say_error, setup_logging,
)  # fmt: skip
from extractor.cli.extract import (
    InputFormat, InputFormatOpt, ShardOpt, _checked_options, _open_writer, _parse_shard, _print_summary,
)  # fmt: skip
from extractor.errors import ConfigError, ExtractorError, first_line

batch_app = typer.Typer(help="OpenAI Batch API jobs: prepare requests, ingest results, submit/status/fetch.",
                        no_args_is_help=True)  # fmt: skip
ApiKeyOpt = Annotated[
    Optional[str], typer.Option("--api-key", help="Key of a non-OpenAI endpoint (default: EXTRACTOR_API_KEY; "
                                "OpenAI itself: OPENAI_API_KEY).")
]


def _fail(exc: BaseException, debug: bool) -> None:
    if debug:
        print_traceback(exc)
    code = 2 if isinstance(exc, (ConfigError, ValueError)) else 1
    say_error(first_line(exc))
    raise typer.Exit(code) from None


@batch_app.command("prepare")
def prepare_command(
    paths: Annotated[list[str], typer.Argument(help="Files or directories (*.txt; *.jsonl with --input-format jsonl).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Requests file to write (JSONL, Batch API input).")],
    model: ModelOpt = "openai/gpt-4o-mini",
    base_url: BaseUrlOpt = None,
    mode: ModeOpt = None,
    prompt_version: PromptOpt = None,
    cache_dir: CacheDirOpt = None,
    published: Annotated[Optional[str], typer.Option("--published", help="Article date (YYYY-MM-DD) for inputs without their own.")] = None,
    input_format: InputFormatOpt = InputFormat.text,
    shard: ShardOpt = None,
    max_bytes: Annotated[int, typer.Option("--max-bytes", min=1, help="Refuse input files larger than this.")] = 2_000_000,
    encoding_fallback: Annotated[str, typer.Option("--encoding-fallback", help="Encoding tried when a file is not UTF-8.")] = "cp1252",
    debug: DebugOpt = False,
) -> None:
    """Write one Batch API request per model call the documents need.

    Calls the response cache already answers get no request. OUTPUT's document manifest
    (`<name>.documents.jsonl`) is written beside it; ingest reads both.
    """
    from extractor.scale import batch_files, batch_jobs

    setup_logging(debug)
    register_run_secrets(base_url)
    fallback = _checked_options(published, encoding_fallback)
    config = build_config(model=model, base_url=base_url, mode=mode, no_cache=False, cache_dir=cache_dir, replay=False,
                          keep_instructions=False, prompt_version=prompt_version, timeout=120.0)  # fmt: skip
    errors_path = output.with_name(output.name + ".errors.jsonl")
    for target in (output, batch_files.manifest_path(output), errors_path):
        if target.is_dir():
            fail_usage(f"{target}: is a directory, not a JSONL file")
    errors = _open_writer(errors_path, None, truncate=True, first_key="path")
    try:
        counts = asyncio.run(batch_jobs.prepare(
            paths, output, config, published=published, input_format=input_format.value, shard=_parse_shard(shard),
            max_bytes=max_bytes, fallback=fallback, errors=errors, on_error=say_error,
        ))  # fmt: skip
    except (ExtractorError, OSError, ValueError) as exc:
        _fail(exc, debug)
    finally:
        errors.close()
    docs = counts.documents
    err.print(f"{counts.requests} request(s) for {docs.pending} document(s) in {output}; {docs.ok} already answered "
              f"by the cache; {docs.failed} failed" + (f" (details in {errors_path})" if docs.failed else ""),
              highlight=False, soft_wrap=True, markup=False)  # fmt: skip
    raise typer.Exit(1 if docs.failed else 0)


@batch_app.command("ingest")
def ingest_command(
    requests: Annotated[Path, typer.Argument(help="The requests file `batch prepare` wrote (its manifest beside it).")],
    results: Annotated[Path, typer.Argument(help="The Batch API's results file (JSONL: custom_id, response, error).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Append results to this JSONL file (resumable).")],
    errors: Annotated[Optional[Path], typer.Option("--errors", help="Per-document failures (default: OUTPUT.errors.jsonl).")] = None,
    retry: Annotated[Optional[Path], typer.Option("--retry", help="Requests whose answers failed validation (default: OUTPUT.retry.jsonl).")] = None,
    next_round: Annotated[Optional[Path], typer.Option("--next", help="Requests with no answer yet (default: OUTPUT.next.jsonl).")] = None,
    cache_dir: CacheDirOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Redo documents already present in --output.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Turn a Batch API results file into the JSONL `extract` writes.

    Every answer is validated as a live reply is, then cached; each document whose calls are
    all answered is written. Requests still needed go to the retry and next-round files.
    """
    from extractor.scale import batch_jobs

    setup_logging(debug)
    for path, what in ((requests, "requests"), (results, "results")):
        if not path.is_file():
            fail_usage(f"{path}: {what} file not found")
    errors_path = errors or output.with_name(output.name + ".errors.jsonl")
    retry_path = retry or output.with_name(output.name + ".retry.jsonl")
    next_path = next_round or output.with_name(output.name + ".next.jsonl")
    if len({p.resolve() for p in (output, errors_path, retry_path, next_path, requests, results)}) < 6:
        fail_usage("-o, --errors, --retry, --next and the two inputs must be six different files")
    out = _open_writer(output, None)
    error_sink = _open_writer(errors_path, None, truncate=True, first_key="path")
    try:
        counts = asyncio.run(batch_jobs.ingest(
            requests, results, out, retry_path=retry_path, next_path=next_path, errors=error_sink,
            cache_dir=str(cache_dir) if cache_dir else None, force=force, on_error=say_error,
        ))  # fmt: skip
        out.compact()
    except (ExtractorError, OSError, ValueError) as exc:
        _fail(exc, debug)
    finally:
        out.close()
        error_sink.close()
    _print_summary(counts.documents, errors_path, None)
    for number, path, what in ((counts.retry, retry_path, "failed validation: resubmit"),
                               (counts.next_round, next_path, "have no answer yet: submit them next")):  # fmt: skip
        if number:
            err.print(f"{number} request(s) {what} ({path})", highlight=False, soft_wrap=True, markup=False)
    docs = counts.documents
    raise typer.Exit(1 if docs.failed or docs.pending or counts.bad_results else 0)


BatchIdArg = Annotated[str, typer.Argument(help="The id `batch submit` printed.")]


def _remote(base_url: str | None, api_key: str | None, debug: bool, call):
    """Run `call(client)` against the endpoint's Batch API; a failure is one line."""
    from extractor.scale import batch_remote

    setup_logging(debug)
    register_run_secrets(base_url, api_key)
    try:
        return call(batch_remote.client(base_url, api_key))
    except (ExtractorError, OSError) as exc:
        _fail(exc, debug)


@batch_app.command("submit")
def submit_command(
    requests: Annotated[Path, typer.Argument(help="The requests file to upload.")],
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    window: Annotated[str, typer.Option("--window", help="completion_window of the batch.")] = "24h",
    debug: DebugOpt = False,
) -> None:
    """Upload REQUESTS and create a batch over it; prints the batch id."""
    from extractor.scale import batch_remote

    if not requests.is_file():
        fail_usage(f"{requests}: requests file not found")
    typer.echo(_remote(base_url, api_key, debug, lambda api: batch_remote.submit(api, requests, window=window)))


@batch_app.command("status")
def status_command(batch_id: BatchIdArg, base_url: BaseUrlOpt = None, api_key: ApiKeyOpt = None, debug: DebugOpt = False) -> None:
    """The batch's status and request counts."""
    from extractor.scale import batch_remote

    state = _remote(base_url, api_key, debug, lambda api: batch_remote.status(api, batch_id))
    typer.echo(f"{state.id}: {state.status} · {state.completed} of {state.total} completed, {state.failed} failed")


@batch_app.command("fetch")
def fetch_command(
    batch_id: BatchIdArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Results file to write (JSONL).")],
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Download a finished batch's results (and its error lines) to OUTPUT, for `batch ingest`."""
    from extractor.scale import batch_remote

    lines = _remote(base_url, api_key, debug, lambda api: batch_remote.fetch(api, batch_id, output))
    typer.echo(f"{lines} result line(s) in {output}")
