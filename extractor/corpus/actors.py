"""Actors across documents: the same entity under different names becomes one batch actor.

Within a document the pipeline already merged mentions (`postprocess.actors`); across
documents the rules are stricter, because a corpus holds many people with one surname and
many armies. A document's actor joins a batch actor when it and one of the actor's earlier mentions
have the same kind and (the reason is recorded):
- the name of one equals the name or an alias of the other (after `text.names.normalise`;
  two aliases alone never link, because a small model's aliases are its least reliable field);
- one name is the other's acronym ("RSF" / "Rapid Support Forces");
- rapidfuzz's ratio of the two names is at least `SPELLING_MIN_RATIO` (spelling variants:
  "al-Shabaab" / "al-Shabab").
A name made only of generic words ("the army", "police", "government") is never merged
across documents: the army of one article is not the army of another.

Batch ids are a hash of the kind and the canonical name, so the same batch gives the same ids.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from extractor.corpus.documents import Document, mention
from extractor.postprocess.actors import GENERIC_WORDS, Entity
from extractor.schemas import Actor
from extractor.text.names import is_acronym_of, normalise, tokens

SPELLING_MIN_RATIO = 92


@dataclass
class BatchActor:
    """One actor of the batch, with every document mention that joined it."""

    entity: Entity
    members: list[Actor] = field(default_factory=list)
    mentions: list[dict] = field(default_factory=list)
    why: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The name its mentions use most often (the first such, on a tie): the fullest name
        would let one bad alias of one document rename the actor for the whole batch."""
        counts = Counter(normalise(m.name) for m in self.members)
        best = max(counts.values())
        return next(m.name for m in self.members if counts[normalise(m.name)] == best)

    @property
    def id(self) -> str:
        """A stable id: a hash of the kind and the name."""
        digest = hashlib.sha1(f"{self.entity.kind}\0{normalise(self.name)}".encode()).hexdigest()
        return f"A{digest[:10]}"

    def record(self) -> dict:
        """The merged actor as an output row."""
        documents = sorted({m["document"] for m in self.mentions})
        name = self.name
        aliases = sorted({n for n in self.entity.names() if normalise(n) != normalise(name)})
        return {
            "record_type": "actor", "id": self.id, "name": name, "kind": self.entity.kind,
            "aliases": aliases, "documents": documents, "mentions": self.mentions,
            "why": self.why,
        }  # fmt: skip


def is_generic(name: str) -> bool:
    """True when every word of the name is a generic one ("the army", "security forces")."""
    words = tokens(name)
    return not words or all(word in GENERIC_WORDS for word in words)


def _pair_reason(a: Actor, b: Actor) -> str | None:
    """Why two document actors of one kind are one entity (names against names and aliases)."""
    if a.kind != b.kind:
        return None
    for one, other in ((a, b), (b, a)):
        known = {normalise(n) for n in [other.name, *other.aliases] if not is_generic(n)}
        if normalise(one.name) in known:
            return f"same name {one.name!r}"
    if is_acronym_of(a.name, b.name) or is_acronym_of(b.name, a.name):
        short, long = sorted((a.name, b.name), key=len)
        return f"{short!r} is the acronym of {long!r}"
    na, nb = normalise(a.name), normalise(b.name)
    ratio = fuzz.ratio(na, nb)
    if ratio >= SPELLING_MIN_RATIO and min(len(na), len(nb)) >= 6:
        return f"spelling {a.name!r} ~ {b.name!r} (ratio {ratio:.0f})"
    return None


def match_reason(batch: BatchActor, actor: Actor) -> str | None:
    """Why `actor` is `batch`'s entity (it matches one of its mentions), or None."""
    for member in batch.members:
        reason = _pair_reason(actor, member)
        if reason:
            return reason
    return None


def resolve(documents: list[Document]) -> tuple[list[BatchActor], dict[tuple[str, str], BatchActor]]:
    """Batch actors in first-seen order, and each (document, actor id) -> its batch actor."""
    batch: list[BatchActor] = []
    of: dict[tuple[str, str], BatchActor] = {}
    for doc in documents:
        for actor in doc.extraction.actors:
            joined = None
            if not is_generic(actor.name):
                for candidate in batch:
                    reason = match_reason(candidate, actor)
                    if reason and doc.name not in {m["document"] for m in candidate.mentions}:
                        joined = candidate
                        candidate.why.append(f"{doc.name} {actor.id} {actor.name!r}: {reason}")
                        break
            if joined is None:
                joined = BatchActor(Entity(name=actor.name, kind=actor.kind.value))
                batch.append(joined)
            joined.entity.absorb(actor.name, actor.aliases)
            joined.members.append(actor)
            joined.mentions.append(mention(doc, actor.id, actor.evidence, name=actor.name))
            of[(doc.name, actor.id)] = joined
    return batch, of
