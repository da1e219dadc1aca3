"""One incident per place and day: events of one document that share both are merged.

The events task says that incidents on different days or in different places are separate
records, and a small model asked for every incident still writes one record per sentence
that mentions it (the headline, the lead, the toll, a witness), often with a different type
each time. Records of one document with the same resolved day and the same place are
therefore one incident: the type is the one most of them give (the earliest on a tie), the
record kept is the earliest of that type (so its evidence states its type), its participants
gain the other same-type records' names, and its toll is the earliest one given. Records
without a full date or a place are never merged: nothing says they are the same incident.
"""

from __future__ import annotations

from collections import Counter

from extractor.schemas import Event
from extractor.text.names import normalise


def _place_and_day(event: Event) -> tuple[str, str] | None:
    place = normalise(event.location or "")
    if not place or not event.date or len(event.date) != 10:  # a day, not a month
        return None
    return event.date, place


def _union(lists: list[list[str]]) -> list[str]:
    merged: list[str] = []
    for names in lists:
        merged += [name for name in names if name not in merged]
    return merged


def _merged(group: list[Event]) -> Event:
    counts = Counter(event.type for event in group)
    top = max(counts.values())
    winner = next(event.type for event in group if counts[event.type] == top)
    same = [event for event in group if event.type == winner]
    kept = same[0]
    pairs = [(e.perpetrators, e.perpetrator_ids) for e in same], [(e.targets, e.target_ids) for e in same]
    perpetrators, targets = ([_union([names for names, _ in role]), _union([ids for _, ids in role])] for role in pairs)
    toll = next((event.fatalities for event in group if event.fatalities is not None), None)
    return kept.model_copy(update={
        "perpetrators": perpetrators[0], "perpetrator_ids": perpetrators[1],
        "targets": targets[0], "target_ids": targets[1], "fatalities": toll,
    })  # fmt: skip


def one_per_place_and_day(events: list[Event]) -> tuple[list[Event], list[str]]:
    """The events with each place-and-day group merged into one record, and a note per merge."""
    groups: dict[tuple[str, str], list[Event]] = {}
    for event in events:
        key = _place_and_day(event)
        if key is not None:
            groups.setdefault(key, []).append(event)
    merged_into: dict[int, Event] = {}
    notes = []
    for (day, _), group in groups.items():
        if len(group) > 1:
            record = _merged(group)
            merged_into[id(group[0])] = record
            merged_into.update({id(event): None for event in group[1:]})  # type: ignore[misc]
            notes.append(f"merged {len(group)} events at {group[0].location} on {day} into one incident ({record.type})")
    kept = [merged_into.get(id(event), event) for event in events]
    return [event for event in kept if event is not None], notes
