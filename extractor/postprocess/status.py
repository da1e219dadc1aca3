"""A sanctions fact's status follows what its own sentence says about time.

A small model calls almost every measure `imposed`, the status of a measure announced in
the article, even when its sentence says the measure stands from before ("remains subject
to an asset freeze", "designated in 2008", "is recognised as a terrorist organisation"),
is being lifted ("drops sanctions", "delisted") or is under review ("re-examining the
case", "might be removed from the list"). So a fact the model calls `imposed` takes the
status its cited sentence states: under review, else lifted, else in force; a sentence that
states none of these keeps `imposed`. English words only (the caller runs this on English
text); the other statuses the model gives are left alone.
"""

from __future__ import annotations

import re
from datetime import date

from extractor.schemas import SanctionFact, SanctionStatus

_LIFTED = re.compile(
    r"\b(?:lift(?:ed|s|ing)?|delist\w*|de-list\w*|drop(?:ped|s|ping)?\s+(?:\w+\s+){0,2}sanctions|"
    r"remov\w*\s+(?:\w+\s+){0,3}from\s+(?:\w+\s+){0,2}list|unfr[eo]\w*|annull?\w*)\b",
    re.IGNORECASE,
)
_UNDER_REVIEW = re.compile(
    r"\b(?:re-?examin\w*|reviewing|under\s+review|reconsider\w*|consider\w*\s+(?:lifting|removing|easing|ending)|"
    r"(?-i:might|may|could|would)\s+(?:\w+\s+){0,2}(?:lift|remov|delist|unfr[eo])\w*)\b",
    re.IGNORECASE,
)
_IN_FORCE = re.compile(
    r"\b(?:remain\w*|still|previously|already|continu\w*\s+to|recogni[sz]ed\s+(?:\w+\s+){0,6}as)\b",
    re.IGNORECASE,
)
_IN_YEAR = re.compile(r"\bin\s+(?:\w+\s+)?(1[89]\d\d|20\d\d)\b", re.IGNORECASE)


def stated_status(quote: str, published: date | None) -> str | None:
    """The status a sentence states for its measure, or None when it states none."""
    if _UNDER_REVIEW.search(quote):  # first: "might be removed from the list" is not removed yet
        return "under_review"
    if _LIFTED.search(quote):
        return "lifted"
    earlier = published is not None and any(int(y) < published.year for y in _IN_YEAR.findall(quote))
    if earlier or _IN_FORCE.search(quote):
        return "in_force"
    return None


def status_as_stated(facts: list[SanctionFact], published: date | None) -> tuple[list[SanctionFact], list[str]]:
    """The facts, those called `imposed` given the status their sentence states; a note
    counting the changes."""
    changed = 0
    for fact in facts:
        if fact.status != "imposed" or fact.evidence is None:
            continue
        status = stated_status(fact.evidence.quote, published)
        if status is not None:
            fact.status = SanctionStatus(status)
            changed += 1
    return facts, ([f"set the status of {changed} sanctions fact(s) from their sentence's words"] if changed else [])
