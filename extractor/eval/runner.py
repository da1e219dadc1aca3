"""`extractor eval`: run the extractor over an eval set, score it, report, and gate.

An eval set is any directory of case folders holding article.txt + gold.json
(docs/EVAL_FORMAT.md). Every case is scored: a failed extraction counts as an empty
prediction and the report names the case and the error. A case whose gold or article
cannot be read is reported as unscorable, which fails the run.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from extractor.errors import GoldError
from extractor.eval.analysis import analyse, case_records
from extractor.eval.scoring import aggregate, load_gold, score_case
from extractor.pipeline import Extractor
from extractor.records import RECORD_TYPES as TYPES

#: the scores a thresholds file may gate on
GATE_KEYS = ("overall_f1", "actors_f1", "events_f1", "sanctions_f1", "grounding")


def discover_cases(root: Path, only: list[str] | None = None) -> list[Path]:
    """Case folders (with a gold.json) under `root`, sorted; `only` restricts to those ids."""
    cases = sorted(p for p in root.iterdir() if p.is_dir() and (p / "gold.json").exists())
    if only:
        missing = sorted(set(only) - {p.name for p in cases})
        if missing:
            raise ValueError(f"{root}: no such case(s): {', '.join(missing)}")
        cases = [p for p in cases if p.name in only]
    if not cases:
        raise ValueError(f"{root}: no case directories with a gold.json")
    return cases


def load_thresholds(path: Path) -> dict[str, float]:
    """The gates of a thresholds JSON file; ValueError names an unknown key."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read thresholds ({exc})") from exc
    unknown = sorted(set(data) - set(GATE_KEYS) - {"comment", "measured", "tolerance"})
    if unknown:
        raise ValueError(f"{path}: unknown threshold key(s) {', '.join(unknown)}; known: {', '.join(GATE_KEYS)}")
    return {key: float(data[key]) for key in GATE_KEYS if key in data}


def run_eval(
    extractor: Extractor,
    case_dirs: list[Path],
    console: Console | None = None,
    predictions_dir: Path | None = None,
) -> dict[str, Any]:
    """Extract every case, score it against its gold file and aggregate the report.
    With `predictions_dir`, each case's extraction (or error) is written to <case>.json there."""
    return asyncio.run(_run(extractor, case_dirs, console or Console(stderr=True), predictions_dir))


def _load_cases(case_dirs: list[Path]) -> tuple[dict[str, tuple[Any, str]], list[dict[str, Any]]]:
    loaded: dict[str, tuple[Any, str]] = {}
    unscorable: list[dict[str, Any]] = []
    for case in case_dirs:
        try:
            gold = load_gold(case / "gold.json")
            article = (case / "article.txt").read_text(encoding="utf-8")
            if not article.strip():
                raise ValueError(f"{case / 'article.txt'}: empty")
            loaded[case.name] = (gold, article)
        except (GoldError, OSError, UnicodeDecodeError, ValueError) as exc:
            unscorable.append({"id": case.name, "error": str(exc).splitlines()[0]})
    return loaded, unscorable


def _cost(result: Any) -> dict[str, Any]:
    """Tokens, model calls, cache hits and seconds of one case's extraction."""
    usage = result.meta.usage
    return {
        "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens},
        "model_calls": result.meta.model_calls,
        "cache_hits": sum(1 for p in result.meta.passes if p.cache_hit),
        "seconds": result.meta.seconds,
    }


async def _extract_all(extractor: Extractor, loaded: dict[str, tuple[Any, str]], console: Console) -> dict[str, Any]:
    predictions: dict[str, Any] = {}
    with console.status("") as status:
        documents = [(cid, article, gold.published and str(gold.published)) for cid, (gold, article) in loaded.items()]
        async for case_id, result in extractor.aextract_many(documents):
            predictions[case_id] = result
            status.update(f"eval: {len(predictions)}/{len(documents)} cases ({case_id})")
    return predictions


async def _run(
    extractor: Extractor, case_dirs: list[Path], console: Console, predictions_dir: Path | None = None
) -> dict[str, Any]:
    started = time.perf_counter()
    loaded, unscorable = _load_cases(case_dirs)
    predictions = await _extract_all(extractor, loaded, console)
    scores, cases, scored = [], [], []
    totals = {"prompt_tokens": 0, "completion_tokens": 0, "model_calls": 0, "cache_hits": 0}
    for case_id, (gold, article) in loaded.items():
        result = predictions.get(case_id)
        failed = isinstance(result, BaseException) or result is None
        prediction = None if failed else result.model_dump(mode="json")
        score = score_case(gold, prediction, article)
        scores.append(score)
        entry = score.to_dict()
        entry.pop("matches", None)
        for kind in TYPES:
            entry[kind].pop("matches", None)
        entry["records"] = case_records(gold, prediction, score)
        scored.append((case_id, gold, prediction, score, entry["records"]))
        if failed:
            entry["error"] = f"{type(result).__name__}: {str(result).splitlines()[0] if str(result) else ''}"
        else:
            cost = _cost(result)
            entry.update(cost, warnings=result.meta.warnings)
            for key in ("prompt_tokens", "completion_tokens"):
                totals[key] += cost["usage"][key]
            totals["model_calls"] += cost["model_calls"]
            totals["cache_hits"] += cost["cache_hits"]
        cases.append(entry)
        if predictions_dir is not None:
            _write_prediction(predictions_dir / f"{case_id}.json", prediction, entry.get("error"))
    for bad in unscorable:
        cases.append({"id": bad["id"], "error": bad["error"], "unscorable": True})

    report = aggregate(scores)
    usage = {"prompt_tokens": totals["prompt_tokens"], "completion_tokens": totals["completion_tokens"]}
    report.update(
        {
            "cases": sorted(cases, key=lambda c: c["id"]),
            "failed_cases": sorted(c["id"] for c in cases if "error" in c),
            "unscorable_cases": sorted(b["id"] for b in unscorable),
            "model": extractor.model_label,
            "backend": extractor.backend.identity,
            "prompt_version": extractor.prompts.id,
            "usage": {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]},
            "model_calls": totals["model_calls"],
            "cache_hits": totals["cache_hits"],
            "seconds": round(time.perf_counter() - started, 3),
            "n_cases": len(case_dirs),
            "generation": {"temperature": extractor.config.temperature, "seed": extractor.config.seed},
            "analysis": analyse(scored),
        }
    )
    return report


def _write_prediction(path: Path, prediction: dict[str, Any] | None, error: str | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = prediction if prediction is not None else {"error": error}
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def thresholds_from(report: dict[str, Any], tolerance: float) -> dict[str, Any]:
    """Gates for CI: every measured score minus `tolerance` (never below 0), with the
    measured values kept beside them so a reviewer sees where each gate came from."""
    measured = {
        "overall_f1": report["overall"]["f1"],
        **{f"{kind}_f1": report[kind]["f1"] for kind in TYPES},
        "grounding": report.get("grounding"),
    }
    gates = {key: round(max(0.0, value - tolerance), 3) for key, value in measured.items() if value is not None}
    return {
        **gates,
        "tolerance": tolerance,
        "measured": {key: (round(value, 4) if value is not None else None) for key, value in measured.items()},
        "comment": f"measured on {report['model']} with prompt {report['prompt_version']}; gate = measured - tolerance",
    }


def check_gates(report: dict[str, Any], gates: dict[str, float]) -> list[str]:
    """One line per failed gate (and per unscorable case); empty when all pass."""
    failures = [f"case {c['id']} could not be scored: {c['error']}" for c in report["cases"] if c.get("unscorable")]
    values = {
        "overall_f1": report["overall"]["f1"],
        **{f"{kind}_f1": report[kind]["f1"] for kind in TYPES},
        "grounding": report.get("grounding"),
    }
    for key, minimum in gates.items():
        value = values.get(key)
        if value is None or value + 1e-9 < minimum:
            shown = "n/a" if value is None else f"{value:.3f}"
            failures.append(f"{key} {shown} < {minimum:.3f}")
    return failures
