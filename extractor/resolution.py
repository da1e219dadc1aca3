"""Actor resolution: merge the same entity seen under different names, rewrite references.

Two actor mentions are merged when (after normalisation: case, accents, punctuation,
leading "the", "al-" article) their names or aliases are equal, when one is the acronym
of the other ("HTS" / "Hayat Tahrir al-Sham"), or, for the same kind, when one name's
words are all in the other's and the short one is specific enough (a person's surname,
"Jawlani" / "Abu Muhammad al-Jawlani"; or two or more words). The fullest name becomes
canonical and the others aliases.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

_PUNCT = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")
_ARTICLES = {"the", "al", "el", "ad", "as", "an", "ar", "at", "az"}
_GENERIC = {
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


@lru_cache(maxsize=4096)
def normalise(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _PUNCT.sub(" ", text.replace("'", "").replace("\u2019", ""))
    text = _SPACE.sub(" ", text).strip()
    if text.startswith("the "):
        text = text[4:]
    return text


def tokens(name: str) -> list[str]:
    return [t for t in normalise(name).split() if t not in _ARTICLES]


def acronym(name: str) -> str:
    """Initials of the capitalised words: 'Hayat Tahrir al-Sham' -> 'hts'."""
    words = re.split(r"[\s\-]+", unicodedata.normalize("NFKD", name))
    initials = [w[0] for w in words if w and w[0].isupper()]
    return "".join(initials).casefold() if len(initials) >= 2 else ""


def _is_acronym_of(short: str, long: str) -> bool:
    compact = normalise(short).replace(" ", "")
    return 2 <= len(compact) <= 8 and " " not in short.strip() and compact == acronym(long)


@dataclass
class Entity:
    name: str
    kind: str
    aliases: list[str] = field(default_factory=list)
    members: list[int] = field(default_factory=list)  # indexes of merged input mentions

    def names(self) -> list[str]:
        return [self.name, *self.aliases]

    def absorb(self, name: str, aliases: Iterable[str]) -> None:
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
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return False
    if na == nb or _is_acronym_of(a, b) or _is_acronym_of(b, a):
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
    specific = [t for t in short if t not in _GENERIC]
    return len(short) >= 2 and bool(specific)


def entity_matches(entity: Entity, name: str, aliases: Iterable[str], kind: str | None) -> bool:
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


def find_entity(entities: list[Entity], name: str) -> int | None:
    """Index of the entity a free-text participant name refers to, if any."""
    for number, entity in enumerate(entities):
        if entity_matches(entity, name, [], None):
            return number
    return None


# --- participants that the actors pass missed ------------------------------------------------
_COLLECTIVE = re.compile(
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
    if not norm or _COLLECTIVE.match(norm):
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


# Sanctions authorities: the jurisdiction behind the office the article names. Acronyms are
# matched case-sensitively ("US", not "us"); a "-led" body (a coalition) is not its leader.
_AUTHORITIES: list[tuple[str, re.Pattern[str], re.Pattern[str]]] = [
    (
        "United Nations",
        re.compile(r"(?<!\w)(?:UN|U\.N\.|UNSC)(?!\w)"),
        re.compile(r"\bunited nations\b|\bsecurity council\b|\bsanctions committee\b", re.IGNORECASE),
    ),
    (
        "European Union",
        re.compile(r"(?<!\w)(?:EU|E\.U\.)(?!\w)"),
        re.compile(r"\beuropean union\b|\bcouncil of the (?:eu|european union)\b|\beuropean council\b", re.IGNORECASE),
    ),
    (
        "United Kingdom",
        re.compile(r"(?<!\w)(?:UK|U\.K\.|OFSI|FCDO|HMT)(?!\w)"),
        re.compile(r"\bunited kingdom\b|\bbritain\b|\bbritish\b|\bhm treasury\b|\bforeign office\b", re.IGNORECASE),
    ),
    (
        "United States",
        re.compile(r"(?<!\w)(?:US|U\.S\.|USA|U\.S\.A\.|OFAC)(?!\w)"),
        re.compile(
            r"\bunited states\b|\bstate department\b|\bdepartment of state\b|\btreasury department\b|"
            r"\bdepartment of the treasury\b|\bwashington\b|\brewards for justice\b",
            re.IGNORECASE,
        ),
    ),
]


def canonical_authority(name: str | None) -> str | None:
    """The jurisdiction of a sanctions authority as the article names it ("U.S. Treasury's
    Office of Foreign Assets Control" -> "United States"), or None when it is not one of the
    four major sanctioning jurisdictions or names more than one."""
    if not name or re.search(r"-led\b", name, re.IGNORECASE):
        return None
    found = [canon for canon, acronyms, words in _AUTHORITIES if acronyms.search(name) or words.search(name)]
    return found[0] if len(found) == 1 else None
