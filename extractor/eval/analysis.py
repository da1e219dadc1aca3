"""Error analysis of a scored case: which records matched, which were missed or invented, and why.

Per case, `case_records` lists every gold record with the prediction it matched (and the
field results), the gold records nobody matched (false negatives) and the predictions that
matched nothing (false positives), each with its evidence quote, so a reviewer or a baseline
comparison can name the records that changed. Over a run, `analyse` counts:

- confusion matrices of event types and of sanction measures, over pairs matched with the
  type ignored (events: a shared participant; sanctions: target and authority), so a
  "battle" written as "violence_against_civilians" is visible;
- per-field correct/total counts over matched pairs;
- the most frequent false positives and false negatives by pattern, e.g. "actor: a place
  named as an actor" or "event missed: battle".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from extractor.eval.gold import GoldCase
from extractor.eval.names import NameMatcher, normalize_name
from extractor.eval.scoring import CaseScore, _records, score_events, score_sanctions
from extractor.schemas import RECORD_TYPES

#: what a prediction summary keeps of each record type (besides the evidence quote)
SUMMARY_FIELDS = {
    "actors": ("name", "kind", "aliases"),
    "events": ("type", "perpetrators", "targets", "fatalities", "country", "admin1", "location", "date"),
    "sanctions": ("target", "authority", "measure", "status", "amount", "currency"),
}
TOP_PATTERNS = 10
_COLLECTIVE = {"civilians", "soldiers", "fighters", "militants", "people", "residents", "villagers", "troops",
               "protesters", "police", "army", "government", "forces", "gunmen", "attackers"}  # fmt: skip


def summarise_prediction(kind: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a reviewer reads of a predicted record, with its evidence quote."""
    summary = {name: record.get(name) for name in SUMMARY_FIELDS[kind] if record.get(name) not in (None, [], "")}
    evidence = record.get("evidence")
    if isinstance(evidence, Mapping) and evidence.get("quote"):
        summary["quote"] = evidence.get("quote")
    return summary


def _gold_dict(record: Any) -> dict[str, Any]:
    data = record.model_dump(mode="json", exclude_none=True)
    return {k: (v[0] if isinstance(v, list) and len(v) == 1 and k not in ("aliases", "perpetrators", "targets") else v)
            for k, v in data.items() if v not in ([], None)}  # fmt: skip


def case_records(gold: GoldCase, prediction: Mapping[str, Any] | None, score: CaseScore) -> dict[str, Any]:
    """Matched pairs, missed gold records and spurious predictions of one case, per record type."""
    block: dict[str, Any] = {}
    for kind in RECORD_TYPES:
        golds, preds, typed = getattr(gold, kind), _records(prediction, kind), score.types[kind]
        block[kind] = {
            "matched": [
                {"gold_index": gi, "gold": _gold_dict(golds[gi]), "predicted": summarise_prediction(kind, preds[pi]),
                 "fields": typed.pair_fields.get(gi, {})}
                for gi, pi in sorted(typed.matches.items())
            ],  # fmt: skip
            "missed": [{"gold_index": gi, "gold": _gold_dict(g)} for gi, g in enumerate(golds) if gi not in typed.matches],
            "spurious": [
                summarise_prediction(kind, p) for pi, p in enumerate(preds) if pi not in set(typed.matches.values())
            ],
        }
    return block


def _places(gold: GoldCase, prediction: Mapping[str, Any] | None) -> set[str]:
    places = set()
    for event in [*gold.events]:
        for options in (event.country, event.admin1, event.location):
            places.update(normalize_name(o) for o in options or ())
    for event in _records(prediction, "events"):
        places.update(normalize_name(v) for v in (event.get(k) for k in ("country", "admin1", "location")) if isinstance(v, str))
    return places


def false_positive_pattern(kind: str, record: Mapping[str, Any], places: set[str]) -> str:
    """A short, countable description of why a prediction may be spurious."""
    if kind == "actors":
        name = normalize_name(str(record.get("name") or ""))
        if name in places:
            return "actor: a place named as an actor"
        if name in _COLLECTIVE or (name and " " not in name and name.islower() and str(record.get("name", "")).islower()):
            return "actor: a generic noun named as an actor"
        return f"actor: unmatched {record.get('kind') or 'actor'}"
    if kind == "events":
        return f"event: {record.get('type')} with no gold event"
    return f"sanction: {record.get('measure')} with no gold fact"


def false_negative_pattern(kind: str, gold_record: Mapping[str, Any]) -> str:
    """A short, countable description of a missed gold record."""
    if kind == "actors":
        return f"actor missed: {gold_record.get('kind') or 'unknown kind'}"
    if kind == "events":
        return f"event missed: {gold_record.get('type')}"
    return f"sanction missed: {gold_record.get('measure')}"


def _first(options: Any) -> Any:
    return options[0] if isinstance(options, tuple) and options else options


def _confusion(gold: GoldCase, prediction: Mapping[str, Any] | None, matrices: dict[str, Counter]) -> None:
    matcher = NameMatcher(gold.actors)
    events = _records(prediction, "events")
    relaxed = score_events(gold.events, events, matcher, match_type=False)
    for gi, pi in relaxed.matches.items():
        matrices["events"][(_first(gold.events[gi].type), str(events[pi].get("type")))] += 1
    sanctions = _records(prediction, "sanctions")
    relaxed = score_sanctions(gold.sanctions, sanctions, matcher, match_type=False)
    for gi, pi in relaxed.matches.items():
        matrices["sanctions"][(_first(gold.sanctions[gi].measure), str(sanctions[pi].get("measure")))] += 1


def _most_common(counts: Counter) -> list[tuple[str, int]]:
    """The TOP_PATTERNS most frequent patterns, ties broken by name (deterministic)."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_PATTERNS]


def analyse(
    scored: Sequence[tuple[str, GoldCase, Mapping[str, Any] | None, CaseScore, dict[str, Any]]],
) -> dict[str, Any]:
    """The run's error analysis from (case id, gold, prediction, score, `case_records`) per case:
    confusion matrices, field counts, frequent FP/FN patterns."""
    matrices: dict[str, Counter] = {"events": Counter(), "sanctions": Counter()}
    fields: dict[str, dict[str, list[int]]] = {kind: defaultdict(lambda: [0, 0]) for kind in RECORD_TYPES}
    positives: Counter = Counter()
    negatives: Counter = Counter()
    examples: dict[str, dict[str, Any]] = {}
    for case_id, gold, prediction, score, records in scored:
        _confusion(gold, prediction, matrices)
        places = _places(gold, prediction)
        for kind in RECORD_TYPES:
            for name, (correct, total) in score.types[kind].field_counts.items():
                fields[kind][name][0] += correct
                fields[kind][name][1] += total
            for record in records[kind]["spurious"]:
                pattern = false_positive_pattern(kind, record, places)
                positives[pattern] += 1
                examples.setdefault(pattern, {"case": case_id, "record": record})
            for missed in records[kind]["missed"]:
                pattern = false_negative_pattern(kind, missed["gold"])
                negatives[pattern] += 1
                examples.setdefault(pattern, {"case": case_id, "record": missed["gold"]})
    return {
        "confusion": {
            kind: [{"gold": g, "predicted": p, "count": n} for (g, p), n in sorted(matrix.items())]
            for kind, matrix in matrices.items()
        },
        "field_counts": {
            kind: {name: {"correct": c, "total": t} for name, (c, t) in sorted(counts.items())}
            for kind, counts in fields.items()
        },
        "top_false_positives": [
            {"pattern": p, "count": n, "example": examples[p]} for p, n in _most_common(positives)
        ],
        "top_false_negatives": [
            {"pattern": p, "count": n, "example": examples[p]} for p, n in _most_common(negatives)
        ],
    }
