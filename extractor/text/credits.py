"""Bylines and credit lines: the people who wrote, edited or photographed a story are not in it.

A wire story opens with "By NAME and NAME" and a dateline ("PORT SUDAN, Sudan (AP) —") and
closes with "(Reporting by …; Editing by …)"; a web page adds "Images source: …". The names on those lines are the publisher's staff, not
actors of the story (the eval conventions leave them out, as ACLED does), but a name tagger and
a small model both pick them up. A credit line is found by its shape, not by its names: a short
line that starts with "By " and does not end a sentence, a dateline (the words before an
agency in brackets and a dash at the start of a line), a line of "Reporting/Writing/Editing
… by …" (in brackets or not), or a photo/image credit. The patterns are English wire style; on
other conventions nothing is found and nothing changes.
"""

from __future__ import annotations

import re

_BYLINE = re.compile(r"^[ \t]*By[ \t]+[^\W\d_][^\n]{1,118}?(?<![.!?])[ \t]*$", re.MULTILINE)
_CREDIT = re.compile(
    r"^[ \t]*\(?[ \t]*(?:Additional[ \t]+)?(?:Reporting|Writing|Editing|Compiled|Produced|Research|Translation|"
    r"Translated|Written|Edited)[ \t]+by\b[^\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
#: "PORT SUDAN, Sudan (AP) —", "BAMAKO, Oct 14 (Reuters) -": the place, date and agency before the dash
_DATELINE = re.compile(r"^[ \t]*[^\W\d_][^\n()]{0,60}\([A-Z][A-Za-z .-]{1,30}\)(?=[ \t]*[—–-])", re.MULTILINE)
_PICTURE = re.compile(r"^[ \t]*\(?[ \t]*(?:Photos?|Pictures?|Images?)(?:[ \t]+(?:source|credit)s?)?[ \t]*:[^\n]*$", re.IGNORECASE | re.MULTILINE)


def credit_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every byline and credit line of `text`, in text order."""
    spans = {(m.start(), m.end()) for pattern in (_BYLINE, _CREDIT, _DATELINE, _PICTURE) for m in pattern.finditer(text)}
    return sorted(spans)


def mentions(name: str, text: str) -> list[tuple[int, int]]:
    """(start, end) of every whole-word, case-insensitive occurrence of `name` in `text`."""
    name = name.strip()
    if not name:
        return []
    pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


def inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    """True when `span` lies within one of `spans`."""
    return any(start <= span[0] and span[1] <= end for start, end in spans)


def credited_only(names: list[str], text: str, spans: list[tuple[int, int]]) -> bool:
    """True when the names occur in `text` and every occurrence is on a credit line."""
    found = [m for name in names for m in mentions(name, text)]
    return bool(found) and all(inside(m, spans) for m in found)
