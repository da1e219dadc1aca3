"""Score extractor predictions against gold cases (the rules of ../shared/EVAL_FORMAT.md).

Everything here is a pure function of its inputs, apart from `load_gold`, which reads one gold.json.

Conventions for precision, recall and F1 (per type and overall), from true positives (TP),
false positives (FP) and false negatives (FN):

- precision = TP / (TP + FP); with no predictions it is 1.0 when there is no gold either, else 0.0;
- recall = TP / (TP + FN); with no gold it is 1.0;
- F1 = 2PR / (P + R); 0.0 when P + R == 0.

So an empty prediction for an empty gold scores 1.0 everywhere, an empty prediction for a non-empty
gold scores 0.0, and predictions for an empty gold score precision 0.0 and F1 0.0.

Gold fields that are absent or null are not scored. Any gold scalar may be `{"any_of": [...]}`;
it is stored as a tuple of options, any of which counts as correct (a plain scalar is a 1-tuple).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from rapidfuzz import fuzz

# --------------------------------------------------------------------------------------------
# Enumerations of the contract
# --------------------------------------------------------------------------------------------

ActorKind = Literal[
    "person",
    "state_forces",
    "armed_group",
    "government",
    "international_organization",
    "ngo",
    "media",
    "company",
    "other",
]
EventType = Literal[
    "battle",
    "explosion_remote_violence",
    "violence_against_civilians",
    "protest",
    "riot",
    "strategic_development",
]
Measure = Literal[
    "terrorist_designation",
    "sanctions_listing",
    "asset_freeze",
    "travel_ban",
    "arms_embargo",
    "trade_restriction",
    "reward",
    "other",
]
Status = Literal["imposed", "in_force", "under_review", "lifted"]

ACTOR_KINDS: tuple[str, ...] = get_args(ActorKind)
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
MEASURES: tuple[str, ...] = get_args(Measure)
STATUSES: tuple[str, ...] = get_args(Status)

FUZZY_THRESHOLD = 90.0
"""Two normalised names match when rapidfuzz's token_set_ratio is at least this."""

AMOUNT_TOLERANCE = 0.005
"""Relative tolerance for sanction amounts (0.5%)."""

ACTOR_FIELDS = ("kind",)
EVENT_FIELDS = ("fatalities", "country", "admin1", "date")
SANCTION_FIELDS = ("status", "amount")
TYPE_FIELDS = {"actors": ACTOR_FIELDS, "events": EVENT_FIELDS, "sanctions": SANCTION_FIELDS}
"""The fields scored on matched pairs, per record type."""
RECORD_TYPES = tuple(TYPE_FIELDS)

# --------------------------------------------------------------------------------------------
# Gold model
# --------------------------------------------------------------------------------------------


class GoldError(ValueError):
    """A gold.json that cannot be read or does not follow the contract."""


T = TypeVar("T")


def _as_options(value: Any) -> Any:
    """Turn a gold scalar or `{"any_of": [...]}` into a tuple of acceptable values."""
    if isinstance(value, Mapping):
        options = value.get("any_of")
        if set(value) != {"any_of"} or not isinstance(options, list) or not options:
            raise ValueError('expected a value or {"any_of": [at least one value]}')
        return tuple(options)
    return (value,)


Options = Annotated[tuple[T, ...], BeforeValidator(_as_options)]
"""A gold scalar, stored as the tuple of values that count as correct."""

_DATE_RE = re.compile(r"\d{4}-\d{2}(-\d{2})?")


def _is_date_text(value: object) -> bool:
    """True for an ISO date `YYYY-MM-DD` or month `YYYY-MM` naming a real day or month."""
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value if len(value) == 10 else value + "-01")
    except ValueError:
        return False
    return True


def _check_date_text(value: str) -> str:
    if not _is_date_text(value):
        raise ValueError("expected an ISO date YYYY-MM-DD or a month YYYY-MM")
    return value


Name = Annotated[str, Field(min_length=1)]
DateText = Annotated[str, AfterValidator(_check_date_text)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class _GoldModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class GoldActor(_GoldModel):
    name: Name
    aliases: list[Name] = []
    kind: Options[ActorKind] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The actor's name followed by its aliases."""
        return (self.name, *self.aliases)


class GoldEvent(_GoldModel):
    type: Options[EventType]
    perpetrators: list[Options[Name]] = []
    targets: list[Options[Name]] = []
    country: Options[Name] | None = None
    admin1: Options[Name] | None = None
    fatalities: Options[Annotated[int, Field(ge=0)]] | None = None
    date: Options[DateText] | None = None
    location: Options[Name] | None = None


class GoldSanction(_GoldModel):
    target: Options[Name]
    authority: Options[Name] | None = None
    measure: Options[Measure]
    status: Options[Status] | None = None
    amount: Options[Annotated[float, Field(ge=0)]] | None = None
    currency: Options[Currency] | None = None
    program: Options[Name] | None = None


class GoldCase(_GoldModel):
    id: Name
    published: date | None = None
    actors: list[GoldActor] = []
    events: list[GoldEvent] = []
    sanctions: list[GoldSanction] = []


def _describe(error: ValidationError) -> str:
    """One line naming where the first validation problem is and what it is."""
    errors = error.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "top level"
    text = f"{where}: {first['msg']}"
    if first["type"] != "missing":
        text += f" (got {_short_repr(first['input'])})"
    if len(errors) > 1:
        text += f" (+{len(errors) - 1} more)"
    return text


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_gold(path: Path) -> GoldCase:
    """Read and validate one gold.json; raise GoldError with a one-line message naming the file."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GoldError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise GoldError(f"{path}: not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise GoldError(f"{path}: invalid JSON: {exc}") from exc
    try:
        return GoldCase.model_validate(raw)
    except ValidationError as exc:
        raise GoldError(f"{path}: {_describe(exc)}") from exc


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

_LEADING_THE = re.compile(r"^the\s+")


def normalize_name(name: str) -> str:
    """Casefold, strip accents, remove punctuation and a leading "the", collapse whitespace."""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(
        char
        for char in text
        if not unicodedata.combining(char) and not unicodedata.category(char).startswith("P")
    )
    text = " ".join(text.split())
    return _LEADING_THE.sub("", text)


def name_similarity(a: str, b: str) -> float:
    """Similarity 0-100 of two already normalised names (100 when equal, 0 when either is empty)."""
    if not a or not b:
        return 0.0
    if a == b:
        return 100.0
    # Just below 100 for unequal names, so that one-to-one matching prefers an exact match over
    # a token-subset match ("Islamic State" vs "Islamic State Mozambique Province" also scores 100).
    return min(fuzz.token_set_ratio(a, b), 99.9)


def _similar(a: str, b: str) -> bool:
    return name_similarity(a, b) >= FUZZY_THRESHOLD


class NameMatcher:
    """Matches names under the contract's rules, knowing the gold actor table of one case.

    Two names match when their normalised forms are equal or fuzzy-similar, or when both refer to
    the same gold actor. A name refers to a gold actor when it matches (equal or fuzzy) the actor's
    name or one of its aliases, so "HTS" matches "Hayat Tahrir al-Sham" when one actor lists both.
    """

    def __init__(self, actors: Sequence[GoldActor]) -> None:
        self._actor_names = [
            tuple(normalize_name(name) for name in actor.names) for actor in actors
        ]

    def refers_to(self, name: str) -> frozenset[int]:
        """Indexes of the gold actors that `name` (raw) names."""
        norm = normalize_name(name)
        return frozenset(
            index
            for index, names in enumerate(self._actor_names)
            if any(_similar(norm, other) for other in names)
        )

    def match(self, a: object, b: object) -> bool:
        """True when two raw names match; non-strings never match."""
        if not isinstance(a, str) or not isinstance(b, str):
            return False
        if _similar(normalize_name(a), normalize_name(b)):
            return True
        return bool(self.refers_to(a) & self.refers_to(b))

    def match_any(self, options: Sequence[str], predicted: object) -> bool:
        """True when the predicted name matches any of the gold options."""
        return any(self.match(option, predicted) for option in options)


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
    if not _is_date_text(predicted):
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
    `matches` maps gold index -> predicted index (empty for aggregated scores).
    """

    tp: int
    fp: int
    fn: int
    field_counts: dict[str, tuple[int, int]]
    matches: dict[int, int] = field(default_factory=dict)

    @property
    def field_accuracy(self) -> dict[str, float | None]:
        return {
            name: (correct / total if total else None)
            for name, (correct, total) in self.field_counts.items()
        }

    def to_dict(self) -> dict[str, Any]:
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
    gold: Sequence[GoldEvent], predicted: Sequence[Mapping[str, Any]], matcher: NameMatcher
) -> TypeScore:
    """Events match on type plus one shared participant (type alone when gold lists none)."""
    checks = {
        "fatalities": _exact_int_matches,
        "country": matcher.match,
        "admin1": matcher.match,
        "date": _date_matches,
    }

    def pair_score(gi: int, pi: int) -> PairScore:
        g, p = gold[gi], predicted[pi]
        if not any(_equal(option, p.get("type")) for option in g.type):
            return None
        overlap = _participant_overlap(g, p, matcher)
        if (g.perpetrators or g.targets) and overlap == 0:
            return None
        return overlap, _field_results(g, p, checks)

    return _score_type(len(gold), len(predicted), EVENT_FIELDS, pair_score)


def score_sanctions(
    gold: Sequence[GoldSanction], predicted: Sequence[Mapping[str, Any]], matcher: NameMatcher
) -> TypeScore:
    """Sanctions match when target, measure and (if gold has one) authority all agree."""
    checks = {"status": _equal, "amount": _amount_matches}

    def pair_score(gi: int, pi: int) -> PairScore:
        g, p = gold[gi], predicted[pi]
        if not matcher.match_any(g.target, p.get("target")):
            return None
        if not any(_equal(option, p.get("measure")) for option in g.measure):
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
        return {"actors": self.actors, "events": self.events, "sanctions": self.sanctions}

    @property
    def grounding(self) -> float | None:
        return _share(self.grounded, self.predicted_records)

    def to_dict(self) -> dict[str, Any]:
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
