"""The v3 draft answer models: records cite numbered sentences instead of copying quotes.

The model reads the chunk as "[n] sentence" lines (`text.sentences.numbered`) and each event
or sanctions record names the sentence that states it (`sentence`). Grounding is then exact
by construction: the evidence is that sentence's span, and the only thing a validator must
check is that the number exists (a wrong one makes instructor re-ask). A sanctions record
lists every target and every measure one sentence states ("X, Y and Z are subject to an
asset freeze and a travel ban"); assembly expands it to one fact per target x measure, so a
listing is one short record for the model and nine facts for the analyst. Actors keep the
v2 draft (names ground themselves).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from extractor.llm.drafts import (
    MAX_NAMES,
    ActorsAnswer,
    Answer,
    Draft,
    EventTypeLit,
    MeasureLit,
    StatusLit,
    _cap,
    _clean_names,
    plausible_amount,
    plausible_fatalities,
)
from extractor.schemas import Evidence
from extractor.text.sentences import sentence

MAX_CITED_EVENTS = 8
MAX_CITED_SANCTIONS = 8
MAX_TARGETS = 12
MAX_MEASURES = 4


class _Cited(Draft):
    # Subclasses declare `sentence` (the cited number, 1-based as the numbered article shows
    # it) as their LAST field: the model describes the record, then cites it, and a repeated
    # record ends on a number, where the loop guard can see the repeat and close the list
    # (a string's closing quote and the item's brace often arrive as one token).

    def evidence_in(self, text: str, base: int = 0) -> Evidence | None:
        """The cited sentence of `text` as evidence (offsets shifted by `base`), or None."""
        span = sentence(text, self.sentence)
        if span is None:
            return None
        start, end = span
        return Evidence(quote=text[start:end], start=base + start, end=base + end)

    def anchors(self) -> list[str]:
        """What a warning names when the record cannot be placed."""
        return [f"sentence {self.sentence}"]


class CitedEvent(_Cited):
    """One event: type, participants as written, and the facts its sentences state."""

    type: EventTypeLit
    perpetrators: list[str] = Field(
        default_factory=list, json_schema_extra={"maxItems": MAX_NAMES}
    )
    targets: list[str] = Field(
        default_factory=list, json_schema_extra={"maxItems": MAX_NAMES}
    )
    fatalities: int | None = None
    country: str | None = None
    admin1: str | None = None
    location: str | None = None
    date: str | None = None
    sentence: int

    _norm_lists = field_validator("perpetrators", "targets")(
        classmethod(lambda cls, v: _clean_names(v))
    )

    _plausible_fatalities = field_validator("fatalities")(classmethod(lambda cls, v: plausible_fatalities(v)))

    @property
    def sources(self) -> list[str]:
        """v3 does not ask who reported an event (it cost tokens and is not scored)."""
        return []


class CitedSanction(_Cited):
    """Every target and measure one sentence states, with one authority and status."""

    targets: list[str] = Field(json_schema_extra={"maxItems": MAX_TARGETS})
    authority: str | None = None
    measures: list[MeasureLit] = Field(json_schema_extra={"maxItems": MAX_MEASURES})
    status: StatusLit
    program: str | None = None
    amount: float | None = None
    currency: str | None = None
    sentence: int

    _norm_targets = field_validator("targets")(
        classmethod(lambda cls, v: _clean_names(v))
    )

    @field_validator("measures")
    @classmethod
    def _distinct_measures(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    _plausible_amount = field_validator("amount")(classmethod(lambda cls, v: plausible_amount(v)))

    def expand(self) -> list[tuple[str, str]]:
        """(target, measure) pairs: one sanctions fact each."""
        return [
            (target, measure) for target in self.targets for measure in self.measures
        ]


class _CitedAnswer(Answer):
    def ungrounded_message(self, missing: list) -> str:
        """A cited record is ungrounded only when its sentence number does not exist."""
        numbers = sorted({item.sentence for item in missing})
        return (
            f"sentence number(s) {numbers} do not exist in the article; cite the number in "
            "square brackets before the sentence that states each record."
        )


class CitedEventsAnswer(_CitedAnswer):
    items_field: ClassVar[str] = "events"
    events: list[CitedEvent] = _cap(MAX_CITED_EVENTS)


class CitedSanctionsAnswer(_CitedAnswer):
    items_field: ClassVar[str] = "sanctions"
    sanctions: list[CitedSanction] = _cap(MAX_CITED_SANCTIONS)


__all__ = [
    "ActorsAnswer",
    "CitedEvent",
    "CitedEventsAnswer",
    "CitedSanction",
    "CitedSanctionsAnswer",
]
