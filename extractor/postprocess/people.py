"""People: the persons a story names are actors; the journalists who wrote it are not.

Named people are the actors a small model misses most: asked to list every actor it keeps the
groups and the states and drops the spokesman, the witness, the commander named once, the
judge. A name tagger finds people's names almost without fail, and a person's name, unlike
an organisation's, needs no judgement of kind. So:

- every name the tagger tags as a person, and as nothing else anywhere in the text, with at
  least two words (a surname alone is a mention, not a new person), that is not on a credit
  line and that no actor already covers (the same name, a part of an actor's name, or the same
  person by surname) becomes a `person` actor, its evidence the first mention outside the
  credit lines;
- an actor whose every mention is on a byline, dateline or credit line (`text.credits`) is
  dropped.

Without the tagger, or on a text it does not judge English, no person is added; the credit
lines are found by their shape in any text.
"""

from __future__ import annotations

from typing import Any

from extractor.postprocess.actors import Entity, entity_matches
from extractor.schemas import Actor, Evidence
from extractor.text.credits import credit_spans, credited_only, inside, mentions
from extractor.text.entities import labels_by_name, tagged
from extractor.text.names import normalise, tokens

#: a tagged person needs at least this many words (without articles) to become an actor
MIN_PERSON_WORDS = 2


def not_credited(drafts: list[tuple[Any, Any]], text: str) -> tuple[list[tuple[Any, Any]], list[str]]:
    """The actor drafts (with their evidence) without those named only on credit lines, and a
    note naming the dropped ones."""
    spans = credit_spans(text)
    if not spans:
        return drafts, []
    kept, dropped = [], []
    for draft, evidence in drafts:
        if credited_only([draft.name, *draft.aliases], text, spans):
            dropped.append(draft.name)
        else:
            kept.append((draft, evidence))
    return kept, ([f"dropped {len(dropped)} actor(s) named only on a byline, dateline or credit line: {', '.join(dropped)}"] if dropped else [])


def _covered(name: str, entities: list[Entity]) -> bool:
    words = set(tokens(name))
    return any(
        entity_matches(entity, name, [], "person") or any(words <= set(tokens(known)) for known in entity.names())
        for entity in entities
    )


def _people(text: str) -> list[str]:
    """The tagger's person names of `text` (distinct, first-mention order), or [] without it."""
    labels = labels_by_name(text)
    if not labels:
        return []
    names: dict[str, str] = {}
    for name, label in tagged(text) or ():
        key = normalise(name)
        if label == "PERSON" and labels[key] == {"PERSON"} and len(tokens(name)) >= MIN_PERSON_WORDS:
            names.setdefault(key, name)
    return list(names.values())


def add_people(text: str, entities: list[Entity], actors: list[Actor]) -> list[str]:
    """Append the tagged people no actor covers (to `entities` and `actors` alike, in text
    order); a note naming them."""
    spans = credit_spans(text)
    known = list(entities)
    added: list[Evidence] = []
    # Longer names first, so that "Guillaume Ndjike Kaiko" covers a later "Ndjike Kaiko".
    for name in sorted(_people(text), key=lambda n: -len(tokens(n))):
        outside = [m for m in mentions(name, text) if not inside(m, spans)]
        if not outside or _covered(name, known):
            continue
        start, end = outside[0]
        added.append(Evidence(quote=text[start:end], start=start, end=end))
        known.append(Entity(name=added[-1].quote, kind="person"))
    added.sort(key=lambda evidence: evidence.start)
    for evidence in added:
        entities.append(Entity(name=evidence.quote, kind="person", members=[-1]))
        actors.append(Actor(id=f"a{len(actors) + 1}", name=evidence.quote, kind="person", evidence=evidence, grounded=True))
    return [f"added {len(added)} person(s) the name tagger finds: {', '.join(e.quote for e in added)}"] if added else []
