"""Actor resolution: merge the same entity seen under different names, rewrite references.

Two actor mentions are merged when (after `text.names.normalise`: case, accents, punctuation,
leading "the", "al-" article) their names or aliases are equal, when one is the acronym
of the other ("HTS" / "Hayat Tahrir al-Sham"), or, for the same kind, when one name's
words are all in the other's and the short one is specific enough (a person's surname,
"Jawlani" / "Abu Muhammad al-Jawlani"; or two or more words). The fullest name becomes
canonical and the others aliases; in the output (`as_written`), only the names the article
itself writes, the one sharing most words with the canonical name first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from extractor.text.grounding import locate
from extractor.text.names import is_acronym_of, normalise, tokens

#: words too generic to make a short name specific ("the army" is not "the Sudanese army")
GENERIC_WORDS = {
    "state",
    "government",
    "forces",
    "army",
    "police",
    "group",
    "people",
    "soldiers",
    "civilians",
    "fighters",
    "militants",
    "officials",
    "ministry",
    "council",
    "united",
    "national",
}


_BRACKETED = re.compile(r"(.*\S)\s*\(([^()]+)\)")


@dataclass
class Entity:
    """One resolved actor: canonical name, kind, aliases and the mentions merged into it."""

    name: str
    kind: str
    aliases: list[str] = field(default_factory=list)
    members: list[int] = field(default_factory=list)  # indexes of merged input mentions

    def names(self) -> list[str]:
        """The canonical name followed by the aliases."""
        return [self.name, *self.aliases]

    def absorb(self, name: str, aliases: Iterable[str]) -> None:
        """Add a mention's name and aliases; the fullest name becomes canonical."""
        for candidate in [name, *aliases]:
            if not candidate or any(normalise(candidate) == normalise(n) for n in self.names()):
                continue
            if _fullness(candidate) > _fullness(self.name):
                self.aliases.append(self.name)
                self.name = candidate
            else:
                self.aliases.append(candidate)


def _fullness(name: str) -> int:
    return len(normalise(name).replace(" ", ""))


def names_match(a: str, b: str, *, same_kind: bool = True, person: bool = False) -> bool:
    """True when two names refer to one actor (equal, acronym, or a specific subset)."""
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return False
    if na == nb or is_acronym_of(a, b) or is_acronym_of(b, a):
        return True
    if not same_kind:
        return False
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return False
    short, long = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    if not set(short) <= set(long):
        return False
    if person:
        return short[-1] == long[-1]  # surname (or the same full name)
    specific = [t for t in short if t not in GENERIC_WORDS]
    return len(short) >= 2 and bool(specific)


def entity_matches(entity: Entity, name: str, aliases: Iterable[str], kind: str | None) -> bool:
    """True when a mention (name, aliases, kind) belongs to `entity`."""
    same_kind = kind is None or kind == entity.kind
    person = same_kind and entity.kind == "person"
    return any(
        names_match(x, y, same_kind=same_kind, person=person) for x in [name, *aliases] for y in entity.names()
    )


def resolve_actors(mentions: list[tuple[str, str, list[str]]]) -> tuple[list[Entity], list[int]]:
    """Cluster (name, kind, aliases) mentions into entities.

    Returns the entities and, for each mention, the index of the entity it joined.
    Longer names are placed first so that short forms join the full name.
    """
    order = sorted(range(len(mentions)), key=lambda i: (-len(tokens(mentions[i][0])), i))
    entities: list[Entity] = []
    assignment = [0] * len(mentions)
    for index in order:
        name, kind, aliases = mentions[index]
        for number, entity in enumerate(entities):
            if entity_matches(entity, name, aliases, kind):
                entity.absorb(name, aliases)
                entity.members.append(index)
                assignment[index] = number
                break
        else:
            entity = Entity(name=name, kind=kind)
            entity.absorb(name, aliases)
            entity.members.append(index)
            entities.append(entity)
            assignment[index] = len(entities) - 1
    # Keep first-mention order for a readable output.
    first_seen = sorted(range(len(entities)), key=lambda e: min(entities[e].members))
    remap = {old: new for new, old in enumerate(first_seen)}
    return [entities[e] for e in first_seen], [remap[a] for a in assignment]


def as_written(entity: Entity, text: str) -> list[str]:
    """The names of `entity` that the article writes (as whole words, up to case, accents and
    punctuation), each once and in the article's spelling; first the one sharing the most
    words with the entity's canonical name (ties: the fullest); [] when the article writes none.

    The model sometimes builds an actor's fullest name from pieces of several ("X al-Iraqi
    al-Syria"), or lists aliases the article never uses; the fullest name would then become
    canonical and every record naming that actor would carry a name the article does not
    contain. The names an analyst can find in the article are the ones to report; an alias
    the article writes only in lower case is a description and is left out.
    """
    found: dict[str, str] = {}
    for name in (part for written in entity.names() for part in _bracketed(written)):
        evidence = locate(name, text, whole_word=True)
        if evidence is not None and normalise(evidence.quote) == normalise(name):
            found.setdefault(normalise(name), evidence.quote)
    words = set(tokens(_bracketed(entity.name)[0]))
    ranked = sorted(found.values(), key=lambda n: (len(words & set(tokens(n))), _fullness(n)), reverse=True)
    # a form the article writes all in lower case ("the trucking firm") describes, it does not name
    return ranked[:1] + [n for n in ranked[1:] if not _lower_case(n)]


def _lower_case(name: str) -> bool:
    return any(ch.islower() for ch in name) and not any(ch.isupper() for ch in name)


def _bracketed(name: str) -> list[str]:
    """A name written with its short form in brackets is two names: "Malian Armed Forces
    (FAMa)" is "Malian Armed Forces" and "FAMa"."""
    match = _BRACKETED.fullmatch(name.strip())
    return [match.group(1), match.group(2)] if match else [name]


def find_entity(entities: list[Entity], name: str) -> int | None:
    """Index of the entity a free-text participant name refers to, if any."""
    for number, entity in enumerate(entities):
        if entity_matches(entity, name, [], None):
            return number
    return None
