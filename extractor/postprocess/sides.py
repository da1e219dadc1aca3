"""Who did it: an event's sides checked against its own sentence and the article's sanctions.

ACLED's perpetrator (actor 1) is the side that attacks. A small model reads the subject of
the sentence as the perpetrator, and a wire report often leads with the defender: "the army
said it had repelled an attack by X" becomes an attack by the army on X. And a sanctions
release retells why its targets were listed, which a small model turns into an incident with
the listed persons or companies as its perpetrators, although ACLED's actors are groups and
the release states no new incident. So:

- when the cited sentence says, in the active voice, that a perpetrator repelled (repulsed,
  fought off, thwarted, foiled) something, and names none of the targets before that verb,
  perpetrators and targets are swapped: the defender is the target (English words; assembly
  skips this rule on a text that `text.language` does not judge English);
- an event whose every perpetrator is a person or company that a sanctions fact of the same
  document targets is dropped (any language: it reads records, not words).

Each change is counted in the document's warnings.
"""

from __future__ import annotations

import re

from extractor.schemas import Actor, Event, SanctionFact
from extractor.text.names import normalise

_DEFENCE = re.compile(
    r"\b(?:repel(?:s|led|ling)?|repuls(?:e|es|ed|ing)|(?:fought|fights?|fighting|fend(?:s|ed|ing)?) off|"
    r"beat(?:s|ing)? back|thwart(?:s|ed|ing)?|foil(?:s|ed|ing)?)\b",
    re.IGNORECASE,
)
_PASSIVE = re.compile(r"\b(?:be|been|being|is|are|was|were)\s+$", re.IGNORECASE)
_LISTED_KINDS = {"person", "company"}


def _mentioned(before: str, names: list[str], aliases: dict[str, list[str]]) -> bool:
    """True when one of `names` (or an alias of its actor) occurs in `before`."""
    text = f" {normalise(before)} "
    forms = {normalise(form) for name in names for form in (name, *aliases.get(normalise(name), []))}
    return any(f" {form} " in text for form in forms if form)


def _defender_is_perpetrator(event: Event, aliases: dict[str, list[str]]) -> bool:
    if event.evidence is None or not event.perpetrators or not event.targets:
        return False
    quote = event.evidence.quote
    for verb in _DEFENCE.finditer(quote):
        before = quote[: verb.start()]
        if _PASSIVE.search(before):
            continue
        return _mentioned(before, event.perpetrators, aliases) and not _mentioned(before, event.targets, aliases)
    return False


def attackers_first(events: list[Event], actors: list[Actor]) -> tuple[list[Event], list[str]]:
    """Events whose sentence says the perpetrator repelled the attack, with their sides swapped."""
    aliases = {normalise(actor.name): actor.aliases for actor in actors}
    out, swapped = [], 0
    for event in events:
        if _defender_is_perpetrator(event, aliases):
            event = event.model_copy(update={
                "perpetrators": event.targets, "targets": event.perpetrators,
                "perpetrator_ids": event.target_ids, "target_ids": event.perpetrator_ids,
            })  # fmt: skip
            swapped += 1
        out.append(event)
    return out, [f"swapped the sides of {swapped} event(s) whose sentence says the perpetrator repelled it"] if swapped else []


def not_by_the_listed(events: list[Event], actors: list[Actor], sanctions: list[SanctionFact]) -> tuple[list[Event], list[str]]:
    """The events not perpetrated only by persons or companies the article sanctions, renumbered."""
    kinds = {actor.id: actor.kind for actor in actors}
    listed = {fact.target_id for fact in sanctions if fact.target_id and kinds.get(fact.target_id) in _LISTED_KINDS}

    def by_the_listed(event: Event) -> bool:
        ids = event.perpetrator_ids
        return bool(ids) and len(ids) == len(event.perpetrators) and all(i in listed for i in ids)

    kept = [event for event in events if not by_the_listed(event)]
    for number, event in enumerate(kept, start=1):
        event.id = f"e{number}"
    dropped = len(events) - len(kept)
    return kept, [f"dropped {dropped} event(s) whose only perpetrators are persons or companies the article sanctions"] if dropped else []
