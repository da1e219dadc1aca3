"""Scoring a cross-document merge against gold incident clusters (pairwise precision/recall).

Gold (`clusters.json`) names, for each incident, the documents that report it; every
document reports one new incident. Over every pair of gold documents, a pair is *predicted
together* when one merged event lists both documents, and *gold together* when one incident
lists both. Precision, recall and F1 are over those pairs, so a merge that glues a near miss
(same village, another day) onto an incident loses precision, and a report left on its own
loses recall. A document is matched to gold by its id: the part of its name after the last
"#" (JSONL inputs, FILE#ID) or its file name without extension.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

from extractor.eval.scoring import precision_recall_f1


def load_clusters(path: Path) -> dict[str, list[str]]:
    """incident -> documents, from a clusters.json; ValueError names the problem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        incidents = data["incidents"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a clusters file ({exc})") from exc
    seen: dict[str, str] = {}
    for incident, documents in incidents.items():
        if not isinstance(documents, list) or not all(isinstance(d, str) for d in documents):
            raise ValueError(f"{path}: incident {incident!r} must list document ids")
        for doc in documents:
            if doc in seen:
                raise ValueError(f"{path}: document {doc!r} is in {seen[doc]!r} and {incident!r}")
            seen[doc] = incident
    return incidents


def document_id(name: str) -> str:
    """The gold id of a merged record's document name."""
    if "#" in name:
        return name.rsplit("#", 1)[1]
    return Path(name).stem if Path(name).stem != "article" else Path(name).parent.name


def score_merge(events: list[dict[str, Any]], incidents: dict[str, list[str]]) -> dict[str, Any]:
    """Pairwise precision/recall/F1 of merged event rows against gold incident clusters."""
    incident_of = {doc: incident for incident, docs in incidents.items() for doc in docs}
    together: set[tuple[str, str]] = set()
    for row in events:
        ids = sorted({document_id(d) for d in row.get("documents", [])} & incident_of.keys())
        together |= set(combinations(ids, 2))
    tp = fp = fn = 0
    wrong: list[dict[str, Any]] = []
    for a, b in combinations(sorted(incident_of), 2):
        gold, predicted = incident_of[a] == incident_of[b], (a, b) in together
        tp += gold and predicted
        fp += predicted and not gold
        fn += gold and not predicted
        if gold != predicted:
            wrong.append({"documents": [a, b], "gold_together": gold, "merged": predicted})
    precision, recall, f1 = precision_recall_f1(tp, fp, fn)
    return {"pairs": {"tp": tp, "fp": fp, "fn": fn}, "precision": precision, "recall": recall, "f1": f1, "wrong_pairs": wrong}
