"""Every knob of an extraction, in one frozen object built once (by the CLI or a caller).

`ExtractorConfig` is what an `Extractor` is made from; its defaults are the product's
defaults, and `__post_init__` refuses impossible values with a `ConfigError` before any model
is loaded. The paths of the user's cache root live here too, because the response cache, the
model store and the saved prompt state all sit under it.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from extractor.errors import ConfigError

Ungrounded = Literal["drop", "flag"]


def cache_root() -> Path:
    """$EXTRACTOR_HOME, else $XDG_CACHE_HOME/extractor, else ~/.cache/extractor."""
    base = os.environ.get("EXTRACTOR_HOME") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    if os.environ.get("EXTRACTOR_HOME"):
        return Path(base)
    return Path(base) / "extractor"


@dataclass(frozen=True)
class ExtractorConfig:
    """Configuration of an `Extractor`: model, prompts, cache, post-processing, decoding, limits."""

    #: local | local:/path.gguf | openai/<m> | llamacpp/<m> | vllm/<m> | ollama/<m> | <m> with base_url
    model: str = "local"
    base_url: str | None = None
    #: never shown: excluded from repr
    api_key: str | None = field(default=None, repr=False)
    #: instructor mode override: tools | json | json_schema | md_json
    mode: str | None = None
    #: prompt set under prompts/ (None: prompts/CURRENT)
    prompt_version: str | None = None
    cache: bool = True
    cache_dir: str | None = None
    #: answer from the cache only: a miss fails the document instead of calling the model
    replay: bool = False
    #: what to do with a record whose quote is not in the text
    ungrounded: Ungrounded = "drop"
    #: named event/sanction participants that the actors pass missed become actors
    participants_as_actors: bool = True
    #: replace passages that address an AI model before the model sees them (text.injection)
    withhold_instructions: bool = True
    #: drop events whose quote says nothing of their type, add the measures a sanctions quote
    #: states, drop measures the article never names (postprocess.consistency)
    consistency_checks: bool = True
    #: a violent event's type follows the method its sentence states, and events that their
    #: sentence dates two or more years back are dropped (postprocess.event_types)
    method_types: bool = True
    #: sanctions authority = its jurisdiction ("U.S. Treasury" -> "United States"); the
    #: article's wording stays in authority_text (postprocess.authorities)
    canonical_authorities: bool = True
    #: events of one document at the same place on the same day are one incident
    #: (postprocess.incidents)
    one_incident_per_place_and_day: bool = True
    #: an actor the name tagger knows only as a place or nationality is dropped unless typed
    #: a government or an armed group, and one typed `other` stays only when the tagger calls
    #: it a person or organisation (postprocess.places; needs the tagger, English text only)
    places_are_not_actors: bool = True
    #: the people the name tagger finds become actors, and actors named only on a byline or
    #: credit line are dropped (postprocess.people)
    people: bool = True
    #: a perpetrator that its sentence says repelled the attack becomes the target (English
    #: text only), and events perpetrated only by persons or companies the article sanctions
    #: are dropped (postprocess.sides)
    event_sides: bool = True
    #: names that one record lists side by side (a listing's targets, an event's
    #: perpetrators) are different actors, even when the actors pass made one an alias of
    #: another (postprocess.listed)
    listed_are_distinct: bool = True
    #: an actor reports only the names the article writes, the one closest to the model's
    #: name first (postprocess.actors.as_written)
    names_as_written: bool = True
    #: a sanctions fact the model calls imposed takes the status its sentence states (lifted,
    #: under review, in force; postprocess.status; English text only)
    status_as_stated: bool = True
    #: paragraphs that state a dated incident no event cites are shown to the events task
    #: again, once, and its new incidents kept (pipeline.second_look; sentence-citing prompts)
    second_look: bool = True
    #: which passes run (records.PASS_NAMES, in that order)
    passes: tuple[str, ...] | None = None
    #: article tokens per chunk (None: what fits the model's context window)
    chunk_tokens: int | None = None
    overlap_tokens: int = 120
    temperature: float = 0.0
    seed: int = 1234
    max_tokens: int = 1024
    #: re-asks after invalid output (None: 2 for HTTP backends, 1 for the local model)
    max_reasks: int | None = None
    #: seconds per HTTP attempt
    timeout: float = 120.0
    #: HTTP attempts per call: 1 + transport retries
    retries: int = 4
    #: context window of an in-process model
    n_ctx: int = 4096

    def __post_init__(self) -> None:
        from extractor.records import PASS_NAMES

        passes = tuple(self.passes) if self.passes is not None else PASS_NAMES
        unknown = [p for p in passes if p not in PASS_NAMES]
        if unknown or not passes:
            raise ConfigError(f"passes must be among {', '.join(PASS_NAMES)}; got {', '.join(passes) or 'none'}")
        object.__setattr__(self, "passes", passes)
        if self.ungrounded not in ("drop", "flag"):
            raise ConfigError("ungrounded must be 'drop' or 'flag'")
        if self.replay and not self.cache:
            raise ConfigError("replay reads the response cache; it cannot run with the cache off")
        if not (isinstance(self.timeout, (int, float)) and math.isfinite(self.timeout) and self.timeout > 0):
            raise ConfigError(f"timeout {self.timeout!r}: must be a finite number of seconds above 0")
        if self.retries < 1:
            raise ConfigError(f"retries {self.retries}: at least 1 attempt")
        if self.max_reasks is not None and self.max_reasks < 0:
            raise ConfigError(f"max_reasks {self.max_reasks}: must be 0 or more")

    def replace(self, **changes: Any) -> ExtractorConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)
