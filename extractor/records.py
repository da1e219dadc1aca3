"""The one registry of record types and of the passes that produce them.

A *record type* is what the output holds (actors, events, sanctions). A *pass* is one model
request per chunk with its own prompt template and draft answer model; it `produces` one
record type. Today each record type has exactly one pass of the same name, but the registry
keeps the two apart so a record type can come from several stages (detect, then fill) without
touching the prompts, the assembly or the scorer, which all read their lists from here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from extractor.llm.cited import CitedEventsAnswer, CitedSanctionsAnswer
from extractor.llm.drafts import ActorsAnswer, Answer, EventsAnswer, SanctionsAnswer
from extractor.schemas import RECORD_TYPES

__all__ = [
    "ANSWER_MODELS", "EVIDENCE_STYLES", "PASSES", "PASS_BY_NAME", "PASS_BY_TOOL", "PASS_NAMES", "RECORD_TYPES", "PassSpec",
    "answer_model", "passes_for", "schema_hash",
]  # fmt: skip


@dataclass(frozen=True)
class PassSpec:
    """One model request per chunk: its name (prompt template `<name>.j2`), draft answer model
    and the record type its items become."""

    name: str
    answer_model: type[Answer]
    produces: str


PASSES: tuple[PassSpec, ...] = (
    PassSpec("actors", ActorsAnswer, produces="actors"),
    PassSpec("events", EventsAnswer, produces="events"),
    PassSpec("sanctions", SanctionsAnswer, produces="sanctions"),
)
#: The same passes with v3's drafts: events and sanctions cite numbered sentences.
CITED_PASSES: tuple[PassSpec, ...] = (
    PassSpec("actors", ActorsAnswer, produces="actors"),
    PassSpec("events", CitedEventsAnswer, produces="events"),
    PassSpec("sanctions", CitedSanctionsAnswer, produces="sanctions"),
)
#: evidence style a prompt set declares -> its passes ("quote": copied quotes, v1/v2;
#: "sentence": numbered sentences cited by number, v3)
EVIDENCE_STYLES: dict[str, tuple[PassSpec, ...]] = {"quote": PASSES, "sentence": CITED_PASSES}
PASS_NAMES: tuple[str, ...] = tuple(p.name for p in PASSES)
PASS_BY_NAME: dict[str, PassSpec] = {p.name: p for p in PASSES}
#: tool / schema name a request carries (the answer model's class name) -> pass, all styles
PASS_BY_TOOL: dict[str, PassSpec] = {p.answer_model.__name__: p for ps in EVIDENCE_STYLES.values() for p in ps}


def passes_for(style: str = "quote") -> dict[str, PassSpec]:
    """Pass name -> spec for a prompt set's evidence style."""
    return {p.name: p for p in EVIDENCE_STYLES[style]}


def answer_model(pass_name: str, style: str = "quote") -> type[Answer]:
    """The draft answer model of a pass."""
    return passes_for(style)[pass_name].answer_model


def schema_hash(style: str = "quote") -> str:
    """Hash of every model-facing schema of a style: part of each cache key."""
    blob = json.dumps({p.name: p.answer_model.model_json_schema() for p in EVIDENCE_STYLES[style]}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()

#: pass name -> draft answer model (a view of PASSES)
ANSWER_MODELS: dict[str, type[Answer]] = {p.name: p.answer_model for p in PASSES}
