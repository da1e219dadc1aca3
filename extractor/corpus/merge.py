"""One batch's extractions -> its actors, incidents and sanctions facts across documents.

Actors are resolved first (`corpus.actors`), because events and sanctions are matched on the
batch actors their participants resolved to (`corpus.events`, `corpus.sanctions`). The
result is rows, one per merged record, each with its mentions (document, line, record id,
evidence) and the reasons it was merged: a data team can audit every merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from extractor.corpus import actors as actor_merge
from extractor.corpus import events as event_merge
from extractor.corpus import sanctions as sanction_merge
from extractor.corpus.documents import document
from extractor.schemas import Extraction


@dataclass
class MergeResult:
    """The merged records of a batch, and how many document records went into them."""

    actors: list[dict]
    events: list[dict]
    sanctions: list[dict]
    documents: int
    inputs: dict[str, int]

    def rows(self) -> Iterator[dict]:
        """Every merged record: actors, then events, then sanctions."""
        yield from self.actors
        yield from self.events
        yield from self.sanctions

    def summary(self) -> str:
        """One line: documents, and records in -> out per type."""
        parts = [f"{kind} {self.inputs[kind]} -> {len(getattr(self, kind))}" for kind in ("actors", "events", "sanctions")]
        return f"{self.documents} document(s): " + ", ".join(parts)


def merge_extractions(extractions: Iterable[tuple[int, Extraction]]) -> MergeResult:
    """Merge (line, extraction) pairs of one batch; deterministic for the same input order."""
    documents = [document(extraction, line) for line, extraction in extractions]
    batch_actors, actor_of = actor_merge.resolve(documents)
    incidents = event_merge.merge(documents, actor_of)
    facts = sanction_merge.merge(documents, actor_of)
    inputs = {kind: sum(len(getattr(d.extraction, kind)) for d in documents) for kind in ("actors", "events", "sanctions")}
    return MergeResult(
        actors=[a.record() for a in batch_actors],
        events=[e.record() for e in incidents],
        sanctions=[s.record() for s in facts],
        documents=len(documents),
        inputs=inputs,
    )
