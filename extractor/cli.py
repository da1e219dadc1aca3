"""Command line: `extractor extract`, `extractor eval`, `extractor cache ...`.

Exit codes: 0 all documents ok, 1 some documents (or eval gates) failed, 2 usage error.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from extractor import __version__

app = typer.Typer(
    name="extractor",
    help="Typed, evidence-grounded events, actors and sanctions facts from news articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cache_app = typer.Typer(help="Inspect, clear, export or import the response cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")

err = Console(stderr=True)

ModelOpt = Annotated[
    str,
    typer.Option(
        "--model",
        "-m",
        help="local (embedded model, default) | local:/path/model.gguf | openai/<model> | "
        "llamacpp/<model> | vllm/<model> | ollama/<model> | <model> with --base-url.",
    ),
]
BaseUrlOpt = Annotated[
    Optional[str], typer.Option("--base-url", help="OpenAI-compatible server URL, e.g. http://127.0.0.1:8000/v1.")
]
ModeOpt = Annotated[
    Optional[str], typer.Option("--mode", help="Override the instructor mode: tools | json | json_schema | md_json.")
]
CacheDirOpt = Annotated[
    Optional[Path], typer.Option("--cache-dir", help="Response cache directory (default ~/.cache/extractor/responses).")
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")]
KeepInstructionsOpt = Annotated[
    bool,
    typer.Option(
        "--keep-instructions",
        help="Let the model see passages that address an AI model (\"ignore previous instructions\"); "
        "by default they are withheld and named in the warnings.",
    ),
]
ReplayOpt = Annotated[
    bool,
    typer.Option(
        "--replay",
        help="Answer from the response cache only (e.g. after `cache import`): a miss fails the document; "
        "the model is never called.",
    ),
]
PromptOpt = Annotated[Optional[str], typer.Option("--prompt-version", help="Prompt set under prompts/ (default: CURRENT).")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="Seconds per model call attempt (HTTP backends).")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"extractor {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Typed, evidence-grounded events, actors and sanctions facts from news articles."""


def _fail_usage(message: str) -> None:
    from extractor.batch import redact

    err.print(f"[red]error:[/red] {escape(redact(message))}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _check_cache_options(*, replay: bool, no_cache: bool) -> None:
    if replay and no_cache:
        _fail_usage("--replay reads the response cache; it cannot be combined with --no-cache")


def _make_extractor(**kwargs):
    from extractor.backends import ConfigError
    from extractor.model_store import ModelNotAvailable
    from extractor.pipeline import Extractor

    try:
        try:
            return Extractor(**kwargs)
        except (sqlite3.DatabaseError, PermissionError) as exc:
            if not kwargs.get("cache", True):
                raise
            if kwargs.get("replay"):  # the cache is the only source of answers: never move it aside
                _fail_usage(f"--replay: the response cache cannot be opened: {exc}")
            return Extractor(**_without_broken_cache(kwargs, exc))
    except (ConfigError, ValueError, FileNotFoundError, ModelNotAvailable) as exc:
        _fail_usage(str(exc))


def _without_broken_cache(kwargs: dict, exc: Exception) -> dict:
    """A response cache that cannot be opened never stops a run.

    A corrupt database file ("file is not a database") is moved aside and a new cache is
    started; a cache that cannot be opened at all (permissions, read-only disk) is skipped.
    """
    from extractor.cache import default_cache_dir

    directory = Path(kwargs.get("cache_dir") or default_cache_dir())
    database = directory / "cache.db"
    if not isinstance(exc, sqlite3.OperationalError) and isinstance(exc, sqlite3.DatabaseError) and database.is_file():
        stamp = time.strftime("%Y%m%dT%H%M%S")
        try:
            for suffix in ("", "-wal", "-shm"):
                part = directory / f"cache.db{suffix}"
                if part.exists():
                    part.rename(directory / f"cache.db{suffix}.corrupt-{stamp}")
            err.print(
                f"warning: response cache {database} is corrupt ({exc}); moved aside as *.corrupt-{stamp}, starting a new one",
                highlight=False, soft_wrap=True, markup=False,
            )
            return kwargs
        except OSError:
            pass
    err.print(
        f"warning: response cache {directory} cannot be used ({exc}); running without the cache",
        highlight=False, soft_wrap=True, markup=False,
    )
    return {**kwargs, "cache": False}


class _RedactingFilter(logging.Filter):
    """Strip API keys and tokens from every log record (debug logs include error bodies)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from extractor.batch import redact

        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is not ours to fix
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def _setup_logging(debug: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if debug else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _RedactingFilter) for f in handler.filters):
            handler.addFilter(_RedactingFilter())
    if not debug:
        # instructor logs every failed attempt at ERROR; the pipeline reports them itself.
        logging.getLogger("instructor").setLevel(logging.CRITICAL)


@app.command()
def extract(
    paths: Annotated[list[str], typer.Argument(help="Files, directories (recursively *.txt) or - for stdin.")],
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
    debug: DebugOpt = False,
) -> None:
    """Extract actors, events and sanctions from articles; one JSON object per document per line."""
    from extractor import batch

    _setup_logging(debug)
    batch.register_secret(os.environ.get("OPENAI_API_KEY"))
    try:
        _extract(
            paths, model=model, base_url=base_url, mode=mode, output=output, errors=errors, pretty=pretty,
            published=published, force=force, concurrency=concurrency, max_bytes=max_bytes,
            encoding_fallback=encoding_fallback, ungrounded=ungrounded, no_cache=no_cache, cache_dir=cache_dir,
            replay=replay, keep_instructions=keep_instructions, prompt_version=prompt_version, timeout=timeout,
            retries=retries, max_reasks=max_reasks, debug=debug,
        )
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
            _print_traceback(exc)
        err.print(
            f"[red]error:[/red] {escape(batch.redact(_one_line(exc)))} ({type(exc).__name__}; --debug shows the traceback)",
            highlight=False, soft_wrap=True,
        )
        raise typer.Exit(1) from None


def _extract(
    paths: list[str], *, model: str, base_url: str | None, mode: str | None, output: Path | None,
    errors: Path | None, pretty: bool, published: str | None, force: bool, concurrency: int | None,
    max_bytes: int, encoding_fallback: str, ungrounded: str, no_cache: bool, cache_dir: Path | None, replay: bool,
    keep_instructions: bool, prompt_version: str | None, timeout: float, retries: int, max_reasks: int | None, debug: bool,
) -> None:
    from extractor import batch

    if published is not None:
        from extractor.dates import parse_published

        if parse_published(published) is None:
            _fail_usage(f"--published {published!r} is not a YYYY-MM-DD date")
    if timeout <= 0:
        _fail_usage(f"--timeout {timeout:g}: must be more than 0 seconds")
    _check_cache_options(replay=replay, no_cache=no_cache)
    try:
        fallback = batch.check_encoding(encoding_fallback)
    except ValueError as exc:
        _fail_usage(str(exc))
    errors_path = errors or (output.with_name(output.name + ".errors.jsonl") if output else None)
    if output is not None and errors_path is not None and output.resolve() == errors_path.resolve():
        _fail_usage(f"--errors {errors_path} is the output file; give it its own path")
    for target in (output, errors_path):
        if target is not None and target.is_dir():
            _fail_usage(f"{target}: is a directory, not a JSONL file")

    sources, problems = batch.discover(paths)
    if not sources and problems and all(p.source != batch.STDIN for p in problems):
        for problem in problems:
            err.print(f"[red]error:[/red] {escape(problem.message)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)

    extractor = _make_extractor(
        model=model,
        base_url=base_url,
        mode=mode,
        cache=not no_cache,
        cache_dir=str(cache_dir) if cache_dir else None,
        replay=replay,
        withhold_instructions=not keep_instructions,
        prompt_version=prompt_version,
        timeout=timeout,
        ungrounded=ungrounded,
        max_reasks=max_reasks,
    )
    policy = getattr(extractor.backend, "retry", None)
    if policy is not None:  # HTTP backends: --retries sets the transport attempts per call
        extractor.backend.retry = dataclasses.replace(policy, attempts=retries)
    try:
        out = batch.JsonlWriter(output, None if pretty else sys.stdout)
    except (batch.OutputBusy, OSError) as exc:
        extractor.close()
        _fail_usage(str(exc) if isinstance(exc, batch.OutputBusy) else f"{output}: cannot write ({exc})")
    try:
        error_sink = batch.JsonlWriter(errors_path, truncate=True) if errors_path else None
    except (batch.OutputBusy, OSError) as exc:
        out.close()
        extractor.close()
        _fail_usage(str(exc) if isinstance(exc, batch.OutputBusy) else f"{errors_path}: cannot write ({exc})")
    already = set() if force or output is None else batch.done_keys(output)

    counts = {"ok": 0, "skipped": 0, "failed": 0}

    def record_failure(source: str, error_class: str, message: str, attempts: int = 0, sha: str | None = None) -> None:
        counts["failed"] += 1
        message = batch.redact(message)
        err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
        if error_sink:
            error_sink.write(
                {"path": source, "source": source, "input_sha256": sha, "error_class": error_class,
                 "message": message, "attempts": attempts,
                 "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            )

    documents = []
    try:
        for problem in problems:
            record_failure(problem.source, "InputError", problem.message)
        for item in batch.iter_documents(sources, max_bytes=max_bytes, fallback=fallback):
            if isinstance(item, batch.InputProblem):
                record_failure(item.source, "InputError", item.message)
            elif (item.source, item.sha256) in already:
                counts["skipped"] += 1
            else:
                documents.append(item)

        async def run() -> None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            by_source = {doc.source: doc for doc in documents}
            show = len(documents) > 1 and not debug
            with Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=err, disable=not show, transient=False,
            ) as progress:
                task = progress.add_task("extracting", total=len(documents))
                stream = extractor.aextract_many(
                    [(d.source, d.text, published) for d in documents], concurrency=concurrency
                )
                async for source, result in stream:
                    doc = by_source[source]
                    progress.advance(task)
                    if isinstance(result, BaseException):
                        if debug:
                            _print_traceback(result)
                        record_failure(source, _error_class(result), f"{source}: {_one_line(result)}",
                                       getattr(result, "attempts", 0), doc.sha256)
                        continue
                    result.meta.input_sha256 = doc.sha256
                    result.meta.input_encoding = doc.encoding
                    if doc.encoding != "utf-8":
                        result.meta.warnings.append(f"decoded as {doc.encoding} (not valid UTF-8)")
                    counts["ok"] += 1
                    if pretty:
                        from extractor.render import render_extraction

                        render_extraction(result, Console())
                    if output is not None or not pretty:
                        out.write(result.model_dump(mode="json"))

        if documents:
            asyncio.run(run())
        out.compact()  # --force / edited files: keep the newest line per source (still locked)
    finally:
        out.close()
        if error_sink:
            error_sink.close()
        extractor.close()
    summary = f"{counts['ok']} ok, {counts['skipped']} skipped (already in output), {counts['failed']} failed"
    if counts["failed"] and errors_path:
        summary += f" (details in {errors_path})"
    err.print(summary, highlight=False, soft_wrap=True, markup=False)
    raise typer.Exit(1 if counts["failed"] else 0)


def _error_class(exc: BaseException) -> str:
    """The class of the root cause (e.g. InternalServerError, AttemptTimeout, ValidationError)."""
    seen = set()
    while exc.__cause__ is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc = exc.__cause__
    return type(exc).__name__


def _print_traceback(exc: BaseException) -> None:
    import traceback

    from extractor.batch import redact

    sys.stderr.write(redact("".join(traceback.format_exception(exc))))
    sys.stderr.flush()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


@app.command("eval")
def eval_command(
    fixtures: Annotated[Path, typer.Option("--fixtures", help="Eval set: case dirs with article.txt + gold.json.")],
    model: ModelOpt = "local",
    base_url: BaseUrlOpt = None,
    mode: ModeOpt = None,
    report_json: Annotated[Optional[Path], typer.Option("--report-json", help="Write the JSON report here.")] = None,
    report_md: Annotated[Optional[Path], typer.Option("--report-md", help="Write a Markdown report here.")] = None,
    min_f1: Annotated[
        Optional[float], typer.Option("--min-f1", min=0.0, max=1.0, help="Fail when overall micro-F1 is below this.")
    ] = None,
    thresholds: Annotated[
        Optional[Path],
        typer.Option("--thresholds", help="JSON file of minimum scores (overall/actors/events/sanctions F1, grounding)."),
    ] = None,
    cases: Annotated[Optional[list[str]], typer.Option("--case", help="Only these case ids (repeatable).")] = None,
    write_thresholds: Annotated[
        Optional[Path],
        typer.Option("--write-thresholds", help="Write gates = this run's scores minus --tolerance to this JSON file."),
    ] = None,
    tolerance: Annotated[float, typer.Option("--tolerance", min=0.0, max=1.0, help="For --write-thresholds.")] = 0.03,
    no_cache: NoCacheOpt = False,
    cache_dir: CacheDirOpt = None,
    replay: ReplayOpt = False,
    keep_instructions: KeepInstructionsOpt = False,
    predictions: Annotated[
        Optional[Path],
        typer.Option("--predictions", help="Write each case's extraction (or its error) to DIR/<case>.json for review."),
    ] = None,
    prompt_version: PromptOpt = None,
    timeout: TimeoutOpt = 120.0,
    debug: DebugOpt = False,
) -> None:
    """Score the extractor against gold fixtures; exit 1 when a gate fails or a case errors."""
    from extractor import evaluation

    _setup_logging(debug)
    if not fixtures.is_dir():
        _fail_usage(f"--fixtures {fixtures}: not a directory")
    try:
        case_dirs = evaluation.discover_cases(fixtures, only=cases)
        gates = evaluation.load_thresholds(thresholds) if thresholds else {}
    except ValueError as exc:
        _fail_usage(str(exc))
    if min_f1 is not None:
        gates["overall_f1"] = min_f1
    _check_cache_options(replay=replay, no_cache=no_cache)
    if predictions is not None and predictions.exists() and not predictions.is_dir():
        _fail_usage(f"--predictions {predictions}: exists and is not a directory")
    extractor = _make_extractor(
        model=model,
        base_url=base_url,
        mode=mode,
        cache=not no_cache,
        cache_dir=str(cache_dir) if cache_dir else None,
        replay=replay,
        withhold_instructions=not keep_instructions,
        prompt_version=prompt_version,
        timeout=timeout,
    )
    try:
        report = evaluation.run_eval(extractor, case_dirs, console=err, predictions_dir=predictions)
    finally:
        extractor.close()
    evaluation.print_report(report, Console())
    if report_json:
        report_json.parent.mkdir(parents=True, exist_ok=True)
        report_json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if report_md:
        report_md.parent.mkdir(parents=True, exist_ok=True)
        report_md.write_text(evaluation.markdown_report(report), encoding="utf-8")
    if write_thresholds:
        write_thresholds.write_text(json.dumps(evaluation.thresholds_from(report, tolerance), indent=2) + "\n")
    failures = evaluation.check_gates(report, gates)
    if replay:  # a replay that had to leave a case out does not reproduce the run
        failures += [f"case {c['id']} not replayed: {c['error']}" for c in report["cases"] if "error" in c]
    for failure in failures:
        err.print(f"[red]gate failed:[/red] {failure}", highlight=False)
    raise typer.Exit(1 if failures else 0)


def _open_cache(cache_dir: Optional[Path]):
    from extractor.cache import ResponseCache, default_cache_dir

    try:
        return ResponseCache(cache_dir)
    except (sqlite3.DatabaseError, PermissionError) as exc:
        _fail_usage(f"{cache_dir or default_cache_dir()}: response cache cannot be opened ({exc})")


@cache_app.command("stats")
def cache_stats(cache_dir: CacheDirOpt = None) -> None:
    """Entries and size of the response cache."""
    cache = _open_cache(cache_dir)
    stats = cache.stats()
    typer.echo(f"directory: {stats.directory}\nentries: {stats.entries}\nbytes: {stats.bytes_on_disk}")
    cache.close()


@cache_app.command("clear")
def cache_clear(cache_dir: CacheDirOpt = None) -> None:
    """Delete every cached response."""
    cache = _open_cache(cache_dir)
    typer.echo(f"removed {cache.clear()} entries from {cache.directory}")
    cache.close()


@cache_app.command("export")
def cache_export(
    path: Annotated[Path, typer.Argument(help="JSONL file to write (one reviewable entry per line).")],
    cache_dir: CacheDirOpt = None,
) -> None:
    """Export the cache as sorted JSONL, for review and zero-call replay elsewhere."""
    cache = _open_cache(cache_dir)
    typer.echo(f"exported {cache.export_jsonl(path)} entries to {path}")
    cache.close()


@cache_app.command("import")
def cache_import(
    path: Annotated[Path, typer.Argument(help="JSONL file written by `extractor cache export`.")],
    cache_dir: CacheDirOpt = None,
) -> None:
    """Import an exported cache (entries are keyed, so only identical requests will hit)."""
    if not path.is_file():
        _fail_usage(f"{path}: no such file")
    cache = _open_cache(cache_dir)
    try:
        count = cache.import_jsonl(path)
    except ValueError as exc:
        _fail_usage(str(exc))
    finally:
        cache.close()
    typer.echo(f"imported {count} entries into {cache.directory}")


if __name__ == "__main__":  # pragma: no cover
    app()
