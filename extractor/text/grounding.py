"""Grounding: find a model's quote in the source text and return an exact span.

The model is asked to copy a sentence verbatim; small models drift (collapsed whitespace,
straight vs curly quotes, a changed letter case, a dropped word). `locate` finds the span
in three steps, from strict to lenient, and always returns offsets into the *original*
text with `quote == text[start:end]`:

1. exact substring;
2. the same after normalising whitespace, quote characters and letter case;
3. fuzzy alignment (rapidfuzz `partial_ratio_alignment`) at or above `FUZZY_MIN_SCORE`,
   snapped outwards to word boundaries.

A quote that none of these find is ungrounded: the caller re-asks, then drops or flags it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from extractor.schemas import Evidence

FUZZY_MIN_SCORE = 90.0
MIN_QUOTE_CHARS = 3

_CHAR_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)


@dataclass(frozen=True)
class _Normalised:
    text: str
    offsets: list[int]  # offsets[i] = index in the original text of normalised char i


def _normalise(text: str) -> _Normalised:
    """Collapse whitespace runs to one space, unify quote/dash characters, lower-case.

    Every output character maps to exactly one input character, so spans map back.
    """
    out: list[str] = []
    offsets: list[int] = []
    previous_space = False
    for index, char in enumerate(text):
        if char.isspace():
            if previous_space or not out:
                continue
            out.append(" ")
            offsets.append(index)
            previous_space = True
            continue
        previous_space = False
        mapped = char.translate(_CHAR_MAP)
        lowered = mapped.lower()
        out.append(lowered if len(lowered) == 1 else mapped)
        offsets.append(index)
    if out and out[-1] == " ":
        out.pop()
        offsets.pop()
    return _Normalised("".join(out), offsets)


def _span_to_original(norm: _Normalised, start: int, end: int) -> tuple[int, int]:
    return norm.offsets[start], norm.offsets[end - 1] + 1


def _snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a fuzzy span so it neither starts nor ends inside a word."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _find(needle: str, haystack: str, whole_word: bool) -> int:
    """First index of `needle` in `haystack`; with `whole_word`, only an occurrence that
    neither starts nor ends inside a word ("Syria" is not in "Syrians")."""
    found = haystack.find(needle)
    if not whole_word:
        return found
    while found >= 0:
        end = found + len(needle)
        starts_clean = found == 0 or not (haystack[found - 1].isalnum() and needle[0].isalnum())
        ends_clean = end == len(haystack) or not (haystack[end].isalnum() and needle[-1].isalnum())
        if starts_clean and ends_clean:
            return found
        found = haystack.find(needle, found + 1)
    return -1


def locate(quote: str, text: str, *, base: int = 0, whole_word: bool = False) -> Evidence | None:
    """Return the exact evidence span for `quote` in `text`, or None when it is not there.

    `base` is added to the offsets (use it when `text` is a chunk of a larger document).
    `whole_word` (for names) refuses a match that starts or ends inside a word of the text.
    """
    quote = (quote or "").strip()
    if len(quote) < MIN_QUOTE_CHARS or not text:
        return None

    found = _find(quote, text, whole_word)
    if found >= 0:
        return Evidence(quote=quote, start=base + found, end=base + found + len(quote))

    norm_text = _normalise(text)
    norm_quote = _normalise(quote).text
    if not norm_quote or not norm_text.text:
        return None
    found = _find(norm_quote, norm_text.text, whole_word)
    if found >= 0:
        start, end = _span_to_original(norm_text, found, found + len(norm_quote))
        return Evidence(quote=text[start:end], start=base + start, end=base + end)

    if len(norm_quote) < 12:  # too short for a fuzzy match to mean anything
        return None
    alignment = fuzz.partial_ratio_alignment(norm_quote, norm_text.text, score_cutoff=FUZZY_MIN_SCORE)
    if alignment is None or alignment.dest_end <= alignment.dest_start:
        return None
    start, end = _span_to_original(norm_text, alignment.dest_start, alignment.dest_end)
    start, end = _snap_to_words(text, start, end)
    if end <= start:
        return None
    return Evidence(quote=text[start:end], start=base + start, end=base + end)


def is_grounded(evidence: Evidence | None, text: str) -> bool:
    """True when the evidence's offsets hold its quote in `text`."""
    return evidence is not None and evidence.holds_in(text)
