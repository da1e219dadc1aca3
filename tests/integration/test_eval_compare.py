"""Baseline comparison on the recorded whole-set run (evals/replay.jsonl): real model outputs,
zero model calls, two post-processing variants compared the way a reviewer would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from extractor.cache import ResponseCache
from extractor.eval.compare import compare, regressions_gate
from extractor.eval.runner import discover_cases, run_eval
from extractor.pipeline import Extractor
from tests.support.cli import cli_env

ROOT = Path(__file__).resolve().parents[2]
EVALS = ROOT / "evals"
#: the recording replays the shipped default prompts (tests/integration/conftest.py)
PROMPT_VERSION = None


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    cache_dir = tmp_path_factory.mktemp("replay-cache")
    cache = ResponseCache(cache_dir)
    cache.import_jsonl(EVALS / "replay.jsonl")
    cache.close()
    return cache_dir


def _report(cache_dir: Path, **options) -> dict:
    with Extractor(cache_dir=str(cache_dir), replay=True, **options) as extractor:
        return run_eval(extractor, discover_cases(EVALS), console=Console(stderr=True, quiet=True))


def test_switching_off_the_consistency_checks_is_a_measured_regression(recorded: Path) -> None:
    shipped = _report(recorded)
    without = _report(recorded, consistency_checks=False)
    assert not shipped["failed_cases"] and not without["failed_cases"]
    result = compare(shipped, without)
    assert result["paired_cases"] == len(shipped["cases"])
    assert result["micro_f1_delta"] < 0
    assert result["ci95"][1] < 0  # worse with 95 % confidence on the recorded cases
    # What the checks had fixed is named: gold records lost, or false positives they removed.
    assert result["regressions"] or result["new_false_positives"]
    for item in result["regressions"]:
        assert item["before"] is not None and item["after"] is None
        assert item["type"] in ("events", "sanctions")  # the checks touch events and sanctions only
    assert any("below 0" in failure for failure in regressions_gate(result))
    # The report carries what the comparison needs, per case.
    case = shipped["cases"][0]
    assert {"records", "usage", "model_calls", "cache_hits", "seconds"} <= set(case)
    assert set(shipped["analysis"]) == {"confusion", "field_counts", "top_false_positives", "top_false_negatives"}


def test_eval_cli_compares_with_a_baseline_and_gates_on_it(recorded: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "base.json"
    baseline.write_text(json.dumps(_report(recorded, consistency_checks=False)), encoding="utf-8")
    report, markdown = tmp_path / "r.json", tmp_path / "r.md"
    args = [sys.executable, "-m", "extractor.cli", "eval", "--fixtures", str(EVALS), "--replay", "--cache-dir", str(recorded),
            "--baseline", str(baseline), "--fail-on-regression", "--report-json", str(report), "--report-md", str(markdown)]
    done = subprocess.run(args, env=cli_env(tmp_path / "home"), capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]  # the shipped post-processing is better than its baseline
    block = json.loads(report.read_text())["compare"]
    assert block["micro_f1_delta"] > 0 and not block["regressions"]
    assert block["improvements"] or block["removed_false_positives"]  # gold gained or false positives removed
    text = markdown.read_text()
    assert text.startswith("## Eval against baseline") and "Became right" in text and "paired bootstrap 95% interval" in text

    # The other way round (the better report as the baseline) fails the regression gate.
    better = tmp_path / "better.json"
    better.write_text(report.read_text(), encoding="utf-8")
    worse = json.loads(baseline.read_text())
    for case in worse["cases"]:  # simulate a run that lost every event
        case["events"]["fn"] += case["events"]["tp"]
        case["events"]["tp"] = 0
    flipped = tmp_path / "worse.json"
    flipped.write_text(json.dumps(worse), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", "import json,sys; from extractor.eval.compare import compare, regressions_gate;"
         "b=json.load(open(sys.argv[1])); n=json.load(open(sys.argv[2])); print('\\n'.join(regressions_gate(compare(b, n))))",
         str(better), str(flipped)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert "events micro-F1 delta" in done.stdout and "below 0" in done.stdout


def test_fail_on_regression_needs_a_baseline(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "extractor.cli", "eval", "--fixtures", str(EVALS), "--fail-on-regression"],
        env=cli_env(tmp_path / "home"), capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert done.returncode == 2
    assert "--fail-on-regression compares with a previous report: give --baseline BASE.json" in done.stderr
