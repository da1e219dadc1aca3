"""Command line: `extractor extract`, `extractor eval`, `extractor cache ...`.

Exit codes: 0 all documents ok, 1 some documents (or eval gates) failed, 2 usage error.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

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
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _make_extractor(**kwargs):
    from extractor.backends import ConfigError
    from extractor.pipeline import Extractor

    try:
        return Extractor(**kwargs)
    except (ConfigError, ValueError, FileNotFoundError) as exc:
        _fail_usage(str(exc))
    except Exception as exc:  # model missing or corrupt, etc.
        from extractor.model_store import ModelNotAvailable

        if isinstance(exc, ModelNotAvailable):
            _fail_usage(str(exc))
        raise


def _setup_logging(debug: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if debug else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
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
        Optional[Path], typer.Option("--errors", help="JSONL file for per-document failures (default: OUTPUT.errors.jsonl).")
    ] = None,
    pretty: Annotated[bool, typer.Option("--pretty", help="Readable tables instead of JSON lines on stdout.")] = False,
    published: Annotated[
        Optional[str], typer.Option("--published", help="Article date (YYYY-MM-DD) to resolve relative dates.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo documents already present in --output.")] = False,
    concurrency: Annotated[
        Optional[int], typer.Option("--concurrency", "-j", min=1, help="Documents in flight (default: 1 local, 8 HTTP).")
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
    prompt_version: PromptOpt = None,
    timeout: TimeoutOpt = 120.0,
    debug: DebugOpt = False,
) -> None:
    """Extract actors, events and sanctions from articles; one JSON object per document per line."""
    from extractor import batch

    _setup_logging(debug)
    if published is not None:
        from extractor.dates import parse_published

        if parse_published(published) is None:
            _fail_usage(f"--published {published!r} is not a YYYY-MM-DD date")
    sources, problems = batch.discover(paths)
    if not sources and problems and all(p.source != batch.STDIN for p in problems):
        for problem in problems:
            err.print(f"[red]error:[/red] {problem.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)

    extractor = _make_extractor(
        model=model,
        base_url=base_url,
        mode=mode,
        cache=not no_cache,
        cache_dir=str(cache_dir) if cache_dir else None,
        prompt_version=prompt_version,
        timeout=timeout,
        ungrounded=ungrounded,
    )
    out = batch.JsonlWriter(output, None if pretty else sys.stdout)
    errors_path = errors or (output.with_name(output.name + ".errors.jsonl") if output else None)
    error_sink = batch.JsonlWriter(errors_path) if errors_path else None
    already = set() if force or output is None else batch.done_keys(output)

    counts = {"ok": 0, "skipped": 0, "failed": 0}

    def record_failure(source: str, error_class: str, message: str, attempts: int = 0, sha: str | None = None) -> None:
        counts["failed"] += 1
        err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
        if error_sink:
            error_sink.write(
                {"source": source, "input_sha256": sha, "error_class": error_class, "message": message,
                 "attempts": attempts, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            )

    for problem in problems:
        record_failure(problem.source, "InputError", problem.message)

    documents = []
    for item in batch.iter_documents(sources, max_bytes=max_bytes, fallback=encoding_fallback or None):
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
                        err.print_exception(show_locals=False) if False else err.print(repr(result))
                    record_failure(source, type(result).__name__, f"{source}: {_one_line(result)}",
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

    try:
        asyncio.run(run()) if documents else None
    finally:
        out.close()
        if error_sink:
            error_sink.close()
        extractor.close()
    summary = f"{counts['ok']} ok, {counts['skipped']} skipped (already in output), {counts['failed']} failed"
    err.print(summary, highlight=False)
    raise typer.Exit(1 if counts["failed"] else 0)


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
    no_cache: NoCacheOpt = False,
    cache_dir: CacheDirOpt = None,
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
    extractor = _make_extractor(
        model=model,
        base_url=base_url,
        mode=mode,
        cache=not no_cache,
        cache_dir=str(cache_dir) if cache_dir else None,
        prompt_version=prompt_version,
        timeout=timeout,
    )
    try:
        report = evaluation.run_eval(extractor, case_dirs, console=err)
    finally:
        extractor.close()
    evaluation.print_report(report, Console())
    if report_json:
        report_json.parent.mkdir(parents=True, exist_ok=True)
        report_json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if report_md:
        report_md.parent.mkdir(parents=True, exist_ok=True)
        report_md.write_text(evaluation.markdown_report(report), encoding="utf-8")
    failures = evaluation.check_gates(report, gates)
    for failure in failures:
        err.print(f"[red]gate failed:[/red] {failure}", highlight=False)
    raise typer.Exit(1 if failures else 0)


@cache_app.command("stats")
def cache_stats(cache_dir: CacheDirOpt = None) -> None:
    """Entries and size of the response cache."""
    from extractor.cache import ResponseCache

    cache = ResponseCache(cache_dir)
    stats = cache.stats()
    typer.echo(f"directory: {stats.directory}\nentries: {stats.entries}\nbytes: {stats.bytes_on_disk}")
    cache.close()


@cache_app.command("clear")
def cache_clear(cache_dir: CacheDirOpt = None) -> None:
    """Delete every cached response."""
    from extractor.cache import ResponseCache

    cache = ResponseCache(cache_dir)
    typer.echo(f"removed {cache.clear()} entries from {cache.directory}")
    cache.close()


@cache_app.command("export")
def cache_export(
    path: Annotated[Path, typer.Argument(help="JSONL file to write (one reviewable entry per line).")],
    cache_dir: CacheDirOpt = None,
) -> None:
    """Export the cache as sorted JSONL, for review and zero-call replay elsewhere."""
    from extractor.cache import ResponseCache

    cache = ResponseCache(cache_dir)
    typer.echo(f"exported {cache.export_jsonl(path)} entries to {path}")
    cache.close()


@cache_app.command("import")
def cache_import(
    path: Annotated[Path, typer.Argument(help="JSONL file written by `extractor cache export`.")],
    cache_dir: CacheDirOpt = None,
) -> None:
    """Import an exported cache (entries are keyed, so only identical requests will hit)."""
    from extractor.cache import ResponseCache

    if not path.is_file():
        _fail_usage(f"{path}: no such file")
    cache = ResponseCache(cache_dir)
    try:
        count = cache.import_jsonl(path)
    except ValueError as exc:
        _fail_usage(str(exc))
    finally:
        cache.close()
    typer.echo(f"imported {count} entries into {cache.directory}")


if __name__ == "__main__":  # pragma: no cover
    app()
