"""`extractor eval`: score the extractor against an eval set, report, and gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from extractor.cli.common import (
    BaseUrlOpt, CacheDirOpt, DebugOpt, KeepInstructionsOpt, ModelOpt, ModeOpt, NoCacheOpt, PromptOpt, ReplayOpt,
    TimeoutOpt, build_config, err, fail_usage, make_extractor, setup_logging,
)  # fmt: skip


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
    from extractor.eval import report as reports
    from extractor.eval import runner

    setup_logging(debug)
    if not fixtures.is_dir():
        fail_usage(f"--fixtures {fixtures}: not a directory")
    try:
        case_dirs = runner.discover_cases(fixtures, only=cases)
        gates = runner.load_thresholds(thresholds) if thresholds else {}
    except ValueError as exc:
        fail_usage(str(exc))
    if min_f1 is not None:
        gates["overall_f1"] = min_f1
    config = build_config(
        model=model, base_url=base_url, mode=mode, no_cache=no_cache, cache_dir=cache_dir, replay=replay,
        keep_instructions=keep_instructions, prompt_version=prompt_version, timeout=timeout,
    )
    if predictions is not None and predictions.exists() and not predictions.is_dir():
        fail_usage(f"--predictions {predictions}: exists and is not a directory")
    extractor = make_extractor(config)
    try:
        report = runner.run_eval(extractor, case_dirs, console=err, predictions_dir=predictions)
    finally:
        extractor.close()
    reports.print_report(report, Console())
    if report_json:
        report_json.parent.mkdir(parents=True, exist_ok=True)
        report_json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if report_md:
        report_md.parent.mkdir(parents=True, exist_ok=True)
        report_md.write_text(reports.markdown_report(report), encoding="utf-8")
    if write_thresholds:
        write_thresholds.write_text(json.dumps(runner.thresholds_from(report, tolerance), indent=2) + "\n")
    failures = runner.check_gates(report, gates)
    if replay:  # a replay that had to leave a case out does not reproduce the run
        failures += [f"case {c['id']} not replayed: {c['error']}" for c in report["cases"] if "error" in c]
    for failure in failures:
        err.print(f"[red]gate failed:[/red] {failure}", highlight=False)
    raise typer.Exit(1 if failures else 0)
