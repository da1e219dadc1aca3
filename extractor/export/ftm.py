"""`--format ftm`: FollowTheMoney entities, the model OpenSanctions, Aleph and most
sanctions-compliance tools read.

Entities are built and validated by the `followthemoney` library itself, so property names,
types and value cleaning (countries become ISO codes, dates are checked) are the library's,
not ours. Ids are hashes of what identifies a thing: an actor's schema and normalised name (so
the same actor named the same way in several documents of a batch is one entity, with every
document as its `proof`), a record's document and record id. Because actors merge across
documents, they are emitted when the stream ends; events, sanctions and the articles
themselves are emitted as they come. Kind-to-schema mapping: docs/EXPORT.md.
"""

from __future__ import annotations

import json
from typing import TextIO

from extractor import __version__
from extractor.export import countries
from extractor.export.acled import EVENT_TYPE
from extractor.schemas import Actor, Event, Extraction, SanctionFact

#: our actor kind -> FtM schema
SCHEMA_BY_KIND = {
    "person": "Person",
    "state_forces": "PublicBody",
    "government": "PublicBody",
    "international_organization": "Organization",
    "armed_group": "Organization",
    "ngo": "Organization",
    "media": "Organization",
    "company": "Company",
    "other": "LegalEntity",
}
PREFIX = "extractor"


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def _is_url(source: str | None) -> bool:
    return bool(source) and source.lower().startswith(("http://", "https://"))


class FtmWriter:
    """Builds entities document by document; `close` emits the merged actors."""

    def __init__(self, out: TextIO):
        countries.require("ftm")
        from followthemoney import model

        self._model = model
        self._out = out
        #: entity id -> actor entity, merged across documents
        self._actors: dict = {}
        self._order: list[str] = []
        self.emitted = 0

    # -- building ---------------------------------------------------------------------
    def _make(self, schema: str, *id_parts: str):
        entity = self._model.make_entity(schema, key_prefix=PREFIX)
        entity.make_id(*id_parts)
        return entity

    def _document(self, extraction: Extraction):
        meta = extraction.meta
        doc = self._make("Article", "document", meta.input_sha256 or "", extraction.source or "")
        doc.add("title", extraction.source or "input")
        doc.add("fileName", extraction.source)
        if _is_url(extraction.source):
            doc.add("sourceUrl", extraction.source)
        doc.add("publishedAt", meta.published)
        doc.add("processingAgent", f"extractor {__version__}; {meta.model}; prompt {meta.prompt_version}")
        return doc

    def _actor(self, name: str, kind: str, doc_id: str, actor: Actor | None = None):
        schema = SCHEMA_BY_KIND.get(kind, "LegalEntity")
        entity = self._make(schema, "actor", schema, _norm(name))
        entity.add("name", name)
        entity.add("proof", doc_id)
        if actor is not None:
            entity.add("alias", [a for a in actor.aliases if _norm(a) != _norm(name)])
            if actor.country:
                entity.add("country", actor.country)
            if actor.affiliation:
                entity.add("description", f"affiliation: {actor.affiliation}")
        known = self._actors.get(entity.id)
        if known is None:
            self._actors[entity.id] = entity
            self._order.append(entity.id)
        else:
            known.merge(entity)
        return entity.id

    def _participant(self, name: str, actor_id: str | None, actors: dict[str, Actor], by_name: dict[str, Actor],
                     doc_id: str) -> str:  # fmt: skip
        """The entity id of an event participant or sanctions target: the extracted actor it
        refers to, else a LegalEntity of that name (a reference must point at an entity)."""
        actor = actors.get(actor_id or "") or by_name.get(_norm(name))
        if actor is not None:
            return self._actor(actor.name, actor.kind.value, doc_id, actor)
        return self._actor(name, "other", doc_id)

    def _event(self, event: Event, doc_id: str, actors, by_name):
        entity = self._make("Event", "event", doc_id, event.id)
        place = ", ".join(x for x in (event.location, event.admin1, event.country) if x)
        entity.add("name", EVENT_TYPE[event.type] + (f" in {place}" if place else "") + (f", {event.date}" if event.date else ""))
        entity.add("keywords", [event.type.value, *([event.sub_type] if event.sub_type else [])])
        entity.add("date", event.date)
        entity.add("country", event.country)
        entity.add("location", place or None)
        ids = [*event.perpetrator_ids, *event.target_ids]
        names = [*event.perpetrators, *event.targets]
        for position, name in enumerate(names):
            entity.add("involved", self._participant(name, ids[position] if position < len(ids) else None, actors, by_name, doc_id))
        if event.fatalities is not None:
            entity.add("description", f"{event.fatalities} reported fatalities")
        if event.evidence:
            entity.add("summary", event.evidence.quote)
        entity.add("proof", doc_id)
        return entity

    def _sanction(self, fact: SanctionFact, doc_id: str, actors, by_name):
        entity = self._make("Sanction", "sanction", doc_id, fact.id)
        entity.add("entity", self._participant(fact.target, fact.target_id, actors, by_name, doc_id))
        entity.add("authority", fact.authority or fact.authority_text)
        entity.add("country", countries.alpha2(fact.authority))
        entity.add("program", fact.program)
        entity.add("status", fact.status.value)
        entity.add("provisions", fact.measure.value.replace("_", " "))
        details = [fact.conditions or ""]
        if fact.amount is not None:
            details.append(f"{fact.amount:,.0f} {fact.currency or ''}".strip())
        entity.add("description", "; ".join(d for d in details if d) or None)
        if fact.evidence:
            entity.add("summary", fact.evidence.quote)
        entity.add("proof", doc_id)
        return entity

    # -- output -----------------------------------------------------------------------
    def _emit(self, entity) -> None:
        check(entity)
        self._out.write(json.dumps(entity.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
        self.emitted += 1

    def add(self, extraction: Extraction) -> None:
        """Emit the document's Article, Events and Sanctions; hold its actors for merging."""
        doc = self._document(extraction)
        self._emit(doc)
        actors = {a.id: a for a in extraction.actors}
        by_name = {_norm(a.name): a for a in extraction.actors}
        for actor in extraction.actors:
            self._actor(actor.name, actor.kind.value, doc.id, actor)
        for event in extraction.events:
            self._emit(self._event(event, doc.id, actors, by_name))
        for fact in extraction.sanctions:
            self._emit(self._sanction(fact, doc.id, actors, by_name))

    def close(self, *, bad_lines: int = 0, summary=None) -> None:
        """Emit the actors, each merged over every document that named it."""
        for entity_id in self._order:
            self._emit(self._actors[entity_id])
        self._actors.clear()
        self._order.clear()


def check(entity) -> None:
    """Raise ValueError unless the entity passes the library's validation and has its id and
    required properties (the library's validate() does not look for absent ones)."""
    from followthemoney.exc import InvalidData

    if not entity.id:
        raise ValueError(f"{entity.schema.name} entity without an id")
    missing = [name for name in entity.schema.required if not entity.get(name)]
    if missing:
        raise ValueError(f"{entity.schema.name} {entity.id}: missing required {', '.join(missing)}")
    try:
        entity.schema.validate(entity.to_dict())
    except InvalidData as exc:
        raise ValueError(f"{entity.schema.name} {entity.id}: {exc.errors}") from exc
