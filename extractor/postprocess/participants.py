"""Participants of events and sanctions that the actors pass missed.

A perpetrator, target, sanctions target or authority named in a record is added as an actor
when its name (nearly) occurs in the text as a whole word and it is not a collective noun
("civilians", "gunmen"); its kind is guessed from its words and its role.
"""

from __future__ import annotations

import re

from extractor.postprocess.actors import Entity, find_entity
from extractor.schemas import Actor
from extractor.text.grounding import locate
from extractor.text.names import normalise, same_spelling

COLLECTIVE = re.compile(
    r"^(?:\w+\s+)?(civilians?|villagers?|residents?|people|persons|protesters?|demonstrators?|rioters?|"
    r"worshippers?|students?|passengers?|migrants?|refugees?|displaced( people| persons)?|farmers?|miners?|"
    r"women|children|bystanders?|families|patients?|workers?|traders?|motorists?|gunmen|assailants?|"
    r"attackers?|unknown|unidentified( gunmen| attackers)?|fighters?|militants?|jihadists?)$"
)
_KIND_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("international_organization", re.compile(
        r"\b(united nations|un|security council|european union|eu|african union|nato|ecowas|interpol|"
        r"world bank|imf|international monetary fund|unicef|unhcr|icc|sanctions committee|1267)\b")),
    ("state_forces", re.compile(
        r"\b(army|armed forces|military|soldiers|troops|police|gendarmerie|security forces|national guard|"
        r"navy|air force|junta|defen[cs]e forces|marines|border guards?)\b")),
    ("government", re.compile(
        r"\b(government|ministry|department|treasury|ofac|office of foreign assets control|state department|"
        r"administration|commission|parliament|kingdom|republic|united states|us|usa|uk|council|"
        r"foreign office|fcdo|ofsi)\b")),
    ("company", re.compile(r"\b(sarl|ltd|llc|inc|gmbh|plc|company|corp|corporation|trading|holdings?|group sa|sa)\b")),
    ("media", re.compile(r"\b(reuters|afp|ap|associated press|agence france presse|bbc|al jazeera|news agency)\b")),
]


def guess_kind(name: str, role: str) -> str | None:
    """A kind for a participant name, or None when it is a collective noun, not an actor.

    `role` is perpetrator, target, sanction_target or authority.
    """
    norm = normalise(name)
    if not norm or COLLECTIVE.match(norm):
        return None
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(norm):
            return kind
    words = name.split()
    if role in ("sanction_target", "target") and 2 <= len(words) <= 4 and all(w[:1].isupper() for w in words):
        return "person" if role == "sanction_target" else None
    if role == "authority":
        return "government"
    if role == "perpetrator":
        return "armed_group"
    return None


def add_participants(text: str, event_drafts: list, sanction_drafts: list, entities: list[Entity], actors: list[Actor]) -> None:
    """Named participants of events and sanctions that the actors pass missed become
    actors too, when their name is in the text and is not a collective noun ("civilians")."""
    roles: list[tuple[str, str]] = []
    for draft, _ in event_drafts:
        roles += [(n, "perpetrator") for n in draft.perpetrators] + [(n, "target") for n in draft.targets]
    for draft, _ in sanction_drafts:
        roles += [(target, "sanction_target") for target in dict.fromkeys(t for t, _ in draft.expand())]
        if draft.authority:
            roles.append((draft.authority, "authority"))
    for name, role in roles:
        if find_entity(entities, name) is not None:
            continue
        kind = guess_kind(name, role)
        evidence = locate(name, text, whole_word=True) if kind else None
        if evidence is None or not same_spelling(evidence.quote, name):
            continue
        entities.append(Entity(name=evidence.quote, kind=kind, members=[-1]))
        actors.append(Actor(id=f"a{len(actors) + 1}", name=evidence.quote, kind=kind, evidence=evidence, grounded=True))
