"""chunking.chunk_text: contiguous, overlapping, budget-respecting, sentence-aware chunks."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.text.chunking import Chunk, approx_tokens, chunk_text, sentence_spans

WORDS = (
    "army rebels town attack said officials killed province government forces village "
    "militia drone strike residents fled police protest ceasefire talks border"
).split()


def make_article(sentences: int = 300, seed: int = 7) -> tuple[str, list[str]]:
    rnd = random.Random(seed)
    out = []
    for number in range(sentences):
        body = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(6, 14)))
        out.append(f"Sentence {number} says {body}{rnd.choice('.!?')}")
    return " ".join(out), out


def word_tokens(text: str) -> int:
    return max(1, len(text.split()))


def char_tokens(text: str) -> int:  # one token a character: a tokenizer much finer than approx_tokens
    return max(1, len(text))


def check_chunks(text: str, chunks: list[Chunk], max_tokens: int, count=approx_tokens) -> None:
    assert chunks, "no chunks"
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert chunk.text == text[chunk.start : chunk.end]
        assert count(chunk.text) <= max_tokens, (chunk.index, count(chunk.text), max_tokens)
    for previous, current in zip(chunks, chunks[1:]):
        assert current.start > previous.start, "chunk starts must move forward"
        assert current.end > previous.end, "a chunk adds nothing new (redundant model call)"
        assert not text[previous.end : current.start].strip(), "text lost between chunks"


def covered(chunks: list[Chunk], start: int, end: int) -> bool:
    return any(c.start <= start and end <= c.end for c in chunks)


def test_short_text_is_one_chunk() -> None:
    text = "Gunmen killed 12 people in Dioura on Sunday. The army said it would respond."
    assert chunk_text(text, max_tokens=500) == [Chunk(0, 0, len(text), text)]


def test_text_exactly_at_budget_is_one_chunk() -> None:
    text = "x" * 400  # 100 approx tokens
    assert approx_tokens(text) == 100
    assert len(chunk_text(text, max_tokens=100)) == 1
    assert len(chunk_text(text + " y.", max_tokens=100)) > 1


def test_non_positive_budget_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_text("some text", max_tokens=0)


def test_long_article_gives_overlapping_chunks_within_budget() -> None:
    text, sentences = make_article()
    assert len(text.split()) >= 3000
    max_tokens, overlap = 500, 60
    chunks = chunk_text(text, max_tokens=max_tokens, overlap_tokens=overlap)
    assert len(chunks) >= 5
    check_chunks(text, chunks, max_tokens)
    # consecutive chunks overlap by a few whole sentences, never more than the overlap budget
    for previous, current in zip(chunks, chunks[1:]):
        assert current.start < previous.end, (previous, current)
        shared = text[current.start : previous.end]
        assert approx_tokens(shared) <= overlap
        assert shared.startswith("Sentence ")
    # every sentence lies whole inside at least one chunk
    position = 0
    for sentence in sentences:
        start = text.index(sentence, position)
        position = start + len(sentence)
        assert covered(chunks, start, position), sentence
    # chunks begin at sentence starts
    starts = {s for s, _ in sentence_spans(text)}
    assert all(c.start in starts for c in chunks)


def test_no_overlap_when_overlap_budget_is_zero() -> None:
    text, _ = make_article(120)
    chunks = chunk_text(text, max_tokens=300, overlap_tokens=0)
    assert len(chunks) > 1
    for previous, current in zip(chunks, chunks[1:]):
        assert current.start >= previous.end


def test_custom_token_counter_is_respected() -> None:
    text, _ = make_article(200)
    chunks = chunk_text(text, max_tokens=250, overlap_tokens=40, count_tokens=word_tokens)
    assert len(chunks) > 1
    check_chunks(text, chunks, 250, word_tokens)


def test_giant_sentence_is_split() -> None:
    text = "The convoy " + "moved slowly along the road " * 400 + "and arrived."
    assert len(sentence_spans(text)) == 1
    chunks = chunk_text(text, max_tokens=100, overlap_tokens=20)
    assert len(chunks) > 10
    check_chunks(text, chunks, 100)
    # nothing lost: the chunks tile the whole sentence
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_giant_sentence_respects_small_budget_and_fine_tokenizer() -> None:
    text = "word " * 600 + "end."
    for max_tokens, count in ((10, approx_tokens), (40, approx_tokens), (120, char_tokens)):
        chunks = chunk_text(text, max_tokens=max_tokens, overlap_tokens=5, count_tokens=count)
        check_chunks(text, chunks, max_tokens, count)
        assert covered(chunks, len(text) - 4, len(text))


def test_headlines_without_periods_are_sentences() -> None:
    text = "SYRIA: REBELS ADVANCE\n\nDAMASCUS (AFP)\nRebels entered the city. Residents fled!"
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == ["SYRIA: REBELS ADVANCE", "DAMASCUS (AFP)", "Rebels entered the city.", "Residents fled!"]


def test_sentence_end_keeps_closing_quote() -> None:
    text = 'He said "we will fight." Then he left.'
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == ['He said "we will fight."', "Then he left."]


def test_whitespace_only_text_over_budget_gives_no_chunks() -> None:
    assert chunk_text(" " * 2000, max_tokens=10) == []


@settings(max_examples=60, deadline=None)
@given(
    sentences=st.integers(20, 200),
    seed=st.integers(0, 10_000),
    max_tokens=st.integers(8, 600),
    overlap_tokens=st.integers(0, 200),
    counter=st.sampled_from([approx_tokens, word_tokens, char_tokens]),
)
def test_property_chunks_over_budgets(sentences, seed, max_tokens, overlap_tokens, counter) -> None:
    text, _ = make_article(sentences, seed)
    chunks = chunk_text(text, max_tokens=max_tokens, overlap_tokens=overlap_tokens, count_tokens=counter)
    if counter(text) <= max_tokens:
        assert len(chunks) == 1
    check_chunks(text, chunks, max_tokens, counter)
    # every non-space character of the text is in some chunk
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
