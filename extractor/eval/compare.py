"""Comparing two eval reports: what a prompt, model or pipeline change did, with its uncertainty.

`compare(base, new)` pairs the cases both reports scored and gives, per case and per record
type, the deltas of precision, recall and F1; the gold records that became right or wrong
(with the prediction before and after and their quotes), the false positives added or removed;
and a paired bootstrap 95 % interval
of the micro-F1 delta, overall and per type. The bootstrap resamples *cases* with
replacement and recomputes micro-F1 from the resampled cases' summed tp/fp/fn, for the base
and the new report on the same resample, so a change that helps one case and hurts another
is not mistaken for a gain. With few cases (n^n resamples no more than the sample budget) every
resample is enumerated instead of sampled: the interval is then exact.

`regressions_gate` turns a comparison into gate failures: the upper end of an interval below
zero (the change is worse with 95 % confidence), or one case losing more than `max_case_drop`.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Sequence
from typing import Any

from extractor.eval.scoring import precision_recall_f1
from extractor.schemas import RECORD_TYPES

#: bootstrap resamples drawn when the cases are too many to enumerate every resample
BOOTSTRAP_SAMPLES = 10_000
#: the bootstrap's random generator is seeded: the same two reports give the same interval
BOOTSTRAP_SEED = 20261201
#: default of --max-case-drop (a case losing more overall F1 than this fails the gate)
MAX_CASE_DROP = 0.25
SCOPES = ("overall", *RECORD_TYPES)

Counts = tuple[int, int, int]  # tp, fp, fn


def _counts(case: dict[str, Any], scope: str) -> Counts:
    if scope == "overall":
        return tuple(sum(case[k][x] for k in RECORD_TYPES) for x in ("tp", "fp", "fn"))  # type: ignore[return-value]
    return case[scope]["tp"], case[scope]["fp"], case[scope]["fn"]


def micro_f1(counts: Sequence[Counts]) -> float:
    """F1 of the summed tp/fp/fn (the scorer's conventions for empty sums)."""
    tp, fp, fn = (sum(c[i] for c in counts) for i in range(3))
    return precision_recall_f1(tp, fp, fn)[2]


def _quantile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank quantile on sorted values (a value that occurs, no interpolation)."""
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def paired_bootstrap(
    base: Sequence[Counts], new: Sequence[Counts], *, samples: int = BOOTSTRAP_SAMPLES, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float]:
    """95 % interval of micro-F1(new) - micro-F1(base) over case resamples (paired: same cases)."""
    n = len(base)
    if n == 0:
        return (0.0, 0.0)
    if n**n <= samples:
        resamples: Any = itertools.product(range(n), repeat=n)
    else:
        rng = random.Random(seed)
        resamples = ([rng.randrange(n) for _ in range(n)] for _ in range(samples))
    deltas = sorted(micro_f1([new[i] for i in draw]) - micro_f1([base[i] for i in draw]) for draw in resamples)
    return (round(_quantile(deltas, 0.025), 6), round(_quantile(deltas, 0.975), 6))


def _prf(counts: Counts) -> dict[str, float]:
    p, r, f = precision_recall_f1(*counts)
    return {"precision": p, "recall": r, "f1": f}


def _delta(before: Counts, after: Counts) -> dict[str, float]:
    a, b = _prf(before), _prf(after)
    return {key: round(b[key] - a[key], 6) for key in a}


def _matched_by_gold(case: dict[str, Any], kind: str) -> dict[int, dict[str, Any]]:
    return {m["gold_index"]: m for m in (case.get("records") or {}).get(kind, {}).get("matched", [])}


def _record_changes(case_id: str, before: dict[str, Any], after: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """(became_wrong, became_right): gold records matched in one report and not the other
    (none when a report predates the per-record lists)."""
    wrong, right = [], []
    if "records" not in before or "records" not in after:
        return wrong, right
    for kind in RECORD_TYPES:
        old, new = _matched_by_gold(before, kind), _matched_by_gold(after, kind)
        for index in sorted(set(old) ^ set(new)):
            lost = index in old
            item = {
                "case": case_id, "type": kind, "gold_index": index, "gold": (old if lost else new)[index]["gold"],
                "before": old[index]["predicted"] if lost else None, "after": None if lost else new[index]["predicted"],
            }  # fmt: skip
            (wrong if lost else right).append(item)
    return wrong, right


def _spurious_changes(case_id: str, before: dict[str, Any], after: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """(added, removed): predictions that matched no gold record in one report and not the other."""
    added, removed = [], []
    if "records" not in before or "records" not in after:
        return added, removed
    for kind in RECORD_TYPES:
        old = [json.dumps(r, sort_keys=True) for r in before["records"][kind]["spurious"]]
        new = [json.dumps(r, sort_keys=True) for r in after["records"][kind]["spurious"]]
        for text in new:
            if text in old:
                old.remove(text)
            else:
                added.append({"case": case_id, "type": kind, "predicted": json.loads(text)})
        removed += [{"case": case_id, "type": kind, "predicted": json.loads(text)} for text in old]
    return added, removed


def compare(base: dict[str, Any], new: dict[str, Any], *, samples: int = BOOTSTRAP_SAMPLES) -> dict[str, Any]:
    """The `compare` block of a report: `new` (this run) against `base` (e.g. main's report)."""
    scorable = lambda report: {c["id"]: c for c in report.get("cases", []) if not c.get("unscorable")}  # noqa: E731
    before, after = scorable(base), scorable(new)
    common = sorted(set(before) & set(after))
    cases, wrong, right, added, removed = [], [], [], [], []
    for case_id in common:
        row = {"id": case_id, **{s: _delta(_counts(before[case_id], s), _counts(after[case_id], s)) for s in SCOPES}}
        cases.append(row)
        w, r = _record_changes(case_id, before[case_id], after[case_id])
        wrong += w
        right += r
        a, d = _spurious_changes(case_id, before[case_id], after[case_id])
        added += a
        removed += d
    scopes = {}
    for scope in SCOPES:
        old = [_counts(before[c], scope) for c in common]
        fresh = [_counts(after[c], scope) for c in common]
        scopes[scope] = {
            "base_f1": round(micro_f1(old), 6), "new_f1": round(micro_f1(fresh), 6),
            "f1_delta": round(micro_f1(fresh) - micro_f1(old), 6),
            "ci95": list(paired_bootstrap(old, fresh, samples=samples)),
        }  # fmt: skip
    return {
        "base": {k: base.get(k) for k in ("model", "prompt_version", "backend")},
        "paired_cases": len(common),
        "records_compared": all("records" in before[c] and "records" in after[c] for c in common),
        "only_in_base": sorted(set(before) - set(after)),
        "only_in_new": sorted(set(after) - set(before)),
        "micro_f1_delta": scopes["overall"]["f1_delta"],
        "ci95": scopes["overall"]["ci95"],
        "types": {scope: scopes[scope] for scope in RECORD_TYPES},
        "overall": scopes["overall"],
        "cases": cases,
        "regressions": wrong,
        "improvements": right,
        "new_false_positives": added,
        "removed_false_positives": removed,
        "cost": {key: {"base": base.get(key), "new": new.get(key)} for key in ("model_calls", "seconds")}
        | {"tokens": {"base": (base.get("usage") or {}).get("total_tokens"), "new": (new.get("usage") or {}).get("total_tokens")}},
    }


def scope_block(comparison: dict[str, Any], scope: str) -> dict[str, Any]:
    """The delta block of one scope (overall or a record type) of a comparison."""
    return comparison["overall"] if scope == "overall" else comparison["types"][scope]


def regressions_gate(comparison: dict[str, Any], *, max_case_drop: float = MAX_CASE_DROP) -> list[str]:
    """Gate failures of a comparison: an interval entirely below zero, or one case dropping too far."""
    failures = []
    for scope in SCOPES:
        block = scope_block(comparison, scope)
        lo, hi = block["ci95"]
        if hi < 0:
            failures.append(f"{scope} micro-F1 delta {block['f1_delta']:+.3f}, 95% interval [{lo:+.3f}, {hi:+.3f}] is below 0")
    for case in comparison["cases"]:
        if case["overall"]["f1"] < -max_case_drop:
            failures.append(f"case {case['id']} lost {-case['overall']['f1']:.3f} F1 (more than --max-case-drop {max_case_drop:g})")
    return failures
