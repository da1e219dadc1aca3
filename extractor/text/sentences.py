"""Numbered sentences: the article as the v3 prompts show it, and the spans the ids stand for.

A small model copies quotes badly and every copied token costs generation time. So the v3
prompts show the chunk one sentence per line, each prefixed with its number ("[3] ..."), and
records cite numbers; the pipeline maps a number back to the sentence's exact span, so
evidence is grounded by construction. The split must be deterministic (the same chunk text
always gives the same numbering, or a cached answer would point at other sentences) and must
not cut at the periods of abbreviations and initials ("U.S.", "Dr.", "No. 17").
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache

# A sentence ends at . ! ? (closing quotes/brackets kept with it) before whitespace, or at a
# line break (headlines, datelines and list items have no final period).
#: a sentence's closing punctuation, closing quotes and brackets kept with it
_CLOSING = r"""[.!?]["'\u201d\u2019)\]]*"""
_END = re.compile(_CLOSING + r"(?=\s)|\n")
_ENDS_WITH_CLOSING = re.compile(_CLOSING + "$")
#: what `numbered` shows instead of a withheld sentence
WITHHELD = "[withheld]"
_NUMBERED_LINE = re.compile(r"^\[(\d+)\] (.*)$")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof rev gen lt col maj capt sgt cpl adm cmdr gov sen rep st jr sr no nos vs etc inc ltd "
    "co corp dept approx est fig jan feb mar apr jun jul aug sep sept oct nov dec mt ft e.o u.s u.k u.n "
    "e.u s.a c.v r.l".split()
)
_WORD_BEFORE = re.compile(r"([\w.]+)$")


def _is_abbreviation(text: str, period: int) -> bool:
    """True when the period at `period` ends an abbreviation or an initial, not a sentence."""
    match = _WORD_BEFORE.search(text, 0, period)
    if match is None:
        return False
    word = match.group(1).lower().strip(".")
    if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return True
    if re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):  # initials such as u.s.a or s.p.r
        return True
    following = text[period + 1 : period + 3].lstrip()
    return (
        bool(following) and following[0].islower()
    )  # "approx. five", not a new sentence


@lru_cache(maxsize=256)
def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of every sentence and headline line of `text`, surrounding whitespace excluded."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        if match.group().startswith(".") and _is_abbreviation(text, match.start()):
            continue
        end = match.end() if match.group() != "\n" else match.start()
        spans.append((start, end))
        start = match.end()
    spans.append((start, len(text)))
    trimmed = []
    for a, b in spans:
        piece = text[a:b]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            trimmed.append((a + lead, a + len(piece.rstrip())))
    return tuple(trimmed)


def numbered(
    text: str, hidden: list[tuple[int, int]] | None = None, marker: str = WITHHELD
) -> str:
    """`text` one sentence per line as "[n] sentence"; a sentence overlapping a `hidden` span
    (a withheld passage) is shown as `marker`, so the numbering stays that of `text`."""
    hidden = hidden or []
    lines = []
    for number, (start, end) in enumerate(sentence_spans(text), 1):
        shown = (
            marker
            if any(start < h_end and h_start < end for h_start, h_end in hidden)
            else text[start:end]
        )
        lines.append(f"[{number}] {' '.join(shown.split())}")
    return "\n".join(lines)


def sentence(text: str, number: int) -> tuple[int, int] | None:
    """The span of sentence `number` (1-based) of `text`, or None when there is no such sentence."""
    spans = sentence_spans(text)
    return (
        spans[number - 1]
        if isinstance(number, int) and 1 <= number <= len(spans)
        else None
    )


def numbered_lines(shown: str) -> dict[int, str]:
    """The sentences of a `numbered` text (or an excerpt of one) by their numbers."""
    return {int(m[1]): m[2] for line in shown.splitlines() if (m := _NUMBERED_LINE.match(line))}


def excerpt(shown: str, numbers: set[int] | list[int]) -> str:
    """The lines of a `numbered` text whose sentence numbers are in `numbers`, as shown."""
    wanted = set(numbers)
    return "\n".join(line for line in shown.splitlines() if (m := _NUMBERED_LINE.match(line)) and int(m[1]) in wanted)


def ends_a_sentence(text: str) -> bool:
    """Whether `text` ends with a sentence's closing punctuation (a headline or a dateline
    line does not)."""
    return _ENDS_WITH_CLOSING.search(text) is not None


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def paragraphs(text: str) -> list[list[int]]:
    """The 1-based numbers of `text`'s sentences grouped by paragraph (blank-line separated),
    in order; every sentence is in exactly one group."""
    breaks = [m.start() for m in _PARAGRAPH_BREAK.finditer(text)]
    groups: list[list[int]] = []
    last = -1
    for number, (start, _end) in enumerate(sentence_spans(text), 1):
        paragraph = bisect.bisect_left(breaks, start)
        if paragraph != last:
            groups.append([])
            last = paragraph
        groups[-1].append(number)
    return groups
