"""Public output models: what `extract()` returns and the CLI prints.

The enumerations are the contract of docs/EVAL_FORMAT.md; keep the values identical.
`schemas/*.json` are generated from these models (`python -m extractor.schemas --write`)
and a test fails when they drift.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ActorKind(StrEnum):
    """The kinds of actor."""
    person = "person"
    state_forces = "state_forces"
    armed_group = "armed_group"
    government = "government"
    international_organization = "international_organization"
    ngo = "ngo"
    media = "media"
    company = "company"
    other = "other"


class EventType(StrEnum):
    """ACLED's six top-level event types."""

    battle = "battle"
    explosion_remote_violence = "explosion_remote_violence"
    violence_against_civilians = "violence_against_civilians"
    protest = "protest"
    riot = "riot"
    strategic_development = "strategic_development"


class Measure(StrEnum):
    """The kinds of sanctions measure."""
    terrorist_designation = "terrorist_designation"
    sanctions_listing = "sanctions_listing"
    asset_freeze = "asset_freeze"
    travel_ban = "travel_ban"
    arms_embargo = "arms_embargo"
    trade_restriction = "trade_restriction"
    reward = "reward"
    other = "other"


class SanctionStatus(StrEnum):
    """Where a sanctions measure stands."""
    imposed = "imposed"
    in_force = "in_force"
    under_review = "under_review"
    lifted = "lifted"


class Evidence(BaseModel):
    """A verbatim quote from the input and where it stands: `text[start:end] == quote`."""

    model_config = ConfigDict(extra="forbid")

    quote: str = Field(min_length=1)
    start: int = Field(ge=0)
    end: int = Field(ge=0)

    @model_validator(mode="after")
    def _span_matches_quote(self) -> Evidence:
        if self.end - self.start != len(self.quote):
            raise ValueError("evidence span length differs from the quote length")
        return self

    def holds_in(self, text: str) -> bool:
        """True when text[start:end] is exactly the quote."""
        return text[self.start : self.end] == self.quote


class Record(BaseModel):
    """Base of every output record: an id and its evidence."""
    model_config = ConfigDict(extra="forbid")

    id: str
    evidence: Evidence | None = None
    grounded: bool = Field(
        default=False, description="True when `evidence` was found verbatim in the input at its offsets."
    )
    checks: list[str] = Field(
        default_factory=list,
        description="Values of this record the text does not support (a name not in the text, a number over what "
        "the quote states); empty when every check holds. Flagged records stay in the output.",
    )


class Actor(Record):
    """A named actor, with its kind, aliases and the verbatim mention that grounds it."""
    name: str = Field(min_length=1, description="Canonical name, as written in the article.")
    aliases: list[str] = Field(default_factory=list)
    kind: ActorKind
    affiliation: str | None = None
    country: str | None = None


class Event(Record):
    """An event with ACLED's type, participants, place, date, fatalities and evidence."""
    type: EventType
    sub_type: str | None = None
    perpetrators: list[str] = Field(default_factory=list, description="Canonical actor names.")
    targets: list[str] = Field(default_factory=list, description="Canonical actor names.")
    perpetrator_ids: list[str] = Field(default_factory=list)
    target_ids: list[str] = Field(default_factory=list)
    date: str | None = Field(default=None, description="ISO date (YYYY-MM-DD) or month (YYYY-MM).")
    date_text: str | None = Field(default=None, description="The date as the article phrases it.")
    country: str | None = None
    admin1: str | None = None
    location: str | None = None
    fatalities: int | None = Field(default=None, ge=0)
    sources: list[str] = Field(default_factory=list, description="Who reported it (e.g. AFP, SOHR).")


class SanctionFact(Record):
    """A sanctions fact: target, authority, measure, status and evidence."""
    target: str
    target_id: str | None = None
    authority: str | None = Field(
        default=None,
        description="The jurisdiction (United States, European Union, United Kingdom, United Nations) when the "
        "article's authority is one of them, else the authority as written.",
    )
    authority_text: str | None = Field(default=None, description="The authority as the article names it.")
    authority_id: str | None = None
    measure: Measure
    status: SanctionStatus
    program: str | None = None
    amount: float | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, description="ISO 4217 code.")
    conditions: str | None = None


class Usage(BaseModel):
    """Prompt and completion tokens."""
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: Usage) -> None:
        """Add another usage to this one."""
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens


class PassStat(BaseModel):
    """One model call of the pipeline (a record-type pass on a chunk)."""

    name: str
    chunk: int
    cache_hit: bool
    seconds: float
    usage: Usage = Field(default_factory=Usage)
    reasks: int = 0
    transport_retries: int = 0
    error: str | None = None
    skipped: bool = Field(default=False, description="True when no sentence was a candidate: no model call made.")


#: Version of this output format (meta.schema_version); README "Output format versions" says what changed.
OUTPUT_SCHEMA_VERSION = 3


class Meta(BaseModel):
    """How a document was extracted: model, prompt, tokens, time, cache, calls, warnings."""
    schema_version: int = OUTPUT_SCHEMA_VERSION
    model: str
    backend: str
    prompt_version: str
    schema_hash: str
    usage: Usage = Field(default_factory=Usage)
    seconds: float = 0.0
    cache_hit: bool = Field(default=False, description="True when every pass came from the cache.")
    model_calls: int = 0
    reasks: int = 0
    transport_retries: int = 0
    chunks: int = 1
    passes: list[PassStat] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    published: str | None = None
    input_sha256: str | None = Field(default=None, description="sha256 of the input bytes (batch resume key).")
    input_path: str | None = Field(
        default=None, description="The resolved path the input was read from (batch resume key; none for stdin)."
    )
    input_encoding: str | None = None


class Extraction(BaseModel):
    """Everything extracted from one document."""
    source: str | None = None
    actors: list[Actor] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    sanctions: list[SanctionFact] = Field(default_factory=list)
    meta: Meta

    def records(self) -> list[Record]:
        """Actors, events and sanctions in one list."""
        return [*self.actors, *self.events, *self.sanctions]


#: the output's record lists, in output order (the eval-set contract's three lists); the
#: registry of the passes that produce them is `extractor.records`
RECORD_TYPES: tuple[str, ...] = ("actors", "events", "sanctions")

PUBLIC_MODELS: dict[str, type[BaseModel]] = {
    "extraction": Extraction,
    "actor": Actor,
    "event": Event,
    "sanction": SanctionFact,
    "evidence": Evidence,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON schemas of the public models, by file stem."""
    return {name: model.model_json_schema() for name, model in PUBLIC_MODELS.items()}


def write_schemas(directory: Path) -> list[Path]:
    """Write schemas/*.json; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m extractor.schemas --write
    if "--write" in sys.argv:
        for p in write_schemas(Path(__file__).resolve().parent.parent / "schemas"):
            print(p)
    else:
        print(json.dumps(json_schemas(), indent=2))
