"""The draft answer models: what the model is asked to return, and how it is validated.

Each pass has a *draft* response model: flat, strings and enums only, with the quote the
model must copy. These are the models instructor validates. Their JSON schema is inlined
(no `$ref`/`$defs`) and every property is required, because llama.cpp's schema-to-grammar
converter drops nested references; the constraints a grammar cannot carry (grounded quotes,
sane numbers) are pydantic validators, and a failure makes instructor re-ask.

Grounding needs the source text inside the validator. It is passed through a ContextVar,
not instructor's `context=`, because instructor renders every message as a Jinja template
when a context is given, which would rewrite articles that contain braces.
"""

from __future__ import annotations

import contextvars
import copy
import math
from contextlib import contextmanager
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from extractor.text.grounding import locate
from extractor.schemas import ActorKind, EventType, Evidence, Measure, SanctionStatus

# Literal (inline "enum") forms of the public enums, for the grammar-facing schemas.
ActorKindLit = Literal[tuple(k.value for k in ActorKind)]
EventTypeLit = Literal[tuple(t.value for t in EventType)]
MeasureLit = Literal[tuple(m.value for m in Measure)]
StatusLit = Literal[tuple(s.value for s in SanctionStatus)]

# Per chunk and pass: the grammar stops a repetition loop at these (see `_cap`), and
# validation refuses more from a server that has no grammar (`Draft._bounded`).
MAX_ACTORS = 20
MAX_EVENTS = 8
MAX_SANCTIONS = 10
MAX_NAMES = 5
#: characters in any one string of an answer (a quote is one sentence or a few)
MAX_TEXT = 4000

_grounding_text: contextvars.ContextVar[str | None] = contextvars.ContextVar("grounding_text", default=None)


@contextmanager
def grounding_against(text: str | None):
    """Within this block, draft validators require every quote to be found in `text`."""
    token = _grounding_text.set(text)
    try:
        yield
    finally:
        _grounding_text.reset(token)


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target = defs[node["$ref"].split("/")[-1]]
            return _inline_refs(copy.deepcopy(target), defs)
        return {key: _inline_refs(value, defs) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    return node


def _require_all(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node["required"] = list(node["properties"])
            node["additionalProperties"] = False
        for value in node.values():
            _require_all(value)
    elif isinstance(node, list):
        for item in node:
            _require_all(item)
    return node


class Draft(BaseModel):
    """Base of every model-facing response model: flat, grammar-friendly JSON schema."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, data: Any) -> Any:
        """The grammar's maxItems and a length bound on every string, enforced on what any
        server returns (a hosted model has no grammar): checked on the raw JSON, before any
        item is parsed or grounded, so an oversized reply costs nothing but its re-ask."""
        if not isinstance(data, dict):
            return data
        for name, field in cls.model_fields.items():
            value = data.get(name)
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            cap = extra.get("maxItems")
            if cap is not None and isinstance(value, list) and len(value) > cap:
                raise ValueError(f"{name}: {len(value)} items, more than the {cap} allowed; return at most {cap}")
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str) and len(text) > MAX_TEXT:
                    raise ValueError(f"{name}: a value of {len(text):,} characters, more than the {MAX_TEXT:,} allowed")
        return data

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        """The flat schema: references inlined, every property required, no titles or defaults."""
        schema = super().model_json_schema(*args, **kwargs)
        flat = _inline_refs(schema, schema.get("$defs", {}))
        for prop in _walk_props(flat):
            prop.pop("default", None)
            prop.pop("title", None)
            if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
                prop["items"].pop("description", None)  # class docstrings are for developers
        return _require_all(flat)


def _walk_props(node: Any):
    if isinstance(node, dict):
        for value in node.get("properties", {}).values():
            yield value
        for value in node.values():
            yield from _walk_props(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_props(item)


def _clean_names(values: list[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        value = " ".join(str(value).split())
        if value and value.lower() not in {s.lower() for s in seen}:
            seen.append(value)
    return seen


def plausible_fatalities(value: int | None) -> int | None:
    """A count of people killed, or None; anything else fails validation (and is re-asked)."""
    if value is not None and not 0 <= value <= 1_000_000:
        raise ValueError("fatalities must be a non-negative count of people killed, or null")
    return value


def plausible_amount(value: float | None) -> float | None:
    """A finite, non-negative amount, or None (NaN and infinities fail before caching)."""
    if value is not None and (not math.isfinite(value) or value < 0):
        raise ValueError("amount must be a finite positive number or null")
    return value


class _Quoted(Draft):
    #: anchors must match whole words of the text (names), not any substring (quotes)
    whole_word: ClassVar[bool] = False

    quote: str = Field(description="One complete sentence copied verbatim from the article.")

    def anchors(self) -> list[str]:
        return [self.quote]


class ActorDraft(Draft):
    """Actors carry no quote: their evidence is the verbatim mention of the name (or an
    alias) in the text, which costs no generated tokens and cannot be paraphrased. A name
    must match whole words: "Syria" is not evidenced by "Syrian"."""

    whole_word: ClassVar[bool] = True

    name: str
    kind: ActorKindLit
    aliases: list[str] = Field(default_factory=list, json_schema_extra={"maxItems": MAX_NAMES})

    _norm_aliases = field_validator("aliases")(classmethod(lambda cls, v: _clean_names(v)))

    def anchors(self) -> list[str]:
        """The name, then its aliases: any one found in the text grounds the actor."""
        return [self.name, *self.aliases]


class EventDraft(_Quoted):
    """One event as the model writes it."""
    type: EventTypeLit
    perpetrators: list[str] = Field(default_factory=list, json_schema_extra={"maxItems": MAX_NAMES})
    targets: list[str] = Field(default_factory=list, json_schema_extra={"maxItems": MAX_NAMES})
    fatalities: int | None = None
    country: str | None = None
    admin1: str | None = None
    location: str | None = None
    date: str | None = None
    sources: list[str] = Field(default_factory=list, json_schema_extra={"maxItems": MAX_NAMES})

    _norm_lists = field_validator("perpetrators", "targets", "sources")(classmethod(lambda cls, v: _clean_names(v)))

    _plausible_fatalities = field_validator("fatalities")(classmethod(lambda cls, v: plausible_fatalities(v)))


class SanctionDraft(_Quoted):
    """One sanctions fact as the model writes it."""
    target: str
    authority: str | None = None
    measure: MeasureLit
    status: StatusLit
    program: str | None = None
    amount: float | None = None
    currency: str | None = None

    _plausible_amount = field_validator("amount")(classmethod(lambda cls, v: plausible_amount(v)))

    def expand(self) -> list[tuple[str, str]]:
        """(target, measure) pairs: one sanctions fact each (here exactly one)."""
        return [(self.target, self.measure)]


class Answer(Draft):
    # No docstring on purpose: pydantic would put it in the JSON schema (and the cache key).
    items_field: ClassVar[str]
    #: re-ask the whole answer when a record is not grounded (else the record is just dropped)
    reask_ungrounded: ClassVar[bool] = True

    def items(self) -> list[ActorDraft | _Quoted]:
        """The answer's records."""
        return list(getattr(self, self.items_field))

    @model_validator(mode="after")
    def _anchors_are_grounded(self) -> Answer:
        text = _grounding_text.get()
        if text is None or not self.reask_ungrounded:
            return self
        missing = [item for item in self.items() if ground(item, text) is None]
        if missing:
            raise ValueError(self.ungrounded_message(missing))
        return self

    def ungrounded_message(self, missing: list) -> str:
        """What instructor's re-ask tells the model about records that could not be grounded."""
        listed = "; ".join(repr(item.anchors()[0][:160]) for item in missing[:5])
        what = "name(s)" if self.items_field == "actors" else "quote(s)"
        return (
            f"{len(missing)} {what} are not in the article: {listed}. "
            "Copy each one exactly, character for character, from the article, or leave the record out."
        )


def _cap(n: int) -> Any:
    """A maxItems bound: the grammar stops a small model's repetition loop there (the same
    item again and again until max_tokens), and `Draft._bounded` refuses a longer list from a
    server without the grammar. Not pydantic's max_length, which would change the schema the
    model is shown and every cache key."""
    return Field(json_schema_extra={"maxItems": n})


class ActorsAnswer(Answer):
    items_field: ClassVar[str] = "actors"
    # A name that is not in the text is simply dropped: re-generating the whole actor list
    # for one name costs a whole actors pass on the embedded model.
    reask_ungrounded: ClassVar[bool] = False
    actors: list[ActorDraft] = _cap(MAX_ACTORS)


class EventsAnswer(Answer):
    items_field: ClassVar[str] = "events"
    events: list[EventDraft] = _cap(MAX_EVENTS)


class SanctionsAnswer(Answer):
    items_field: ClassVar[str] = "sanctions"
    sanctions: list[SanctionDraft] = _cap(MAX_SANCTIONS)


def ground(item: ActorDraft | _Quoted, text: str, base: int = 0) -> Evidence | None:
    """Evidence for a draft record: the sentence it cites (v3 drafts), else its first anchor
    (quote, or name then aliases) found in text."""
    cited = getattr(item, "evidence_in", None)
    if cited is not None:
        return cited(text, base)
    for anchor in item.anchors():
        evidence = locate(anchor, text, base=base, whole_word=item.whole_word)
        if evidence is not None:
            return evidence
    return None
