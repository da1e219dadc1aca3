"""Sentence-aware chunking with overlap, for articles longer than the model's budget.

Chunks are contiguous slices of the original text (`text[chunk.start:chunk.end]`), so an
offset found inside a chunk maps back to the document by adding `chunk.start`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace,
# or at a blank line / line break (headlines and datelines have no final period).
# The closing quotes/brackets stay with their sentence: a span ends where group 1 or 2 starts.
_SENTENCE_END = re.compile(r"""[.!?]["'\u201d\u2019)\]]*(\s+)|(\n+)""")


@dataclass(frozen=True)
class Chunk:
    """A span of the article the model reads at once (with its offset in the full text)."""
    index: int
    start: int
    end: int
    text: str


def approx_tokens(text: str) -> int:
    """A conservative token estimate for English news text (about 4 characters a token)."""
    return max(1, (len(text) + 3) // 4)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of sentences (and headline lines) in `text`, whitespace excluded."""
    spans: list[tuple[int, int]] = []
    position = 0
    for match in _SENTENCE_END.finditer(text):
        gap = match.start(1) if match.group(1) is not None else match.start(2)
        if gap > position:
            spans.append((position, gap))
        position = match.end()
    if position < len(text):
        spans.append((position, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _split_long_sentence(start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    pieces = []
    while end - start > max_chars:
        pieces.append((start, start + max_chars))
        start += max_chars
    pieces.append((start, end))
    return pieces


def _fit_budget(
    text: str, start: int, end: int, max_tokens: int, count_tokens: Callable[[str], int]
) -> list[tuple[int, int]]:
    """Halve a piece until each part is within `max_tokens` by `count_tokens` (the character
    cut above assumes ~3 characters a token, which a real tokenizer or a small budget breaks)."""
    if end - start <= 1 or count_tokens(text[start:end]) <= max_tokens:
        return [(start, end)]
    middle = (start + end) // 2
    return _fit_budget(text, start, middle, max_tokens, count_tokens) + _fit_budget(
        text, middle, end, max_tokens, count_tokens
    )


def chunk_text(
    text: str,
    *,
    max_tokens: int,
    overlap_tokens: int = 120,
    count_tokens: Callable[[str], int] = approx_tokens,
) -> list[Chunk]:
    """Split `text` into chunks of at most `max_tokens`, each starting with up to
    `overlap_tokens` of the previous chunk's last sentences. A text that fits is one chunk."""
    if max_tokens <= 0:
        raise ValueError("max_tokens must be positive")
    if count_tokens(text) <= max_tokens:
        return [Chunk(0, 0, len(text), text)]

    spans: list[tuple[int, int]] = []
    max_chars = max(200, max_tokens * 3)
    for start, end in sentence_spans(text):
        for piece_start, piece_end in _split_long_sentence(start, end, max_chars):
            spans.extend(
                (s, e)
                for s, e in _fit_budget(text, piece_start, piece_end, max_tokens, count_tokens)
                if text[s:e].strip()
            )

    chunks: list[Chunk] = []
    first = 0
    while first < len(spans):
        last = first
        while last + 1 < len(spans) and count_tokens(text[spans[first][0] : spans[last + 1][1]]) <= max_tokens:
            last += 1
        start, end = spans[first][0], spans[last][1]
        chunks.append(Chunk(len(chunks), start, end, text[start:end]))
        if last + 1 >= len(spans):
            break
        # Next chunk starts a few sentences back, for overlap, but always moves forward.
        # The overlap must leave room for the next new sentence, or the next chunk would end
        # where this one does (a redundant model call).
        next_first = last + 1
        while (
            next_first - 1 > first
            and count_tokens(text[spans[next_first - 1][0] : end]) <= overlap_tokens
            and count_tokens(text[spans[next_first - 1][0] : spans[last + 1][1]]) <= max_tokens
        ):
            next_first -= 1
        first = next_first
    return chunks
