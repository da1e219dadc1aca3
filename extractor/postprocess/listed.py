"""Names one record lists side by side are different actors.

A small model asked for actors sometimes folds several entities into one, writing the others
as its aliases (a designated company with the people and firms designated beside it). Alias
resolution then rewrites every one of those names to the same actor, so the five targets of
a sanctions listing collapse into one fact and four actors vanish. The records themselves say
otherwise: a sanctions record that lists five targets, or an event with two perpetrators,
states that these are different parties. So when two names of one list (a sanctions record's
targets, an event's perpetrators, an event's targets) resolve to the same actor, every name of
them that reached that actor only through an alias is split off as an actor of its own,
taking along the aliases that are forms of its own name. A name that is a form of another
name of the same list ("HTS" beside "Hayat Tahrir al-Sham") is the same party and stays, and
a collective noun ("civilians") never becomes an actor.
"""

from __future__ import annotations

from extractor.postprocess.actors import Entity, find_entity, names_match
from extractor.postprocess.participants import COLLECTIVE, guess_kind
from extractor.schemas import Actor, Evidence
from extractor.text.entities import labels_by_name
from extractor.text.grounding import locate
from extractor.text.names import normalise, same_spelling


def _lists(event_drafts: list, sanction_drafts: list) -> list[tuple[list[str], str]]:
    """Every list of names one record gives, with the role its names play."""
    lists: list[tuple[list[str], str]] = []
    for draft, _ in event_drafts:
        lists += [(list(draft.perpetrators), "perpetrator"), (list(draft.targets), "target")]
    for draft, _ in sanction_drafts:
        lists.append((list(dict.fromkeys(t for t, _ in draft.expand())), "sanction_target"))
    return [(names, role) for names, role in lists if len(names) >= 2]


def _through_alias(entity: Entity, name: str) -> bool:
    """True when `name` reaches `entity` by one of its aliases, not by its canonical name."""
    return not names_match(name, entity.name)


def _kind(name: str, role: str, labels: dict | None, fallback: str) -> str:
    if labels and labels.get(normalise(name)) == frozenset({"PERSON"}):
        return "person"
    return guess_kind(name, role) or fallback


def split_listed(text: str, event_drafts: list, sanction_drafts: list, entities: list[Entity], actors: list[Actor]) -> list[str]:
    """Split off the names that one record lists beside another name of the same actor (in
    `entities` and `actors` alike, which stay aligned); a note naming them."""
    labels = labels_by_name(text)
    split: list[str] = []
    for names, role in _lists(event_drafts, sanction_drafts):
        by_entity: dict[int, list[str]] = {}
        for name in names:
            index = find_entity(entities, name)
            if index is not None:
                by_entity.setdefault(index, []).append(name)
        for index, together in by_entity.items():
            # forms of one another ("HTS", "Hayat Tahrir al-Sham") are one party
            distinct = [n for n in together if not any(names_match(n, m) for m in together if m is not n)]
            if len(distinct) < 2:
                continue
            for name in distinct:
                if not _through_alias(entities[index], name) or COLLECTIVE.match(normalise(name)):
                    continue  # its own actor already, or a collective noun ("civilians")
                evidence = locate(name, text, whole_word=True)
                if evidence is not None and same_spelling(evidence.quote, name):
                    _split_off(index, name, evidence, _kind(name, role, labels, entities[index].kind), entities, actors)
                    split.append(evidence.quote)
    return [f"split {len(split)} actor(s) that a record lists beside another name of the same actor: {', '.join(split)}"] if split else []


def _split_off(index: int, name: str, evidence: Evidence, kind: str, entities: list[Entity], actors: list[Actor]) -> None:
    """A new actor for `name`, taking from actor `index` the aliases that are forms of it."""
    entity, actor = entities[index], actors[index]
    moved = [a for a in entity.aliases if names_match(a, name)]
    entity.aliases = [a for a in entity.aliases if a not in moved]
    gone = {normalise(a) for a in [name, *moved]}
    actor.aliases = [a for a in actor.aliases if normalise(a) not in gone]
    own = [a for a in moved if normalise(a) != normalise(evidence.quote)]
    entities.append(Entity(name=evidence.quote, kind=kind, aliases=own, members=[-1]))
    actors.append(Actor(id=f"a{len(actors) + 1}", name=evidence.quote, aliases=own, kind=kind, evidence=evidence, grounded=True))
