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
from extractor.text.names import normalise, ordered_union


def _place_and_day(event: Event) -> tuple[str, str] | None:
    place = normalise(event.location or "")
    if not place or not event.date or len(event.date) != 10:  # a day, not a month
        return None
    return event.date, place


def _merged(group: list[Event]) -> Event:
    counts = Counter(event.type for event in group)
    winner = next(event.type for event in group if counts[event.type] == max(counts.values()))
    same = [event for event in group if event.type == winner]
    sides = {role: ordered_union(getattr(event, role) for event in same)
             for role in ("perpetrators", "perpetrator_ids", "targets", "target_ids")}  # fmt: skip
    toll = next((event.fatalities for event in group if event.fatalities is not None), None)
    return same[0].model_copy(update={**sides, "fatalities": toll})


def one_per_place_and_day(events: list[Event]) -> tuple[list[Event], list[str]]:
    """The events with each place-and-day group merged into one record (where its earliest
    member stood), and a note per merge."""
    groups: dict[tuple[str, str], list[Event]] = {}
    for event in events:
        key = _place_and_day(event)
        if key is not None:
            groups.setdefault(key, []).append(event)
    kept, notes = [], []
    for event in events:
        group = groups.get(_place_and_day(event)) or [event]
        if len(group) == 1:
            kept.append(event)
        elif event is group[0]:
            kept.append(record := _merged(group))
            notes.append(f"merged {len(group)} events at {event.location} on {event.date} into one incident ({record.type})")
    return kept, notes
