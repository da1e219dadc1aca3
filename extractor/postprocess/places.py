"""Places are not actors: an actor whose name the tagger knows only as a place or a
nationality is dropped, unless the model typed it a government or an armed group.

Shown the tagger's candidate names, a small model keeps most of them, and gives a town, a
province or "Syrian" a kind (state forces, other) rather than leaving it out. A country
acting as a state ("Russia imposed...", "the United States designated...") is an actor, and
the model types those as governments, so that kind is kept. So is an armed group: groups are
often named after a people or a place, and the tagger errs on such names (it tags "M23" as a
place and "Wazalendo" as a nationality). The names the tagger tags only as places or
nationalities come from `text.entities.labels_by_name`; without the tagger, or on a text that is
not English, nothing is dropped.

The model's last resort, the kind `other`, is where it puts most of the places the tagger does
not tag as places ("Gezira state", "Maqbana district", "Luneta park"): an actor it could only
type `other` is kept when the tagger calls one of its names a person or an organisation.
"""

from __future__ import annotations

from typing import Any

from extractor.text.names import normalise

#: the kinds a place name may have as an actor
PLACE_KINDS = frozenset({"government", "armed_group"})
#: labels of places and nationalities: a name tagged only with these is not an actor by itself
PLACE_LABELS = frozenset({"GPE", "LOC", "NORP", "FAC"})
#: labels that vouch for an actor the model could only type `other`
VOUCHING_LABELS = frozenset({"PERSON", "ORG"})


def is_place(draft: Any, labels: dict[str, frozenset[str]]) -> bool:
    """True when the tagger knows the draft's name only as a place or nationality and the
    model typed it neither a government nor an armed group, or when the model could only type
    it `other` and the tagger calls none of its names a person or an organisation."""
    found = labels.get(normalise(draft.name))
    if found and found <= PLACE_LABELS and draft.kind not in PLACE_KINDS:
        return True
    return draft.kind == "other" and not any(labels.get(normalise(n), frozenset()) & VOUCHING_LABELS for n in draft.anchors())


def not_places(mentions: list[tuple[Any, Any]], labels: dict[str, frozenset[str]] | None) -> tuple[list[tuple[Any, Any]], list[str]]:
    """The actor drafts (with their evidence) without the places (`is_place`), and a note
    naming the dropped ones. Without the tagger's labels nothing is dropped."""
    if labels is None:
        return mentions, []
    kept, dropped = [], []
    for mention in mentions:
        if is_place(mention[0], labels):
            dropped.append(mention[0].name)
        else:
            kept.append(mention)
    return kept, ([f"dropped {len(dropped)} actor(s) the name tagger takes for places: {', '.join(dropped)}"] if dropped else [])
