"""Sanctions facts across documents: one fact per target x authority x measure.

The target is the batch actor when the document resolved it to one (so "Hemedti" and
"Mohamed Hamdan Dagalo" are one target once the actors merged), else its normalised name.
Every report is kept with its status; the fact's `status` is the one of the latest published
report (a later article that says "lifted" outranks an earlier "imposed"), and a
disagreement is visible in `statuses`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from extractor.corpus.actors import BatchActor
from extractor.corpus.documents import Document, mention
from extractor.schemas import SanctionFact
from extractor.text.names import normalise


@dataclass
class MergedSanction:
    """One target x authority x measure and every report of it."""

    key: tuple[str, str, str]
    target: str
    reports: list[tuple[Document, SanctionFact]] = field(default_factory=list)
    why: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        """A stable id: a hash of the key."""
        return "S" + hashlib.sha1("\0".join(self.key).encode()).hexdigest()[:10]

    def record(self) -> dict:
        """The merged fact as an output row."""
        facts = [fact for _, fact in self.reports]
        latest = max(self.reports, key=lambda r: (r[0].published or date.min, r[0].line))[1]
        return {
            "record_type": "sanction", "id": self.id, "target": self.target, "authority": facts[0].authority,
            "measure": facts[0].measure.value, "status": latest.status.value,
            "statuses": [{"document": doc.name, "status": fact.status.value} for doc, fact in self.reports],
            "program": next((f.program for f in facts if f.program), None),
            "documents": sorted({doc.name for doc, _ in self.reports}),
            "mentions": [mention(doc, fact.id, fact.evidence, status=fact.status.value) for doc, fact in self.reports],
            "why": self.why,
        }  # fmt: skip


def merge(documents: list[Document], actor_of: dict[tuple[str, str], BatchActor]) -> list[MergedSanction]:
    """The batch's sanctions facts, de-duplicated, in batch order."""
    merged: dict[tuple[str, str, str], MergedSanction] = {}
    for doc in documents:
        for fact in doc.extraction.sanctions:
            actor = actor_of.get((doc.name, fact.target_id)) if fact.target_id else None
            target = actor.id if actor else f"name:{normalise(fact.target)}"
            key = (target, normalise(fact.authority or ""), fact.measure.value)
            if key in merged:
                merged[key].why.append(f"{doc.name} {fact.id}: same target, authority and measure")
            else:
                merged[key] = MergedSanction(key, actor.name if actor else fact.target)
            merged[key].reports.append((doc, fact))
    return list(merged.values())
