"""Assembly: pass outputs -> one `Extraction` (pure: no model, no cache, no I/O).

Every draft item is grounded against the full text (exact span stored), ungrounded ones are
dropped or flagged, actors named only on credit lines are dropped, actor mentions are resolved
into entities, the people the name tagger finds are added (`postprocess.people`), participants
the actors pass missed are added, names one record lists side by side are kept apart
(`postprocess.listed`), references are rewritten to actor ids, dates are resolved against the
publication date, violent events are typed by their sentence's method and background ones
dropped, event sides are checked (`postprocess.sides`), the consistency checks run (those lexical rules only on English text),
a sanctions fact called imposed takes the status its sentence states (`postprocess.status`), events at one
place on one day are merged into one incident (`postprocess.incidents`), and last every record's values are checked
against the text (`checks`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from extractor.config import Ungrounded
from extractor.llm.drafts import ActorDraft, EventDraft, SanctionDraft, ground
from extractor.postprocess.actors import as_written, find_entity, resolve_actors
from extractor.postprocess.authorities import canonical_authority
from extractor.postprocess.checks import check_values
from extractor.postprocess.consistency import check_events, complete_measures, named_measures_only
from extractor.postprocess.event_types import apply_method_and_newness
from extractor.postprocess.incidents import one_per_place_and_day
from extractor.postprocess.listed import split_listed
from extractor.postprocess.participants import add_participants
from extractor.postprocess.people import add_people, not_credited
from extractor.postprocess.places import not_places
from extractor.postprocess.sides import attackers_first, not_by_the_listed
from extractor.postprocess.status import status_as_stated
from extractor.records import PASS_BY_NAME, RECORD_TYPES
from extractor.schemas import Actor, Event, Evidence, Extraction, Meta, PassStat, SanctionFact
from extractor.text.chunking import Chunk
from extractor.text.dates import parse_published, resolve_date
from extractor.text.entities import labels_by_name
from extractor.text.language import is_english
from extractor.text.names import normalise, same_spelling


@dataclass
class PassOutput:
    """The items one pass returned for one chunk, with its stats."""

    chunk: Chunk
    name: str
    items: list[Any]
    stat: PassStat
    #: the call still to be answered (a batch job's request), when no answer was at hand
    pending: Any = None


@dataclass(frozen=True)
class AssemblyOptions:
    """The post-processing switches of `ExtractorConfig` that assembly reads."""

    ungrounded: Ungrounded = "drop"
    participants_as_actors: bool = True
    consistency_checks: bool = True
    method_types: bool = True
    canonical_authorities: bool = True
    one_incident_per_place_and_day: bool = True
    places_are_not_actors: bool = True
    event_sides: bool = True
    people: bool = True
    listed_are_distinct: bool = True
    names_as_written: bool = True
    status_as_stated: bool = True


def _evidence(item: Any, chunk: Chunk, text: str) -> Evidence | None:
    evidence = ground(item, chunk.text, base=chunk.start)
    return evidence if evidence is not None and evidence.holds_in(text) else None


def summarise(meta: Meta, outputs: list[PassOutput]) -> None:
    """Pass stats, usage, call counts and pass warnings into `meta`."""
    for output in outputs:
        meta.passes.append(output.stat)
        meta.usage.add(output.stat.usage)
        meta.reasks += output.stat.reasks
        meta.transport_retries += output.stat.transport_retries
        meta.model_calls += 0 if output.stat.cache_hit or output.stat.skipped else 1 + output.stat.reasks
        if output.stat.error:
            meta.warnings.append(f"{output.name} pass, chunk {output.chunk.index}: {output.stat.error}")
    called = [o for o in outputs if not o.stat.skipped]
    meta.cache_hit = bool(called) and all(o.stat.cache_hit for o in called)


def assemble(text: str, outputs: list[PassOutput], meta: Meta, published: str | None, options: AssemblyOptions) -> Extraction:
    """The extraction of `text` from its pass outputs (`meta` is filled in and returned inside)."""
    summarise(meta, outputs)
    dropped = 0
    drafts: dict[str, list[tuple[Any, Evidence | None]]] = {kind: [] for kind in RECORD_TYPES}
    for output in outputs:
        for item in output.items:
            evidence = _evidence(item, output.chunk, text)
            if evidence is None and options.ungrounded == "drop":
                dropped += 1
                continue
            drafts[PASS_BY_NAME[output.name].produces].append((item, evidence))
    if dropped:
        meta.warnings.append(f"dropped {dropped} record(s) whose quote or name is not in the text")

    if options.places_are_not_actors:
        drafts["actors"], notes = not_places(drafts["actors"], labels_by_name(text))
        meta.warnings += notes
    if options.people:
        drafts["actors"], notes = not_credited(drafts["actors"], text)
        meta.warnings += notes
    actors, entities = _actors(drafts["actors"], text if options.names_as_written else None)
    if options.people:
        meta.warnings += add_people(text, entities, actors)
    if options.participants_as_actors:
        add_participants(text, drafts["events"], drafts["sanctions"], entities, actors)
    if options.listed_are_distinct:
        meta.warnings += split_listed(text, drafts["events"], drafts["sanctions"], entities, actors)
    events = _events(drafts["events"], entities, actors, published)
    sanctions = _sanctions(drafts["sanctions"], entities, actors, options.canonical_authorities)
    # The lexical rules read English words: on another language they step aside.
    english = is_english(text)
    if options.method_types and english:
        events, notes = apply_method_and_newness(events, parse_published(published))
        meta.warnings += notes
    if options.event_sides:
        events, notes = not_by_the_listed(events, actors, sanctions)
        meta.warnings += notes
        if english:
            events, notes = attackers_first(events, actors)
            meta.warnings += notes
    if options.consistency_checks and english:
        events, notes = check_events(events)
        sanctions, added = complete_measures(sanctions)
        meta.warnings += notes + ([f"added {added} measure(s) that a sanctions quote states"] if added else [])
    if options.consistency_checks:  # its words are those of six languages
        sanctions, unnamed = named_measures_only(sanctions, text)
        meta.warnings += unnamed
    if options.status_as_stated and english:
        sanctions, notes = status_as_stated(sanctions, parse_published(published))
        meta.warnings += notes
    if options.one_incident_per_place_and_day:
        events, notes = one_per_place_and_day(events)
        meta.warnings += notes
    meta.warnings += check_values(text, actors, events, sanctions)
    return Extraction(actors=actors, events=events, sanctions=sanctions, meta=meta)


def _actors(mentions: list[tuple[ActorDraft, Evidence | None]], text: str | None) -> tuple[list[Actor], list]:
    """Actors from the actors pass's mentions; with `text`, each reports only the names the
    article writes (`as_written`), the entities keep every name for resolving references."""
    entities, assignment = resolve_actors([(d.name, d.kind, list(d.aliases)) for d, _ in mentions])
    evidence_of: dict[int, Evidence | None] = {}
    for (_, evidence), entity_index in zip(mentions, assignment):
        if evidence_of.get(entity_index) is None:
            evidence_of[entity_index] = evidence
    actors = []
    for n, entity in enumerate(entities):
        written = as_written(entity, text) if text is not None else []
        if written:
            name, aliases = written[0], written[1:]
        else:
            name = _article_spelling(entity.name, evidence_of.get(n))
            aliases = [a for a in entity.aliases if a != name]
        actors.append(
            Actor(
                id=f"a{n + 1}",
                name=name,
                aliases=aliases,
                kind=entity.kind,
                evidence=evidence_of.get(n),
                grounded=evidence_of.get(n) is not None,
            )
        )
    return actors, entities


def _refs(names: list[str], entities: list, actors: list[Actor]) -> tuple[list[str], list[str]]:
    resolved_names, ids = [], []
    for name in names:
        index = find_entity(entities, name)
        canonical = actors[index].name if index is not None else name
        if canonical not in resolved_names:
            resolved_names.append(canonical)
            if index is not None:
                ids.append(actors[index].id)
    return resolved_names, ids


def _numbered(model: type, prefix: str, candidates: list[tuple[tuple, dict[str, Any]]]) -> list:
    """Records from (dedupe key, fields) candidates: the first per key kept, ids numbered in order."""
    records: list = []
    seen: set[tuple] = set()
    for key, fields in candidates:
        if key not in seen:
            seen.add(key)
            records.append(model(id=f"{prefix}{len(records) + 1}", **fields))
    return records


def _events(drafts: list[tuple[EventDraft, Evidence | None]], entities, actors, published) -> list[Event]:
    candidates = []
    for index, (draft, evidence) in enumerate(drafts):
        perpetrators, perpetrator_ids = _refs(draft.perpetrators, entities, actors)
        targets, target_ids = _refs(draft.targets, entities, actors)
        # A cited (v3) draft that repeats another's type, participants, toll, date and place is
        # the same incident told in another sentence; quoted (v2) drafts merge on the quote.
        where = (draft.date, draft.fatalities, normalise(draft.admin1 or ""), normalise(draft.location or ""))
        anchor = where if hasattr(draft, "evidence_in") else evidence.start if evidence else None
        key = (
            draft.type,
            anchor if anchor is not None else f"ungrounded-{index}",  # flagged ones never merge
            tuple(sorted(normalise(p) for p in perpetrators)),
            tuple(sorted(normalise(t) for t in targets)),
        )
        fields = dict(
            type=draft.type, perpetrators=perpetrators, targets=targets, perpetrator_ids=perpetrator_ids,
            target_ids=target_ids, date=resolve_date(draft.date, published), date_text=draft.date,
            country=_blank_to_none(draft.country), admin1=_blank_to_none(draft.admin1),
            location=_blank_to_none(draft.location), fatalities=draft.fatalities, sources=list(draft.sources),
            evidence=evidence, grounded=evidence is not None,
        )  # fmt: skip
        candidates.append((key, fields))
    return _numbered(Event, "e", candidates)


def _sanctions(drafts: list[tuple[SanctionDraft, Evidence | None]], entities, actors, canonical: bool) -> list[SanctionFact]:
    candidates = []
    for draft, evidence in drafts:
        authority, authority_ids = _refs([draft.authority], entities, actors) if draft.authority else ([None], [])
        jurisdiction = (canonical and canonical_authority(draft.authority)) or authority[0]
        for target_name, measure in draft.expand():  # v3 drafts: every target x measure
            (target,), target_ids = _refs([target_name], entities, actors)
            key = (normalise(target), normalise(jurisdiction or ""), measure)
            fields = dict(
                target=target, target_id=target_ids[0] if target_ids else None, authority=jurisdiction,
                authority_text=_blank_to_none(draft.authority), authority_id=authority_ids[0] if authority_ids else None,
                measure=measure, status=draft.status, program=_blank_to_none(draft.program), amount=draft.amount,
                currency=_currency(draft.currency), evidence=evidence, grounded=evidence is not None,
            )  # fmt: skip
            candidates.append((key, fields))
    return _numbered(SanctionFact, "s", candidates)


def _article_spelling(name: str, evidence: Evidence | None) -> str:
    """Prefer the article's spelling when the name was grounded by a near match."""
    if evidence is not None and evidence.quote != name and same_spelling(evidence.quote, name):
        return evidence.quote
    return name


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value if value and value.lower() not in {"null", "none", "unknown", "n/a"} else None


_CURRENCY_ALIASES = {"$": "USD", "DOLLARS": "USD", "US DOLLARS": "USD", "€": "EUR", "EUROS": "EUR", "£": "GBP", "POUNDS": "GBP"}


def _currency(value: str | None) -> str | None:
    value = _blank_to_none(value)
    if value is None:
        return None
    upper = value.upper()
    if upper in _CURRENCY_ALIASES:
        return _CURRENCY_ALIASES[upper]
    return upper if re.fullmatch(r"[A-Z]{3}", upper) else None
