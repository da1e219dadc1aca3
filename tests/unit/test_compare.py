"""Baseline comparison of eval reports: deltas, record changes, the paired bootstrap, gates."""

from __future__ import annotations

import copy
import itertools

import pytest

from extractor.eval.compare import compare, micro_f1, paired_bootstrap, regressions_gate
from extractor.eval.repeats import summarise
from extractor.eval.runner import check_gates


def _type(tp: int, fp: int, fn: int) -> dict:
    return {"tp": tp, "fp": fp, "fn": fn}


def _case(case_id: str, actors=(0, 0, 0), events=(0, 0, 0), sanctions=(0, 0, 0), records=None) -> dict:
    case = {"id": case_id, "actors": _type(*actors), "events": _type(*events), "sanctions": _type(*sanctions)}
    if records is not None:
        case["records"] = records
    return case


def _report(*cases, prompt="base", f1=0.5) -> dict:
    return {"cases": list(cases), "prompt_version": prompt, "model": "m", "overall": {"f1": f1},
            "actors": {"f1": f1}, "events": {"f1": f1}, "sanctions": {"f1": f1}, "grounding": 1.0}  # fmt: skip


def test_identical_reports_give_zero_deltas_and_a_zero_interval() -> None:
    base = _report(_case("a", (2, 1, 0), (1, 0, 1)), _case("b", (0, 1, 1)), _case("c", sanctions=(3, 0, 0)))
    result = compare(base, copy.deepcopy(base))
    assert result["micro_f1_delta"] == 0.0
    assert result["ci95"] == [0.0, 0.0]
    assert all(block["ci95"] == [0.0, 0.0] for block in result["types"].values())
    assert result["regressions"] == [] and result["improvements"] == []
    assert regressions_gate(result) == []


def test_known_deltas_per_case_and_type() -> None:
    base = _report(_case("a", actors=(1, 1, 1)), _case("b", events=(1, 0, 1)))
    new = _report(_case("a", actors=(2, 0, 0)), _case("b", events=(0, 1, 2)))
    result = compare(base, new)
    by_id = {row["id"]: row for row in result["cases"]}
    assert by_id["a"]["actors"]["f1"] == pytest.approx(1.0 - 0.5)
    assert by_id["b"]["events"]["f1"] == pytest.approx(0.0 - 2 / 3, abs=1e-6)
    # micro-F1 over both cases: base tp2 fp1 fn2 -> 4/7; new tp2 fp1 fn2 -> 4/7
    assert result["overall"]["base_f1"] == pytest.approx(4 / 7, abs=1e-6)
    assert result["micro_f1_delta"] == pytest.approx(0.0, abs=1e-6)
    assert result["types"]["actors"]["f1_delta"] == pytest.approx(1.0 - 0.5)


def _exact_interval(base, new) -> tuple[float, float]:
    """Every one of the n^n resamples, written out independently of the implementation."""
    n = len(base)
    deltas = sorted(
        micro_f1([new[i] for i in draw]) - micro_f1([base[i] for i in draw])
        for draw in itertools.product(range(n), repeat=n)
    )
    rank = lambda q: deltas[round(q * (len(deltas) - 1))]  # noqa: E731
    return round(rank(0.025), 6), round(rank(0.975), 6)


def test_the_interval_of_three_cases_is_the_exact_enumeration_of_all_27_resamples() -> None:
    base = [(3, 1, 1), (0, 2, 2), (5, 0, 1)]
    new = [(4, 0, 0), (0, 3, 2), (4, 1, 2)]
    exact = _exact_interval(base, new)
    assert paired_bootstrap(base, new) == exact  # 27 <= the sample budget: enumerated
    lo, hi = exact
    assert lo < 0 < hi  # one case better, one worse: the interval straddles 0
    # Sampled instead of enumerated (budget below 27): the interval stays inside the exact range.
    sampled = paired_bootstrap(base, new, samples=20)
    deltas = [micro_f1([new[i] for i in d]) - micro_f1([base[i] for i in d]) for d in itertools.product(range(3), repeat=3)]
    assert min(deltas) - 1e-9 <= sampled[0] <= sampled[1] <= max(deltas) + 1e-9


def test_the_sampled_interval_is_seeded_and_repeatable() -> None:
    base = [(i % 4, 1, 1) for i in range(12)]
    new = [(i % 4 + (i % 3 == 0), 1, 1) for i in range(12)]
    first, second = paired_bootstrap(base, new), paired_bootstrap(base, new)
    assert first == second
    assert first[0] >= 0  # every change is an improvement: the interval does not go below 0


def test_cases_in_one_report_only_are_listed_and_left_out() -> None:
    base = _report(_case("a", (1, 0, 0)), _case("gone", (0, 0, 5)))
    new = _report(_case("a", (1, 0, 0)), _case("new", (5, 0, 0)))
    result = compare(base, new)
    assert result["paired_cases"] == 1
    assert result["only_in_base"] == ["gone"] and result["only_in_new"] == ["new"]
    assert result["micro_f1_delta"] == 0.0


def _records(matched_indexes: list[int]) -> dict:
    gold = [{"name": "HTS"}, {"name": "Islamic State"}]
    return {
        "actors": {
            "matched": [{"gold_index": i, "gold": gold[i], "predicted": {"name": gold[i]["name"]}, "fields": {}} for i in matched_indexes],
            "missed": [{"gold_index": i, "gold": gold[i]} for i in range(2) if i not in matched_indexes],
            "spurious": [],
        },
        "events": {"matched": [], "missed": [], "spurious": []},
        "sanctions": {"matched": [], "missed": [], "spurious": []},
    }


def test_records_that_became_wrong_or_right_are_named_with_before_and_after() -> None:
    base = _report(_case("seed", actors=(1, 0, 1), records=_records([0])))
    new = _report(_case("seed", actors=(1, 0, 1), records=_records([1])))
    result = compare(base, new)
    assert [(r["gold"]["name"], r["before"], r["after"]) for r in result["regressions"]] == [("HTS", {"name": "HTS"}, None)]
    assert [(r["gold"]["name"], r["before"], r["after"]) for r in result["improvements"]] == [
        ("Islamic State", None, {"name": "Islamic State"})
    ]


def test_the_gate_fails_a_clear_regression_and_a_large_drop_of_one_case() -> None:
    base = _report(*[_case(f"c{i}", actors=(4, 0, 0)) for i in range(6)])
    new = _report(*[_case(f"c{i}", actors=(1, 3, 3)) for i in range(6)])
    failures = regressions_gate(compare(base, new))
    assert any(f.startswith("overall micro-F1 delta") and "below 0" in f for f in failures)
    assert any(f.startswith("case c0 lost 0.750 F1") for f in failures)
    mixed = _report(*[_case(f"c{i}", actors=(4, 0, 0) if i else (3, 1, 1)) for i in range(6)])
    assert regressions_gate(compare(base, mixed), max_case_drop=0.5) == []  # small drop, interval reaches 0


def test_repeats_of_identical_runs_have_zero_deviation_and_pass_k() -> None:
    runs = [_report(_case("a"), f1=0.6) for _ in range(3)]
    summary = summarise(runs, {"overall_f1": 0.5, "events_f1": 0.7}, check_gates)
    assert summary["k"] == 3
    assert summary["std"]["overall_f1"] == 0.0 and summary["mean"]["overall_f1"] == 0.6
    assert summary["gates_passed_by_all"] == {"overall_f1": True, "events_f1": False}
    assert summary["pass_k"] == 0.5


def test_pass_k_counts_a_gate_only_when_every_run_passes_it() -> None:
    runs = [_report(_case("a"), f1=0.6), _report(_case("a"), f1=0.4)]
    summary = summarise(runs, {"overall_f1": 0.5}, check_gates)
    assert summary["pass_k"] == 0.0
    assert summary["std"]["overall_f1"] == pytest.approx(0.1)
