"""Grounded is not the same as true: a genuine quote can carry invented values.

Grounding proves a record's quote is in the article; it says nothing of the names and numbers
the model put beside it. These checks read the record, its quote and the article (never gold
data) and write what fails into the record's `checks`, with one warning per document; the
record stays in the output and in scoring, because a check can be wrong where a name is
spelled two ways. What is checked:

- names taken from the article (perpetrators, targets, a sanctions target, the authority as
  written, program, location, admin1) must occur in it, compared through the pipeline's one
  name normaliser, or as their acronym ("EU" for "European Union"); a participant named as a
  grounded actor (or one of its aliases) passes;
- fatalities and amounts may not exceed the largest number the quote states (digits,
  number words, "dozens", with "million"/"billion" scales).

Canonicalised values (`authority` as a jurisdiction, an inferred `country`) are not checked.
"""

from __future__ import annotations

import re

from extractor.schemas import Actor, Event, SanctionFact
from extractor.text.names import acronym, normalise

_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12, "dozens": 99,
    "score": 20, "scores": 99, "hundred": 100, "hundreds": 999, "thousand": 1000, "thousands": 9999,
}  # fmt: skip
_SCALES = {"thousand": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9}
_NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(thousand|million|billion|mn|bn|m|b)?\b|\b([a-z]+)\b", re.IGNORECASE)


def largest_number(quote: str) -> float | None:
    """The largest quantity a sentence states ("killing 12" -> 12, "$10 million" -> 1e7), None if none."""
    best: float | None = None
    for digits, scale, word in _NUMBER.findall(quote):
        if digits:
            try:
                value = float(digits.replace(",", ""))
            except ValueError:
                continue
            value *= _SCALES.get(scale.lower(), 1.0) if scale else 1.0
        elif word.lower() in _WORDS:
            value = float(_WORDS[word.lower()])
        else:
            continue
        best = value if best is None else max(best, value)
    return best


class _Article:
    def __init__(self, text: str, actors: list[Actor]):
        self.normalised = f" {normalise(text)} "
        # participants are rewritten to their actor's canonical name, which may be the
        # model's longer form of a grounded mention ("HTS" -> "Hayat Tahrir al-Sham")
        self.actor_names = {normalise(n) for a in actors if a.grounded for n in (a.name, *a.aliases)}

    def has(self, name: str | None) -> bool:
        if not name:
            return True
        words = normalise(name)
        short = acronym(name)  # "European Union" is in a text that writes "EU"
        return not words or f" {words} " in self.normalised or bool(short) and f" {short} " in self.normalised

    def names_missing(self, label: str, names: list[str], *, actors_count: bool = True) -> list[str]:
        return [
            f"{label} {name[:80]!r} is not in the text"
            for name in names
            if not (actors_count and normalise(name) in self.actor_names) and not self.has(name)
        ]


def _over(label: str, value: float | None, quote: str) -> list[str]:
    if value is None or value <= 1:
        return []
    stated = largest_number(quote)
    if stated is None or value > stated:
        return [f"{label} {value:,.0f} is more than its quote states"]
    return []


def check_values(text: str, actors: list[Actor], events: list[Event], sanctions: list[SanctionFact]) -> list[str]:
    """Fill each event's and sanction's `checks`; return the document's warning (or none)."""
    article = _Article(text, actors)
    flagged = []
    for event in events:
        event.checks = [
            *article.names_missing("perpetrator", event.perpetrators),
            *article.names_missing("target", event.targets),
            *article.names_missing("location", [n for n in (event.location, event.admin1) if n], actors_count=False),
            *(_over("fatalities", event.fatalities, event.evidence.quote) if event.evidence else []),
        ]
        flagged += [event.id] if event.checks else []
    for fact in sanctions:
        fact.checks = [
            *article.names_missing("target", [fact.target]),
            *article.names_missing("authority", [fact.authority_text] if fact.authority_text else []),
            *article.names_missing("program", [fact.program] if fact.program else [], actors_count=False),
            *(_over("amount", fact.amount, fact.evidence.quote) if fact.evidence else []),
        ]
        flagged += [fact.id] if fact.checks else []
    if not flagged:
        return []
    return [f"{len(flagged)} record(s) hold values the text does not support ({', '.join(flagged[:8])}; see their `checks`)"]
