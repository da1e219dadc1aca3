"""`extractor eval`: score the extractor against an eval set, report, and gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from extractor.cli.common import (
    BaseUrlOpt, CacheDirOpt, DebugOpt, KeepInstructionsOpt, ModelOpt, ModeOpt, NoCacheOpt, PromptOpt, ReplayOpt,
    TimeoutOpt, build_config, err, fail_usage, make_extractor, register_run_secrets, setup_logging,
)  # fmt: skip


FixturesOpt = Annotated[Path, typer.Option("--fixtures", help="Eval set: case dirs with article.txt + gold.json.")]
ReportJsonOpt = Annotated[Optional[Path], typer.Option("--report-json", help="Write the JSON report here.")]
ReportMdOpt = Annotated[
    Optional[Path], typer.Option("--report-md", help="Write a Markdown report here (with --baseline: a pull-request comment).")
]
MinF1Opt = Annotated[
    Optional[float], typer.Option("--min-f1", min=0.0, max=1.0, help="Fail when overall micro-F1 is below this.")
]
ThresholdsOpt = Annotated[
    Optional[Path],
    typer.Option("--thresholds", help="JSON file of minimum scores (overall/actors/events/sanctions F1, grounding)."),
]
CasesOpt = Annotated[Optional[list[str]], typer.Option("--case", help="Only these case ids (repeatable).")]
WriteThresholdsOpt = Annotated[
    Optional[Path],
    typer.Option("--write-thresholds", help="Write gates = this run's scores minus --tolerance to this JSON file."),
]
ToleranceOpt = Annotated[float, typer.Option("--tolerance", min=0.0, max=1.0, help="For --write-thresholds.")]
PredictionsOpt = Annotated[
    Optional[Path],
    typer.Option("--predictions", help="Write each case's extraction (or its error) to DIR/<case>.json for review."),
]
BaselineOpt = Annotated[
    Optional[Path],
    typer.Option("--baseline", help="A previous JSON report (e.g. main's): deltas, changed records, paired bootstrap 95% intervals."),
]
FailOnRegressionOpt = Annotated[
    bool,
    typer.Option("--fail-on-regression", help="With --baseline: fail when a delta's 95% interval lies below 0 or a case drops more than --max-case-drop."),
]
MaxCaseDropOpt = Annotated[float, typer.Option("--max-case-drop", min=0.0, max=1.0, help="With --fail-on-regression: largest F1 loss one case may show.")]
TemperatureOpt = Annotated[float, typer.Option("--temperature", min=0.0, help="Sampling temperature (0: greedy).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Sampling seed (repeats use seed+1, seed+2, ...).")]
RepeatOpt = Annotated[int, typer.Option("--repeat", min=1, help="Run the set K times (repeats bypass the cache): mean, deviation, pass^K.")]


def eval_command(
    fixtures: FixturesOpt,
    cases: CasesOpt = None,
    # the model and how it is asked
    model: ModelOpt = "local",
    base_url: BaseUrlOpt = None,
    mode: ModeOpt = None,
    prompt_version: PromptOpt = None,
    temperature: TemperatureOpt = 0.0,
    seed: SeedOpt = 1234,
    repeat: RepeatOpt = 1,
    timeout: TimeoutOpt = 120.0,
    keep_instructions: KeepInstructionsOpt = False,
    # where answers come from
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    replay: ReplayOpt = False,
    # what is written
    report_json: ReportJsonOpt = None,
    report_md: ReportMdOpt = None,
    predictions: PredictionsOpt = None,
    write_thresholds: WriteThresholdsOpt = None,
    tolerance: ToleranceOpt = 0.03,
    # what fails the run
    thresholds: ThresholdsOpt = None,
    min_f1: MinF1Opt = None,
    baseline: BaselineOpt = None,
    fail_on_regression: FailOnRegressionOpt = False,
    max_case_drop: MaxCaseDropOpt = 0.25,
    debug: DebugOpt = False,
) -> None:
    """Score the extractor against gold fixtures; exit 1 when a gate fails or a case errors."""
    from extractor.eval import runner

    setup_logging(debug)
    register_run_secrets(base_url)
    if not fixtures.is_dir():
        fail_usage(f"--fixtures {fixtures}: not a directory")
    try:
        case_dirs = runner.discover_cases(fixtures, only=cases)
        gates = runner.load_thresholds(thresholds) if thresholds else {}
    except ValueError as exc:
        fail_usage(str(exc))
    if min_f1 is not None:
        gates["overall_f1"] = min_f1
    if fail_on_regression and baseline is None:
        fail_usage("--fail-on-regression compares with a previous report: give --baseline BASE.json")
    base = _read_baseline(baseline) if baseline else None
    if repeat > 1 and replay:
        fail_usage("--repeat bypasses the cache for its repeats; it cannot run with --replay")
    config = build_config(
        model=model, base_url=base_url, mode=mode, no_cache=no_cache, cache_dir=cache_dir, replay=replay,
        keep_instructions=keep_instructions, prompt_version=prompt_version, timeout=timeout,
        temperature=temperature, seed=seed,
    )  # fmt: skip
    if predictions is not None and predictions.exists() and not predictions.is_dir():
        fail_usage(f"--predictions {predictions}: exists and is not a directory")
    runs = [_one_run(config if k == 0 else config.replace(cache=False, seed=seed + k), case_dirs, predictions if k == 0 else None)
            for k in range(repeat)]  # fmt: skip
    report = runs[0]
    if repeat > 1:
        from extractor.eval.repeats import summarise

        report["repeats"] = summarise(runs, gates, runner.check_gates)
    failures = [failure for run in runs for failure in runner.check_gates(run, gates)]
    if base is not None:
        from extractor.eval.compare import compare, regressions_gate

        report["compare"] = compare(base, report)
        if fail_on_regression:
            failures += regressions_gate(report["compare"], max_case_drop=max_case_drop)
    _write_reports(report, report_json, report_md, write_thresholds, tolerance)
    if replay:  # a replay that had to leave a case out does not reproduce the run
        failures += [f"case {c['id']} not replayed: {c['error']}" for c in report["cases"] if "error" in c]
    for failure in dict.fromkeys(failures):
        err.print(f"[red]gate failed:[/red] {failure}", highlight=False)
    raise typer.Exit(1 if failures else 0)


def _read_baseline(path: Path) -> dict:
    try:
        base = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(base, dict) or not isinstance(base.get("cases"), list):
            raise ValueError("not an eval report (no 'cases' list)")
        return base
    except (OSError, ValueError) as exc:
        fail_usage(f"--baseline {path}: {exc}")


def _one_run(config, case_dirs: list[Path], predictions: Path | None) -> dict:
    from extractor.eval import runner

    extractor = make_extractor(config)
    try:
        return runner.run_eval(extractor, case_dirs, console=err, predictions_dir=predictions)
    finally:
        extractor.close()


def _write_reports(report: dict, report_json: Path | None, report_md: Path | None, write_thresholds: Path | None, tolerance: float) -> None:
    from extractor.eval import report as reports
    from extractor.eval import runner

    reports.print_report(report, Console())
    if report_json:
        report_json.parent.mkdir(parents=True, exist_ok=True)
        report_json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if report_md:
        report_md.parent.mkdir(parents=True, exist_ok=True)
        report_md.write_text(reports.markdown_report(report), encoding="utf-8")
    if write_thresholds:
        write_thresholds.write_text(json.dumps(runner.thresholds_from(report, tolerance), indent=2) + "\n")
