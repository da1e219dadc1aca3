"""Resolve the dates a model copies from an article ("Sunday", "March 3", "2024-12-08")
to ISO dates, against the article's publication date when one is known.

Only unambiguous cases are resolved; anything else gives None (the phrase is kept as
`date_text`). A weekday means the most recent such day on or before publication.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))

_ISO_DAY = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")  # also inside "2024-12-09T10:00Z"
_ISO_MONTH = re.compile(r"^\s*(\d{4})-(\d{2})\s*$")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\.?(?:,?\s+(\d{{4}}))?\b", re.I)
_MONTH_DAY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.I)
_MONTH_YEAR = re.compile(rf"^\s*(?:in\s+)?({_MONTH_RE})\.?\s+(\d{{4}})\s*$", re.I)


def parse_published(value: str | date | None) -> date | None:
    """A publication date from YYYY-MM-DD (or a date), None when it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if value is None or isinstance(value, date):
        return value
    match = _ISO_DAY.search(value)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _infer_year(month: int, day: int, published: date | None) -> date | None:
    if published is None:
        return None
    # The latest such date no more than a week after publication ("January 2" in an article
    # of December 30 is the coming one; "December 30" in one of January 2 the past one).
    latest = published + timedelta(days=7)
    for year in (published.year + 1, published.year, published.year - 1):
        candidate = _safe(year, month, day)
        if candidate and candidate <= latest:
            return candidate
    return None


def resolve_date(text: str | None, published: str | date | None = None) -> str | None:
    """Return YYYY-MM-DD or YYYY-MM for `text`, or None when it cannot be resolved safely
    (a relative date that would fall before year 1 is None, not an error)."""
    try:
        return _resolve(text, published)
    except OverflowError:  # e.g. "yesterday" with --published 0001-01-01
        return None


def _resolve(text: str | None, published: str | date | None) -> str | None:
    if not text or not text.strip():
        return None
    pub = parse_published(published)
    phrase = text.strip().lower()

    if match := _ISO_DAY.search(phrase):
        found = _safe(int(match[1]), int(match[2]), int(match[3]))
        return found.isoformat() if found else None
    if match := _ISO_MONTH.match(phrase):
        return f"{match[1]}-{match[2]}" if 1 <= int(match[2]) <= 12 else None
    for pattern, day_group, month_group in ((_DAY_MONTH, 1, 2), (_MONTH_DAY, 2, 1)):
        if match := pattern.search(phrase):
            month, day = _MONTHS[match[month_group].lower()], int(match[day_group])
            found = _safe(int(match[3]), month, day) if match[3] else _infer_year(month, day, pub)
            return found.isoformat() if found else None
    if match := _MONTH_YEAR.match(phrase):
        return f"{int(match[2]):04d}-{_MONTHS[match[1].lower()]:02d}"

    if pub is None:
        return None
    if re.search(r"\b(today|this morning|this afternoon|this evening|tonight)\b", phrase):
        return pub.isoformat()
    if re.search(r"\b(yesterday|last night)\b", phrase):
        return (pub - timedelta(days=1)).isoformat()
    for number, weekday in enumerate(_WEEKDAYS):
        if re.search(rf"\b{weekday}\b", phrase):
            back = (pub.weekday() - number) % 7
            if "last week" in phrase:
                # the named day of the previous (Monday-start) calendar week
                back = pub.weekday() - number + 7
            elif re.search(rf"\blast\s+{weekday}\b", phrase) and back == 0:
                back += 7
            return (pub - timedelta(days=back)).isoformat()
    return None


_DAY_WORD = re.compile(
    rf"\b(?:{'|'.join(_WEEKDAYS)}|yesterday|today|tonight|overnight|last\s+night|this\s+(?:morning|afternoon|evening))\b",
    re.IGNORECASE,
)
# Month names capitalised, as news writes them ("May 5", "3 Nov."), so "may 5 times" is no date.
_CAPITAL_MONTHS = "|".join(name.capitalize() for name in sorted(_MONTHS, key=len, reverse=True))
_NAMED_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_CAPITAL_MONTHS})|(?:{_CAPITAL_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?)\b"
)


def names_a_day(text: str) -> bool:
    """Whether `text` names a particular recent day: a weekday, "yesterday", "last night", a
    month and day number. News tells a new incident with its day; background with a year."""
    return _DAY_WORD.search(text) is not None or _NAMED_DATE.search(text) is not None
