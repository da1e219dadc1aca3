"""Repeated eval runs of a non-deterministic model: mean, standard deviation and pass^K.

`--repeat K` runs the eval set K times (the first run as configured, the others with the cache
bypassed and the seed varied). A figure's spread says how much of a delta is noise; pass^K is
the share of gates that every one of the K runs passed (a gate that passes 4 runs in 5 is not
a gate the change can rely on). At temperature 0 a deterministic model gives a deviation of 0.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

from extractor.schemas import RECORD_TYPES

FIGURES = ("overall_f1", *(f"{kind}_f1" for kind in RECORD_TYPES), "grounding")


def figures(report: dict[str, Any]) -> dict[str, float | None]:
    """The gateable figures of one report."""
    return {
        "overall_f1": report["overall"]["f1"],
        **{f"{kind}_f1": report[kind]["f1"] for kind in RECORD_TYPES},
        "grounding": report.get("grounding"),
    }


def summarise(
    reports: Sequence[dict[str, Any]], gates: dict[str, float], check: Callable[[dict[str, Any], dict[str, float]], list[str]]
) -> dict[str, Any]:
    """The `repeats` block: per-run figures, their mean and (population) deviation, pass^K."""
    runs = [figures(r) for r in reports]
    mean, std = {}, {}
    for name in FIGURES:
        values = [run[name] for run in runs if run[name] is not None]
        mean[name] = round(statistics.fmean(values), 6) if values else None
        std[name] = round(statistics.pstdev(values), 6) if values else None
    per_gate = {key: all(not check(r, {key: value}) for r in reports) for key, value in gates.items()}
    return {
        "k": len(reports),
        "seeds": [r.get("generation", {}).get("seed") for r in reports],
        "runs": runs,
        "mean": mean,
        "std": std,
        "gates_passed_by_all": per_gate,
        "pass_k": (sum(per_gate.values()) / len(per_gate)) if per_gate else None,
    }
