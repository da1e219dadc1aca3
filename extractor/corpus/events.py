"""Events across documents: reports of one incident become one event with all their sources.

Two events of different documents describe one incident when every test holds (each one
becomes a line of the merged event's `why`):
- the same type;
- compatible dates: both days and at most `MAX_DAYS_APART` apart, or the same month when one is
  only a month; when either has no date, the two articles were published at most
  `MAX_DAYS_APART` + 1 days apart;
- a shared place below the country: a location or admin1 of one alike a location or admin1 of
  the other (rapidfuzz token-set ratio >= `PLACE_MIN_RATIO`); the fields are compared across,
  because a small model often writes the village as admin1 or the province as location, and
  the country is not compared, because it writes a province as the country just as often;
- overlapping participants when both name one: a batch actor in both, or two participant names
  alike, aliases of their batch actors included (token-set ratio >= `NAME_MIN_RATIO`: "MDK" and
  "MDK rebels"; generic names such as "the army" and collective ones such as "civilians" excluded).
An event joins the first merged event all of whose reports it is compatible with (complete
linkage, in batch order), so a chain of near matches never drags two incidents together.
Events of one document are never merged with each other: the pipeline already decided those
are distinct. The fatality figures of the reports are all kept: a disagreement is visible as
min, max and each document's value, never silently one number.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta

from rapidfuzz import fuzz

from extractor.corpus.actors import BatchActor, is_generic
from extractor.corpus.documents import Document, mention
from extractor.schemas import Event
from extractor.postprocess.participants import COLLECTIVE as _COLLECTIVE
from extractor.text.names import normalise, ordered_union

MAX_DAYS_APART = 1
PLACE_MIN_RATIO = 85
NAME_MIN_RATIO = 90


@dataclass
class Report:
    """One document's event, with its participants as batch actors."""

    doc: Document
    event: Event
    actors: set[str]  # batch actor ids of its perpetrators and targets
    names: dict[str, list[str]]  # role -> batch names
    named: list[str] = field(default_factory=list)  # its non-generic participant names, for matching


@dataclass
class MergedEvent:
    """One incident and every report of it."""

    reports: list[Report] = field(default_factory=list)
    why: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        """A stable id: a hash of the first report's document and record id."""
        first = self.reports[0]
        return "E" + hashlib.sha1(f"{first.doc.name}\0{first.event.id}".encode()).hexdigest()[:10]

    def record(self) -> dict:
        """The merged event as an output row."""
        events = [r.event for r in self.reports]
        tolls = [{"document": r.doc.name, "value": r.event.fatalities} for r in self.reports if r.event.fatalities is not None]
        values = [t["value"] for t in tolls]
        dates = sorted({e.date for e in events if e.date})
        return {
            "record_type": "event", "id": self.id, "type": events[0].type.value,
            "date": dates[0] if dates else None, "dates": dates,
            "country": _first(e.country for e in events), "admin1": _first(e.admin1 for e in events),
            "location": _first(e.location for e in events),
            "perpetrators": ordered_union(r.names["perpetrators"] for r in self.reports),
            "targets": ordered_union(r.names["targets"] for r in self.reports),
            "fatalities_min": min(values) if values else None, "fatalities_max": max(values) if values else None,
            "fatalities_by_document": tolls, "fatalities_disagree": len(set(values)) > 1,
            "sources": ordered_union(e.sources for e in events),
            "documents": sorted({r.doc.name for r in self.reports}),
            "mentions": [mention(r.doc, r.event.id, r.event.evidence, date=r.event.date, fatalities=r.event.fatalities)
                         for r in self.reports],
            "why": self.why,
        }  # fmt: skip


def _first(values) -> str | None:
    return next((v for v in values if v), None)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


def _dates(a: Report, b: Report) -> str | None:
    """Why the two dates are compatible, or None."""
    da, db = a.event.date, b.event.date
    if da and db:
        day_a, day_b = _day(da), _day(db)
        if day_a and day_b:
            apart = abs((day_a - day_b).days)
            return f"dates {da} / {db} ({apart} day(s) apart)" if apart <= MAX_DAYS_APART else None
        return f"same month {da[:7]}" if da[:7] == db[:7] else None
    pa, pb = a.doc.published, b.doc.published
    if pa and pb and abs(pa - pb) <= timedelta(days=MAX_DAYS_APART + 1):
        return f"undated; published {pa} / {pb}"
    return None


def _places(a: Event, b: Event) -> str | None:
    """Why the two events share a place below the country, or None."""
    best: tuple[float, str, str] | None = None
    for x in (a.location, a.admin1):
        for y in (b.location, b.admin1):
            if x and y:
                ratio = fuzz.token_set_ratio(normalise(x), normalise(y))
                if ratio >= PLACE_MIN_RATIO and (best is None or ratio > best[0]):
                    best = (ratio, x, y)
    return f"place {best[1]!r} ~ {best[2]!r} ({best[0]:.0f})" if best else None


def _participants(a: Report, b: Report) -> str | None:
    """Why the named participants overlap (or are not both named), or None."""
    if not (a.actors or a.named) or not (b.actors or b.named):
        return "participants not both named"
    shared = a.actors & b.actors
    if shared:
        return f"shared participant(s) {', '.join(sorted(shared))}"
    for x in a.named:
        for y in b.named:
            ratio = fuzz.token_set_ratio(normalise(x), normalise(y))
            if ratio >= NAME_MIN_RATIO:
                return f"participants {x!r} ~ {y!r} ({ratio:.0f})"
    return None


def compatible(a: Report, b: Report) -> str | None:
    """Why two reports describe one incident, or None when they do not."""
    if a.doc.name == b.doc.name or a.event.type != b.event.type:
        return None
    when = _dates(a, b)
    where = when and _places(a.event, b.event)
    who = where and _participants(a, b)
    return f"same type {a.event.type.value}; {when}; {where}; {who}" if who else None


def report(doc: Document, event: Event, actor_of: dict[tuple[str, str], BatchActor]) -> Report:
    """A document's event with its participants resolved to batch actors."""
    own = {actor.id: actor.name for actor in doc.extraction.actors}
    ids: set[str] = set()
    batch_of: list[BatchActor] = []
    names: dict[str, list[str]] = {}
    for role, refs, written in (("perpetrators", event.perpetrator_ids, event.perpetrators),
                                ("targets", event.target_ids, event.targets)):  # fmt: skip
        batch = [actor_of[(doc.name, ref)] for ref in refs if (doc.name, ref) in actor_of]
        ids |= {b.id for b in batch}
        batch_of += batch
        # Collective nouns ("civilians") have no actor id: kept by name, never matched on.
        referenced = {own.get(ref) for ref in refs}
        names[role] = ordered_union([[b.name for b in batch], [n for n in written if n not in referenced]])
    # Names to match on: every name and alias of its batch actors, and its other participant
    # names, without generic and collective ones.
    candidates = [n for role in ("perpetrators", "targets") for n in names[role]]
    candidates += [alias for b in batch_of for alias in b.entity.names()]
    named = ordered_union([[n for n in candidates if not is_generic(n) and not _COLLECTIVE.match(normalise(n))]])
    return Report(doc, event, ids, names, named)


def merge(documents: list[Document], actor_of: dict[tuple[str, str], BatchActor]) -> list[MergedEvent]:
    """The batch's incidents, each with every report of it, in batch order."""
    merged: list[MergedEvent] = []
    for doc in documents:
        for event in doc.extraction.events:
            new = report(doc, event, actor_of)
            for incident in merged:
                reasons = [compatible(new, old) for old in incident.reports]
                if all(reasons):
                    incident.reports.append(new)
                    incident.why.append(f"{doc.name} {event.id}: {reasons[0]}")
                    break
            else:
                merged.append(MergedEvent([new]))
    return merged
