"""Consistency between a record and its own evidence, applied after assembly.

The quote of a record is "the one sentence that states it". A small model often attaches a
sentence that does not: the lede of a sanctions story typed as an attack, a photo credit
typed as a protest. These rules read only the record and its quote (never gold data), and
what they change is counted in the document's warnings:

- an event of a violent type (battle, explosion_remote_violence, violence_against_civilians)
  whose quote has no word of violence is dropped, and so is a protest or riot whose quote
  has no word of protest or crowd;
- a sanctions fact whose quote also states an asset freeze or a travel ban gets that
  measure as a record of its own (same target, authority, status and evidence), as the
  prompt asks and the model often omits;
- a sanctions fact whose measure has a vocabulary of its own that the whole article never
  uses is dropped: a terrorist designation in an article without the word terror(ism, -ist),
  a reward without reward or bounty, an arms embargo without embargo (a small model adds
  these measures to every target of an export-control or human-rights listing). This one
  also reads French, Spanish, Portuguese, German and Russian, so it runs on every text.

The word lists are short and deliberately broad (a stem list, not a classifier): they only
catch records whose evidence says nothing of their type.
"""

from __future__ import annotations

import re

from extractor.schemas import Event, SanctionFact

_VIOLENT_TYPES = {"battle", "explosion_remote_violence", "violence_against_civilians"}
_CROWD_TYPES = {"protest", "riot"}

_VIOLENCE = re.compile(
    r"\b(?:kill|dead|death|died|die|wound|injur|attack|assault|ambush|clash|fight|battl|strike|struck|"
    r"airstrike|air strike|drone|shell|bomb|explo|blast|fire|firing|gunmen|gunfire|gunm|shot|shoot|"
    r"massacre|abduct|kidnap|raid|burn|torch|set fire|loot|behead|execut|murder|casualt|toll|offensive|"
    r"siege|mortar|rocket|missile|artillery|ied|landmine|mine|violen|hostage|captur|seiz|overr|storm|"
    r"stab|beat|lynch|rape|destroy|hurl|stone|tear gas|teargas|rubber bullet|live ammunition)",
    re.IGNORECASE,
)
_CROWD = re.compile(
    r"\b(?:protest|demonstrat|march|rall(?:y|ies|ied)|sit-in|riot|mob|crowd|gather|chant|strike|"
    r"walkout|walk-out|boycott|picket|rioter|unrest|youths|residents|supporters)",
    re.IGNORECASE,
)

_STATED_MEASURES = {
    "asset_freeze": re.compile(
        r"asset[s]? freeze|(?:freez|froz)\w*\s+(?:\w+\s+){0,3}assets|assets\s+(?:\w+\s+){0,4}(?:frozen|freeze)|"
        r"block\w*\s+(?:\w+\s+){0,3}(?:property|assets)",
        re.IGNORECASE,
    ),
    "travel_ban": re.compile(
        r"travel ban|travel restrictions|banned from (?:entering|travel)|entry ban|barred from entering",
        re.IGNORECASE,
    ),
}
#: measures that an article cannot impose without naming them; the words of English and of
#: the five other languages `text.candidates` reads (terror- and embargo are shared stems)
_NAMED_MEASURES = {
    "terrorist_designation": re.compile(r"\bterror|\bSDGT\b|\bFTO\b|\bтеррор", re.IGNORECASE),
    "reward": re.compile(r"\breward|\bbount(?:y|ies)\b|\br[ée]compens|\brecompensa|\bbelohnung|\bвознагражд", re.IGNORECASE),
    "arms_embargo": re.compile(r"\bembargo|\bэмбарго", re.IGNORECASE),
}
_EXPANDABLE = {"terrorist_designation", "sanctions_listing", "asset_freeze", "travel_ban", "other"}


def _unsupported(event: Event) -> bool:
    if event.evidence is None:  # a flagged, ungrounded record: nothing to check it against
        return False
    if event.type in _VIOLENT_TYPES:
        return not _VIOLENCE.search(event.evidence.quote)
    if event.type in _CROWD_TYPES:
        return not _CROWD.search(event.evidence.quote)
    return False


def check_events(events: list[Event]) -> tuple[list[Event], list[str]]:
    """The events whose quote supports their type, renumbered; and a warning for the rest.
    (Events that only share a type, toll, date and perpetrators are not merged: a model that
    copies fields makes distinct incidents look alike.)"""
    kept = [event for event in events if not _unsupported(event)]
    for number, event in enumerate(kept, start=1):
        event.id = f"e{number}"
    dropped = len(events) - len(kept)
    return kept, [f"dropped {dropped} event(s) whose quote says nothing of their type"] if dropped else []


def complete_measures(facts: list[SanctionFact]) -> tuple[list[SanctionFact], int]:
    """Add the asset freezes and travel bans that a fact's own quote states; return the facts
    and how many were added."""
    present = {(fact.target, fact.measure) for fact in facts}
    out: list[SanctionFact] = []
    added = 0
    for fact in facts:
        out.append(fact)
        if fact.evidence is None or fact.measure not in _EXPANDABLE:
            continue
        for measure, stated in _STATED_MEASURES.items():
            if (fact.target, measure) in present or not stated.search(fact.evidence.quote):
                continue
            present.add((fact.target, measure))
            out.append(fact.model_copy(update={"measure": measure, "amount": None, "currency": None}, deep=True))
            added += 1
    for number, fact in enumerate(out, start=1):
        fact.id = f"s{number}"
    return out, added


def named_measures_only(facts: list[SanctionFact], text: str) -> tuple[list[SanctionFact], list[str]]:
    """The facts whose measure the article names when the measure has a vocabulary of its own,
    renumbered; and a warning for the rest."""
    named = {measure for measure, words in _NAMED_MEASURES.items() if words.search(text)}
    kept = [fact for fact in facts if fact.measure not in _NAMED_MEASURES or fact.measure in named]
    for number, fact in enumerate(kept, start=1):
        fact.id = f"s{number}"
    dropped = len(facts) - len(kept)
    return kept, [f"dropped {dropped} sanctions fact(s) whose measure the article never names"] if dropped else []
