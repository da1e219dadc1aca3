"""`--format acled`: one CSV row per event, in ACLED's column vocabulary.

Conflict analysts load ACLED tables into the tools they already have, so the columns and
their values follow ACLED's codebook where our data decides them, and stay empty where it does
not: an `armed_group` may be a rebel group, a political or an identity militia (inter codes
2, 3, 4), so its inter code is left for the analyst and `x_actor1_kind` carries ours. Every
mapping, and the codebook passage it comes from, is written down in docs/EXPORT.md. Columns
of our own start with `x_`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from extractor.export import countries
from extractor.schemas import Actor, Event, EventType, Extraction

COLUMNS = (
    "event_date", "time_precision", "disorder_type", "event_type", "sub_event_type",
    "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction",
    "civilian_targeting", "country", "iso", "admin1", "location", "fatalities", "source", "notes",
    "x_document", "x_record_id", "x_evidence_start", "x_evidence_end", "x_grounded", "x_checks",
    "x_type", "x_sub_type", "x_date", "x_date_text", "x_actor1_kind", "x_actor2_kind",
    "x_model", "x_prompt_version", "x_input_sha256",
)  # fmt: skip

#: our type -> ACLED's event_type display name
EVENT_TYPE = {
    EventType.battle: "Battles",
    EventType.explosion_remote_violence: "Explosions/Remote violence",
    EventType.violence_against_civilians: "Violence against civilians",
    EventType.protest: "Protests",
    EventType.riot: "Riots",
    EventType.strategic_development: "Strategic developments",
}
#: ACLED's sub-event types of each event type (codebook 2023)
SUB_EVENT_TYPES = {
    EventType.battle: ("Armed clash", "Government regains territory", "Non-state actor overtakes territory"),
    EventType.explosion_remote_violence: (
        "Chemical weapon", "Air/drone strike", "Suicide bomb", "Shelling/artillery/missile attack",
        "Remote explosive/landmine/IED", "Grenade",
    ),  # fmt: skip
    EventType.violence_against_civilians: ("Sexual violence", "Attack", "Abduction/forced disappearance"),
    EventType.protest: ("Peaceful protest", "Protest with intervention", "Excessive force against protesters"),
    EventType.riot: ("Violent demonstration", "Mob violence"),
    EventType.strategic_development: (
        "Agreement", "Arrests", "Change to group/activity", "Disrupted weapons use", "Headquarters or base established",
        "Looting/property destruction", "Non-violent transfer of territory", "Other",
    ),  # fmt: skip
}
DISORDER_TYPE = {
    EventType.battle: "Political violence",
    EventType.explosion_remote_violence: "Political violence",
    EventType.violence_against_civilians: "Political violence",
    EventType.protest: "Demonstrations",
    EventType.riot: "Demonstrations",
    EventType.strategic_development: "Strategic developments",
}
#: sub-event types that ACLED counts as both political violence and a demonstration
BOTH_DISORDERS = {"Excessive force against protesters", "Mob violence"}
#: our actor kind -> ACLED inter code where the kind decides it (1 state forces, 8 external/other)
INTER_BY_KIND = {"state_forces": "1", "government": "1", "international_organization": "8"}
#: kinds that are never the crowd of a protest or riot
ORGANISED = {"state_forces", "government", "armed_group", "international_organization"}


def sub_event_type(event: Event) -> str:
    """ACLED's sub-event type when ours names one of the event type's own, else empty."""
    if not event.sub_type:
        return ""
    wanted = event.sub_type.strip().casefold().replace("protestors", "protesters")
    return next((name for name in SUB_EVENT_TYPES[event.type] if name.casefold() == wanted), "")


def _inter(kind: str | None, event: Event, side: int) -> str:
    """ACLED inter code of actor1 (side 1) or actor2 (side 2), empty when our kind cannot decide."""
    if side == 1 and event.type in (EventType.protest, EventType.riot) and kind not in ORGANISED:
        return "6" if event.type is EventType.protest else "5"  # the crowd: Protesters / Rioters
    if side == 2 and event.type is EventType.violence_against_civilians:
        return "7"  # by definition its targets are civilians
    return INTER_BY_KIND.get(kind or "", "")


def _interaction(inter1: str, inter2: str, has_actor2: bool) -> str:
    if inter1 and not has_actor2:
        return inter1 + "0"  # an actor acting alone
    if inter1 and inter2:
        return "".join(sorted((inter1, inter2)))
    return ""


def _kind(names: list[str], ids: list[str], actors: dict[str, Actor], by_name: dict[str, Actor]) -> str | None:
    if ids and ids[0] in actors:
        return actors[ids[0]].kind.value
    if names and names[0].casefold() in by_name:
        return by_name[names[0].casefold()].kind.value
    return None


def rows(extraction: Extraction) -> Iterable[dict[str, object]]:
    """One ACLED row per event of one document."""
    actors = {a.id: a for a in extraction.actors}
    by_name = {a.name.casefold(): a for a in extraction.actors}
    meta = extraction.meta
    for event in extraction.events:
        kind1 = _kind(event.perpetrators, event.perpetrator_ids, actors, by_name)
        kind2 = _kind(event.targets, event.target_ids, actors, by_name)
        inter1 = _inter(kind1, event, 1) if event.perpetrators else ""
        inter2 = _inter(kind2, event, 2) if event.targets else ""
        sub = sub_event_type(event)
        disorder = "Political violence; Demonstrations" if sub in BOTH_DISORDERS else DISORDER_TYPE[event.type]
        day = event.date if event.date and len(event.date) == 10 else ""
        precision = "1" if day else ("3" if event.date and len(event.date) == 7 else "")
        civilians = event.type is EventType.violence_against_civilians or inter2 == "7"
        evidence = event.evidence
        yield {
            "event_date": day, "time_precision": precision, "disorder_type": disorder,
            "event_type": EVENT_TYPE[event.type], "sub_event_type": sub,
            "actor1": event.perpetrators[0] if event.perpetrators else "",
            "assoc_actor_1": "; ".join(event.perpetrators[1:]), "inter1": inter1,
            "actor2": event.targets[0] if event.targets else "",
            "assoc_actor_2": "; ".join(event.targets[1:]), "inter2": inter2,
            "interaction": _interaction(inter1, inter2, bool(event.targets)),
            "civilian_targeting": "Civilian targeting" if civilians else "",
            "country": event.country or "", "iso": countries.numeric(event.country) or "",
            "admin1": event.admin1 or "", "location": event.location or "",
            "fatalities": "" if event.fatalities is None else event.fatalities,
            "source": "; ".join(event.sources), "notes": evidence.quote if evidence else "",
            "x_document": extraction.source or "", "x_record_id": event.id,
            "x_evidence_start": evidence.start if evidence else "", "x_evidence_end": evidence.end if evidence else "",
            "x_grounded": str(event.grounded).lower(), "x_checks": "; ".join(event.checks), "x_type": event.type.value, "x_sub_type": event.sub_type or "",
            "x_date": event.date or "", "x_date_text": event.date_text or "",
            "x_actor1_kind": kind1 or "", "x_actor2_kind": kind2 or "",
            "x_model": meta.model, "x_prompt_version": meta.prompt_version, "x_input_sha256": meta.input_sha256 or "",
        }  # fmt: skip


#: the columns a merged table (`--merge`) adds
MERGED_COLUMNS = ("x_incident_id", "x_reports", "x_documents", "x_fatalities_max", "x_fatalities_by_document")


def merged_rows(extractions: list[Extraction]) -> Iterable[dict[str, object]]:
    """One row per incident of the batch (`extractor.corpus`): its first report's row, with every
    report's sources and documents, and as `fatalities` the lowest figure reported, the most
    conservative estimate as ACLED codes conflicting reports (the highest is `x_fatalities_max`)."""
    from extractor.corpus import merge_extractions
    from extractor.corpus.documents import document

    numbered = list(enumerate(extractions, start=1))
    first_rows = {}
    for line, extraction in numbered:
        name = document(extraction, line).name
        for row in rows(extraction):
            first_rows[(name, row["x_record_id"])] = row
    for incident in merge_extractions(numbered).events:
        first = incident["mentions"][0]
        row = dict(first_rows[(first["document"], first["record_id"])])
        low, high = incident["fatalities_min"], incident["fatalities_max"]
        row.update(
            fatalities="" if low is None else low, source="; ".join(incident["sources"]),
            x_incident_id=incident["id"], x_reports=len(incident["mentions"]), x_documents="; ".join(incident["documents"]),
            x_fatalities_max="" if high is None else high,
            x_fatalities_by_document="; ".join(f"{t['document']}={t['value']}" for t in incident["fatalities_by_document"]),
        )  # fmt: skip
        yield row


class AcledWriter:
    """Streams rows as documents arrive (the header first, once); with `merge`, holds the batch
    and writes one row per incident at the end."""

    def __init__(self, out: TextIO, merge: bool = False):
        countries.require("acled")
        self._merge = merge
        self._held: list[Extraction] = []
        self._csv = csv.DictWriter(out, fieldnames=COLUMNS + (MERGED_COLUMNS if merge else ()), lineterminator="\n")
        self._csv.writeheader()

    def add(self, extraction: Extraction) -> None:
        """Write the document's events as rows (or hold it for the merge)."""
        if self._merge:
            self._held.append(extraction)
        else:
            self._csv.writerows(rows(extraction))

    def close(self, *, bad_lines: int = 0, summary=None) -> None:
        """Write the merged rows; without `merge` every row is already written."""
        if self._merge:
            self._csv.writerows(merged_rows(self._held))
