"""Places are not actors: an actor whose name the tagger knows only as a place or a
nationality is dropped, unless the model typed it a government or an armed group.

Shown the tagger's candidate names, a small model keeps most of them, and gives a town, a
province or "Syrian" a kind (state forces, other) rather than leaving it out. A country
acting as a state ("Russia imposed...", "the United States designated...") is an actor, and
the model types those as governments, so that kind is kept. So is an armed group: groups are
often named after a people or a place, and the tagger errs on such names (it tags "M23" as a
place and "Wazalendo" as a nationality). The names the tagger tags only as places or
nationalities come from `text.entities.place_names`; without the tagger, or on a text that is
not English, nothing is dropped.
"""

from __future__ import annotations

from typing import Any

from extractor.text.names import normalise

#: the kinds a place name may have as an actor
PLACE_KINDS = frozenset({"government", "armed_group"})


def not_places(mentions: list[tuple[Any, Any]], places: frozenset[str] | None) -> tuple[list[tuple[Any, Any]], list[str]]:
    """The actor drafts (with their evidence) without those whose name is only a place or a
    nationality and whose kind is not in PLACE_KINDS, and a note naming the dropped ones."""
    if not places:
        return mentions, []
    kept = [m for m in mentions if m[0].kind in PLACE_KINDS or normalise(m[0].name) not in places]
    dropped = [m[0].name for m in mentions if m not in kept]
    return kept, ([f"dropped {len(dropped)} actor(s) named only as a place or nationality: {', '.join(dropped)}"] if dropped else [])
