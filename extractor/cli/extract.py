"""`extractor extract`: files, directories or stdin -> one JSON line per document."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from extractor.cli.common import (
    BaseUrlOpt, CacheDirOpt, DebugOpt, KeepInstructionsOpt, ModelOpt, ModeOpt, NoCacheOpt, PriceInOpt, PriceOutOpt,
    PromptOpt, ReplayOpt, TimeoutOpt, build_config, err, fail_usage, make_extractor, prices_from, print_traceback,
    register_run_secrets, say_error, setup_logging,
)  # fmt: skip
from extractor.errors import ConfigError, OutputBusy, OutputError, first_line


class InputFormat(StrEnum):
    """`--input-format`: files of text, or JSON lines of documents."""

    text = "text"
    jsonl = "jsonl"


InputFormatOpt = Annotated[
    InputFormat,
    typer.Option("--input-format", help="text (files, directories of *.txt) | jsonl (one document a line: "
                 "text, optional id, source, url, published)."),
]
class Engine(StrEnum):
    """`--engine`: this process, or a Ray cluster."""

    local = "local"
    ray = "ray"


EngineOpt = Annotated[
    Engine, typer.Option("--engine", help="local (this process) | ray (Ray Data actors; needs the ray extra: "
                         "pip install 'extractor[ray]'). Same records, resume and error lines either way.")
]
RayAddressOpt = Annotated[
    Optional[str], typer.Option("--ray-address", help="Ray cluster to join (e.g. auto, ray://head:10001); "
                                "default: start a local one.")
]
RayWorkersOpt = Annotated[
    int, typer.Option("--ray-workers", min=1, help="Ray actors, each with its own Extractor (model loaded once per "
                      "actor); -j stays requests in flight per actor.")
]
ShardOpt = Annotated[
    Optional[str],
    typer.Option("--shard", metavar="I/N", help="Process shard I of N (1-based; files chosen by a hash of their path "
                 "inside the input directory), so N processes or machines split a corpus without coordination."),
]


def extract(
    paths: Annotated[list[str], typer.Argument(help="Files, directories (recursively *.txt; *.jsonl with --input-format jsonl) or - for stdin.")],
    model: ModelOpt = "local",
    base_url: BaseUrlOpt = None,
    mode: ModeOpt = None,
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Append results to this JSONL file (resumable).")
    ] = None,
    errors: Annotated[
        Optional[Path],
        typer.Option("--errors", help="JSONL file for this run's per-document failures (default: OUTPUT.errors.jsonl)."),
    ] = None,
    pretty: Annotated[bool, typer.Option("--pretty", help="Readable tables instead of JSON lines on stdout.")] = False,
    published: Annotated[
        Optional[str], typer.Option("--published", help="Article date (YYYY-MM-DD) to resolve relative dates.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo documents already present in --output.")] = False,
    concurrency: Annotated[
        Optional[int], typer.Option("--concurrency", "-j", min=1, help="Model requests in flight, and at most as many documents (default: 1 local, 8 HTTP).")
    ] = None,
    max_bytes: Annotated[int, typer.Option("--max-bytes", min=1, help="Refuse input files larger than this.")] = 2_000_000,
    encoding_fallback: Annotated[
        str, typer.Option("--encoding-fallback", help="Encoding tried when a file is not UTF-8 ('' to refuse).")
    ] = "cp1252",
    ungrounded: Annotated[
        str, typer.Option("--ungrounded", help="drop | flag records whose quote is not found in the text.")
    ] = "drop",
    no_cache: NoCacheOpt = False,
    cache_dir: CacheDirOpt = None,
    replay: ReplayOpt = False,
    keep_instructions: KeepInstructionsOpt = False,
    prompt_version: PromptOpt = None,
    timeout: TimeoutOpt = 120.0,
    retries: Annotated[
        int, typer.Option("--retries", min=1, help="HTTP attempts per model call: 1 + transport retries (HTTP backends).")
    ] = 4,
    max_reasks: Annotated[
        Optional[int],
        typer.Option("--max-reasks", min=0, help="Re-asks after invalid model output (default: 2 HTTP, 1 local)."),
    ] = None,
    follow_symlinks: Annotated[
        bool, typer.Option("--follow-symlinks", help="Read files reached through symbolic links that lead out of an input directory.")
    ] = False,
    input_format: InputFormatOpt = InputFormat.text,
    shard: ShardOpt = None,
    engine: EngineOpt = Engine.local,
    ray_address: RayAddressOpt = None,
    ray_workers: RayWorkersOpt = 1,
    price_in: PriceInOpt = None,
    price_out: PriceOutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Extract actors, events and sanctions from articles; one JSON object per document per line."""
    setup_logging(debug)
    register_run_secrets(base_url)  # before any option is checked
    try:
        _extract(
            paths, output=output, errors=errors, pretty=pretty, published=published, force=force,
            concurrency=concurrency, max_bytes=max_bytes, encoding_fallback=encoding_fallback, debug=debug,
            follow_symlinks=follow_symlinks, prices=prices_from(price_in, price_out), shard=_parse_shard(shard),
            input_format=input_format.value, engine=(engine.value, ray_address, ray_workers),
            config_options=dict(
                model=model, base_url=base_url, mode=mode, no_cache=no_cache, cache_dir=cache_dir, replay=replay,
                keep_instructions=keep_instructions, prompt_version=prompt_version, timeout=timeout,
                ungrounded=ungrounded, retries=retries, max_reasks=max_reasks,
            ),
        )  # fmt: skip
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt:
        err.print("interrupted: finished documents are in the output; rerun to resume", highlight=False)
        raise typer.Exit(130) from None
    except BrokenPipeError:  # stdout closed early (e.g. | head): not an error of ours
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        raise typer.Exit(0) from None
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback, unless --debug
        if debug:
            print_traceback(exc)
        say_error(f"{first_line(exc)} ({type(exc).__name__}; --debug shows the traceback)")
        raise typer.Exit(1) from None


def _open_writer(path: Path | None, stream, *, truncate: bool = False, first_key: str = "source"):
    from extractor.batch.jsonl import JsonlWriter

    try:
        return JsonlWriter(path, stream, truncate=truncate, first_key=first_key)
    except (OutputBusy, ConfigError) as exc:
        fail_usage(str(exc))
    except OSError as exc:
        fail_usage(f"{path}: cannot write ({exc})")


def _check_outputs(output: Path | None, errors_path: Path | None, read_from: set[str]) -> None:
    """Exit 2 when -o / --errors collide with each other, a directory or an input."""
    if output is not None and errors_path is not None and output.resolve() == errors_path.resolve():
        fail_usage(f"--errors {errors_path} is the output file; give it its own path")
    for target, flag in ((output, "-o"), (errors_path, "--errors")):
        if target is not None and target.is_dir():
            fail_usage(f"{target}: is a directory, not a JSONL file")
        if target is not None and os.path.realpath(target) in read_from:
            fail_usage(f"{flag} {target}: is one of the inputs; write the results somewhere else")


def _extract(
    paths: list[str], *, output: Path | None, errors: Path | None, pretty: bool, published: str | None, force: bool,
    concurrency: int | None, max_bytes: int, encoding_fallback: str, debug: bool, config_options: dict,
    follow_symlinks: bool = False, prices=None, shard: tuple[int, int] | None = None, input_format: str = "text",
    engine: tuple[str, str | None, int] = ("local", None, 1),
) -> None:
    from extractor.batch import inputs, resume
    from extractor.batch.run import Batch

    fallback = _checked_options(published, encoding_fallback)
    config = build_config(**config_options)
    if engine[0] == "ray":
        _check_ray(paths)
    errors_path = errors or (output.with_name(output.name + ".errors.jsonl") if output else None)

    sources, problems = inputs.discover(paths, follow_symlinks=follow_symlinks, shard=shard, input_format=input_format)
    if not sources and problems and all(p.source != inputs.STDIN and not p.skipped for p in problems):
        for problem in problems:
            say_error(problem.message)
        raise typer.Exit(2)
    _check_outputs(output, errors_path, inputs.real_paths(sources, (output, errors_path)))

    extractor = make_extractor(config)
    try:
        out = _open_writer(output, None if pretty else sys.stdout)
    except typer.Exit:
        extractor.close()
        raise
    try:
        error_sink = _open_writer(errors_path, None, truncate=True, first_key="path") if errors_path else None
    except typer.Exit:
        out.close()
        extractor.close()
        raise
    already = set() if force or output is None or not out.regular else resume.done_keys(output)

    from extractor.summary import Summary

    this_run = Summary()
    started = time.monotonic()

    def show_result(_doc, result) -> None:
        this_run.add(result)
        if pretty:
            from extractor.cli.pretty import render_extraction

            render_extraction(result, Console())

    batch = Batch(
        extractor,
        out,
        error_sink,
        on_error=say_error,
        on_result=show_result,
        on_exception=print_traceback if debug else (lambda exc: None),
    )
    stopped: OutputError | None = None
    try:
        selection = dict(sources=sources, problems=problems, already=already, max_bytes=max_bytes, fallback=fallback,
                         input_format=input_format)
        try:
            show = (len(sources) > 1 or input_format == "jsonl") and not debug
            _run_with_progress(batch, selection, published, concurrency, show=show, engine=engine, config=config)
        except OutputError as exc:  # disk full, device gone: stop, keep what is written, say so
            stopped = exc
        if stopped is None:
            out.compact()  # --force, edited files, another model: the newest line per document (still locked)
    finally:
        out.close()
        if error_sink:
            error_sink.close()
        extractor.close()
    if stopped is not None:
        say_error(f"{stopped}; the run stopped, the documents before it are in the output")
    _print_summary(batch.counts, errors_path, this_run.line(prices=prices, wall_seconds=time.monotonic() - started)
                   if this_run.documents else None)  # fmt: skip
    raise typer.Exit(1 if batch.counts.failed or stopped else 0)


def _print_summary(counts, errors_path: Path | None, cost_line: str | None) -> None:
    """The batch's last lines: what happened to each document, then what this run cost."""
    summary = f"{counts.ok} ok, {counts.skipped} skipped (already in output: same file, content, model and prompt), {counts.failed} failed"
    if counts.passed_over:
        summary += f", {counts.passed_over} passed over (symbolic links out of the input directory)"
    if counts.failed and errors_path:
        summary += f" (details in {errors_path})"
    err.print(summary, highlight=False, soft_wrap=True, markup=False)
    if cost_line:
        err.print(f"this run: {cost_line}", highlight=False, soft_wrap=True, markup=False)


def _parse_shard(value: str | None) -> tuple[int, int] | None:
    """`--shard I/N` as (I, N); exit 2 unless 1 <= I <= N."""
    if value is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        fail_usage(f"--shard {value!r}: expected I/N with 1 <= I <= N (e.g. 2/8)")
    return int(match[1]), int(match[2])


def _checked_options(published: str | None, encoding_fallback: str) -> str | None:
    """Exit 2 on a bad --published or --encoding-fallback; return the fallback codec."""
    from extractor.batch import inputs

    if published is not None:
        from extractor.text.dates import parse_published

        if parse_published(published) is None:
            fail_usage(f"--published {published!r} is not a YYYY-MM-DD date")
    try:
        return inputs.check_encoding(encoding_fallback)
    except ValueError as exc:
        fail_usage(str(exc))


def _check_ray(paths: list[str]) -> None:
    """Exit 2 when --engine ray cannot run: Ray missing, or stdin as input."""
    from extractor.batch import inputs

    try:
        import ray.data  # noqa: F401
    except ImportError:
        fail_usage("--engine ray needs Ray Data: pip install 'extractor[ray]'")
    if inputs.STDIN in paths:
        fail_usage("--engine ray reads files and directories, not stdin (-)")


def _run_with_progress(batch, selection: dict, published, concurrency, *, show: bool, engine, config) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, disable=not show, transient=False,
    ) as progress:
        # a JSONL file holds an unknown number of documents: no total then
        total = len(selection["sources"]) if selection["input_format"] == "text" else None
        task = progress.add_task("extracting", total=total)
        advance = lambda: progress.advance(task)  # noqa: E731
        name, address, workers = engine
        if name == "ray":
            from extractor.scale import ray_engine

            ray_engine.run(batch, config, selection, published=published, concurrency=concurrency,
                           workers=workers, address=address, on_progress=advance)  # fmt: skip
            return
        documents = batch.select(**selection, on_progress=advance)
        asyncio.run(batch.run(documents, published=published, concurrency=concurrency, on_progress=advance))
