"""Score extractor predictions against gold cases (the rules of docs/EVAL_FORMAT.md).

Everything here is a pure function of its inputs, apart from `load_gold`, which reads one gold.json.

Conventions for precision, recall and F1 (per type and overall), from true positives (TP),
false positives (FP) and false negatives (FN):

- precision = TP / (TP + FP); with no predictions it is 1.0 when there is no gold either, else 0.0;
- recall = TP / (TP + FN); with no gold it is 1.0;
- F1 = 2PR / (P + R); 0.0 when P + R == 0.

So an empty prediction for an empty gold scores 1.0 everywhere, an empty prediction for a non-empty
gold scores 0.0, and predictions for an empty gold score precision 0.0 and F1 0.0.

The scorer is independent of the pipeline on purpose: it has its own name normaliser and
matching rules (the contract's), so a pipeline change cannot move the measuring stick.
`tests/unit/test_names.py` pins where its normaliser and the pipeline's differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from extractor.errors import GoldError
from extractor.eval.gold import (
    ACTOR_KINDS,
    EVENT_TYPES,
    MEASURES,
    STATUSES,
    GoldActor,
    GoldCase,
    GoldEvent,
    GoldSanction,
    is_date_text,
    load_gold,
)
from extractor.eval.names import FUZZY_THRESHOLD, NameMatcher, name_similarity, normalize_name
from extractor.schemas import RECORD_TYPES

__all__ = [
    "ACTOR_KINDS", "EVENT_TYPES", "MEASURES", "STATUSES", "RECORD_TYPES", "FUZZY_THRESHOLD", "GoldError", "GoldCase",
    "NameMatcher", "load_gold", "name_similarity", "normalize_name",
]  # fmt: skip

AMOUNT_TOLERANCE = 0.005
"""Relative tolerance for sanction amounts (0.5%)."""

ACTOR_FIELDS = ("kind",)
EVENT_FIELDS = ("fatalities", "country", "admin1", "date")
SANCTION_FIELDS = ("status", "amount")
TYPE_FIELDS = dict(zip(RECORD_TYPES, (ACTOR_FIELDS, EVENT_FIELDS, SANCTION_FIELDS)))
"""The fields scored on matched pairs, per record type."""

# --------------------------------------------------------------------------------------------
# Reading predictions (plain dicts, possibly malformed)
# --------------------------------------------------------------------------------------------


def _records(prediction: Mapping[str, Any] | None, key: str) -> list[Mapping[str, Any]]:
    """The predicted records of one type; a non-dict record becomes an empty one."""
    if not isinstance(prediction, Mapping):
        return []
    items = prediction.get(key)
    if not isinstance(items, list):
        return []
    return [item if isinstance(item, Mapping) else {} for item in items]


def _strings(value: Any) -> list[str]:
    """The strings in a value that should be a string or a list of strings."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_grounded(record: Mapping[str, Any], article: str) -> bool:
    """True when the record's evidence quote is exactly `article[start:end]` (and non-empty)."""
    evidence = record.get("evidence")
    if not isinstance(evidence, Mapping):
        return False
    quote, start, end = evidence.get("quote"), evidence.get("start"), evidence.get("end")
    if not isinstance(quote, str) or not quote:
        return False
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
        return False
    return 0 <= start <= end <= len(article) and article[start:end] == quote


# --------------------------------------------------------------------------------------------
# Field checks on matched pairs (gold options vs predicted value)
# --------------------------------------------------------------------------------------------


def _date_matches(option: str, predicted: Any) -> bool:
    """A gold month matches any predicted date or month in it; a gold full date must be equal."""
    if not is_date_text(predicted):
        return False
    if len(option) == 7:
        return predicted[:7] == option
    return predicted == option


def _amount_matches(option: float, predicted: Any) -> bool:
    return _is_number(predicted) and abs(predicted - option) <= AMOUNT_TOLERANCE * abs(option)


def _exact_int_matches(option: int, predicted: Any) -> bool:
    return _is_number(predicted) and predicted == option


def _equal(option: Any, predicted: Any) -> bool:
    return isinstance(predicted, str) and predicted == option


def _field_results(
    gold: BaseModel,
    predicted: Mapping[str, Any],
    checks: Mapping[str, Callable[[Any, Any], bool]],
) -> dict[str, bool]:
    """Correctness of each checked field that the gold record has (absent/null: not scored)."""
    results = {}
    for name, check in checks.items():
        options = getattr(gold, name)
        if options is not None:
            value = predicted.get(name)
            results[name] = any(check(option, value) for option in options)
    return results


# --------------------------------------------------------------------------------------------
# Per-type scores
# --------------------------------------------------------------------------------------------


def precision_recall_f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """P/R/F1 with the module's empty-set conventions (see the module docstring)."""
    if tp + fp:
        precision = tp / (tp + fp)
    else:
        precision = 1.0 if fn == 0 else 0.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _prf_dict(tp: int, fp: int, fn: int) -> dict[str, Any]:
    precision, recall, f1 = precision_recall_f1(tp, fp, fn)
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


@dataclass(frozen=True)
class TypeScore:
    """Counts for one record type in one case (or summed over cases).

    `field_counts` maps each scored field to (correct, scored) over matched pairs;
    `matches` maps gold index -> predicted index and `pair_fields` gold index -> the field
    results of its pair (both empty for aggregated scores).
    """

    tp: int
    fp: int
    fn: int
    field_counts: dict[str, tuple[int, int]]
    matches: dict[int, int] = field(default_factory=dict)
    pair_fields: dict[int, dict[str, bool]] = field(default_factory=dict)

    @property
    def field_accuracy(self) -> dict[str, float | None]:
        """Share of matched pairs whose field is right, per scored field (None: not scored)."""
        return {
            name: (correct / total if total else None)
            for name, (correct, total) in self.field_counts.items()
        }

    def to_dict(self) -> dict[str, Any]:
        """The score as report JSON."""
        return {**_prf_dict(self.tp, self.fp, self.fn), "field_accuracy": self.field_accuracy}


PairScore = tuple[float, dict[str, bool]] | None
"""How well a (gold, predicted) pair matches: None for no match, else (strength, field results)."""


def _match_greedily(
    n_gold: int, n_pred: int, pair_score: Callable[[int, int], PairScore]
) -> dict[int, tuple[int, dict[str, bool]]]:
    """One-to-one matching: take candidate pairs by strength, then fields right, then order."""
    candidates = []
    for gi in range(n_gold):
        for pi in range(n_pred):
            scored = pair_score(gi, pi)
            if scored is not None:
                strength, fields = scored
                candidates.append((-strength, -sum(fields.values()), gi, pi, fields))
    candidates.sort(key=lambda c: c[:4])
    matches: dict[int, tuple[int, dict[str, bool]]] = {}
    used_pred: set[int] = set()
    for _, _, gi, pi, fields in candidates:
        if gi not in matches and pi not in used_pred:
            matches[gi] = (pi, fields)
            used_pred.add(pi)
    return matches


def _score_type(
    n_gold: int,
    n_pred: int,
    field_names: Sequence[str],
    pair_score: Callable[[int, int], PairScore],
) -> TypeScore:
    matches = _match_greedily(n_gold, n_pred, pair_score)
    counts = {name: [0, 0] for name in field_names}
    for _, fields in matches.values():
        for name, correct in fields.items():
            counts[name][0] += correct
            counts[name][1] += 1
    tp = len(matches)
    return TypeScore(
        tp=tp,
        fp=n_pred - tp,
        fn=n_gold - tp,
        field_counts={name: (c, t) for name, (c, t) in counts.items()},
        matches={gi: pi for gi, (pi, _) in sorted(matches.items())},
        pair_fields={gi: fields for gi, (_, fields) in sorted(matches.items())},
    )


def score_actors(
    gold: Sequence[GoldActor], predicted: Sequence[Mapping[str, Any]]
) -> TypeScore:
    """Actors match when any predicted name/alias is similar to any gold name/alias."""
    gold_names = [[normalize_name(n) for n in actor.names] for actor in gold]
    pred_names = [
        [normalize_name(n) for n in _strings(rec.get("name")) + _strings(rec.get("aliases"))]
        for rec in predicted
    ]

    def pair_score(gi: int, pi: int) -> PairScore:
        best = max(
            (name_similarity(g, p) for g in gold_names[gi] for p in pred_names[pi]), default=0.0
        )
        if best < FUZZY_THRESHOLD:
            return None
        return best, _field_results(gold[gi], predicted[pi], {"kind": _equal})

    return _score_type(len(gold), len(predicted), ACTOR_FIELDS, pair_score)


def _participant_overlap(
    gold: GoldEvent, predicted: Mapping[str, Any], matcher: NameMatcher
) -> int:
    """Gold perpetrator/target slots matched by a predicted name in the same role."""
    overlap = 0
    for role in ("perpetrators", "targets"):
        names = _strings(predicted.get(role))
        overlap += sum(
            any(matcher.match_any(options, name) for name in names)
            for options in getattr(gold, role)
        )
    return overlap


def score_events(
    gold: Sequence[GoldEvent], predicted: Sequence[Mapping[str, Any]], matcher: NameMatcher, *, match_type: bool = True
) -> TypeScore:
    """Events match on type plus one shared participant (type alone when gold lists none).
    `match_type=False` ignores the type (error analysis: which type was given instead)."""
    checks = {
        "fatalities": _exact_int_matches,
        "country": matcher.match,
        "admin1": matcher.match,
        "date": _date_matches,
    }

    def pair_score(gi: int, pi: int) -> PairScore:
        g, p = gold[gi], predicted[pi]
        if match_type and not any(_equal(option, p.get("type")) for option in g.type):
            return None
        overlap = _participant_overlap(g, p, matcher)
        if (g.perpetrators or g.targets) and overlap == 0:
            return None
        return overlap, _field_results(g, p, checks)

    return _score_type(len(gold), len(predicted), EVENT_FIELDS, pair_score)


def score_sanctions(
    gold: Sequence[GoldSanction], predicted: Sequence[Mapping[str, Any]], matcher: NameMatcher, *, match_type: bool = True
) -> TypeScore:
    """Sanctions match when target, measure and (if gold has one) authority all agree
    (`match_type=False` ignores the measure, for the confusion of measures)."""
    checks = {"status": _equal, "amount": _amount_matches}

    def pair_score(gi: int, pi: int) -> PairScore:
        g, p = gold[gi], predicted[pi]
        if not matcher.match_any(g.target, p.get("target")):
            return None
        if match_type and not any(_equal(option, p.get("measure")) for option in g.measure):
            return None
        if g.authority is not None and not matcher.match_any(g.authority, p.get("authority")):
            return None
        return 0, _field_results(g, p, checks)

    return _score_type(len(gold), len(predicted), SANCTION_FIELDS, pair_score)


# --------------------------------------------------------------------------------------------
# Case scores and aggregation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseScore:
    """The score of one case: per-type counts and matches, and grounding counts."""

    case_id: str
    actors: TypeScore
    events: TypeScore
    sanctions: TypeScore
    grounded: int
    predicted_records: int

    @property
    def types(self) -> dict[str, TypeScore]:
        """The three type scores by record type."""
        return {"actors": self.actors, "events": self.events, "sanctions": self.sanctions}

    @property
    def grounding(self) -> float | None:
        """Share of predicted records whose evidence holds in the article (None: no records)."""
        return _share(self.grounded, self.predicted_records)

    def to_dict(self) -> dict[str, Any]:
        """The case's scores as report JSON."""
        result: dict[str, Any] = {"id": self.case_id, "overall": _overall(self.types.values())}
        for name, score in self.types.items():
            result[name] = {**score.to_dict(), "matches": dict(score.matches)}
        result["grounding"] = self.grounding
        return result


def _overall(scores: Iterable[TypeScore]) -> dict[str, Any]:
    """Micro-averaged P/R/F1 over record types: their TP/FP/FN summed."""
    scores = list(scores)
    return _prf_dict(
        sum(s.tp for s in scores), sum(s.fp for s in scores), sum(s.fn for s in scores)
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def score_case(gold: GoldCase, prediction: Mapping[str, Any] | None, article: str) -> CaseScore:
    """Score one prediction (None for a failed extraction: an empty prediction) against gold."""
    matcher = NameMatcher(gold.actors)
    actors = _records(prediction, "actors")
    events = _records(prediction, "events")
    sanctions = _records(prediction, "sanctions")
    all_records = [*actors, *events, *sanctions]
    return CaseScore(
        case_id=gold.id,
        actors=score_actors(gold.actors, actors),
        events=score_events(gold.events, events, matcher),
        sanctions=score_sanctions(gold.sanctions, sanctions, matcher),
        grounded=sum(is_grounded(record, article) for record in all_records),
        predicted_records=len(all_records),
    )


def _sum_type_scores(scores: Sequence[TypeScore], field_names: Sequence[str]) -> TypeScore:
    return TypeScore(
        tp=sum(s.tp for s in scores),
        fp=sum(s.fp for s in scores),
        fn=sum(s.fn for s in scores),
        field_counts={
            name: (
                sum(s.field_counts[name][0] for s in scores),
                sum(s.field_counts[name][1] for s in scores),
            )
            for name in field_names
        },
    )


def aggregate(case_scores: Sequence[CaseScore]) -> dict[str, Any]:
    """Micro-average case scores: counts, field correct/total and grounding summed over cases.

    Returns {"overall": {precision, recall, f1, tp, fp, fn},
             "actors" | "events" | "sanctions": {precision, recall, f1, tp, fp, fn, field_accuracy},
             "grounding": float or None}.
    """
    totals = {
        name: _sum_type_scores([case.types[name] for case in case_scores], TYPE_FIELDS[name])
        for name in RECORD_TYPES
    }
    return {
        "overall": _overall(totals.values()),
        **{name: totals[name].to_dict() for name in RECORD_TYPES},
        "grounding": _share(
            sum(case.grounded for case in case_scores),
            sum(case.predicted_records for case in case_scores),
        ),
    }
