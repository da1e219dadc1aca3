"""grounding.locate: exact, normalised and fuzzy spans, always exact offsets into the text."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from extractor.text.grounding import MIN_QUOTE_CHARS, is_grounded, locate
from extractor.schemas import Evidence

TEXT = (
    "DAMASCUS, Dec 9 (AFP) - Local officials said the army attacked the town of Idlib on Sunday, "
    "killing twelve people and wounding dozens more.  The  Syrian Observatory said \u201crebels\u201d "
    "had withdrawn from the\nnorthern  districts overnight."
)


def assert_exact(evidence: Evidence | None, text: str) -> Evidence:
    assert evidence is not None
    assert 0 <= evidence.start <= evidence.end <= len(text)
    assert text[evidence.start : evidence.end] == evidence.quote
    return evidence


# ---------------------------------------------------------------- the four cases


def test_exact_substring() -> None:
    quote = "the army attacked the town of Idlib on Sunday"
    evidence = assert_exact(locate(quote, TEXT), TEXT)
    assert evidence.quote == quote
    assert evidence.start == TEXT.index(quote)


def test_exact_quote_is_stripped() -> None:
    evidence = assert_exact(locate("   killing twelve people \n", TEXT), TEXT)
    assert evidence.quote == "killing twelve people"


def test_collapsed_whitespace_maps_back_to_original_spacing() -> None:
    # the text has double spaces and a line break; the model collapsed them
    evidence = assert_exact(locate("The Syrian Observatory said", TEXT), TEXT)
    assert evidence.quote == "The  Syrian Observatory said"
    evidence = assert_exact(locate("withdrawn from the northern districts overnight.", TEXT), TEXT)
    assert evidence.quote == "withdrawn from the\nnorthern  districts overnight."


def test_straight_quotes_match_curly_quotes() -> None:
    evidence = assert_exact(locate('said "rebels" had withdrawn', TEXT), TEXT)
    assert evidence.quote == "said \u201crebels\u201d had withdrawn"


def test_case_difference_is_normalised() -> None:
    evidence = assert_exact(locate("LOCAL OFFICIALS SAID THE ARMY", TEXT), TEXT)
    assert evidence.quote == "Local officials said the army"
    assert evidence.start == TEXT.index("Local officials")


def test_fuzzy_match_with_a_dropped_word() -> None:
    quote = "said the army attacked the town of Idlib Sunday, killing twelve people"  # "on" dropped
    assert quote not in TEXT
    evidence = assert_exact(locate(quote, TEXT), TEXT)
    sentence_start = TEXT.index("Local officials")
    sentence_end = TEXT.index("dozens more.") + len("dozens more.")
    assert sentence_start <= evidence.start and evidence.end <= sentence_end
    assert "army attacked the town of Idlib" in evidence.quote
    assert "twelve people" in evidence.quote


def test_fuzzy_span_is_snapped_to_word_boundaries() -> None:
    quote = "officials said the army attacked the town of Idlib Sunday killing twelve"
    evidence = assert_exact(locate(quote, TEXT), TEXT)
    before = TEXT[evidence.start - 1] if evidence.start > 0 else " "
    after = TEXT[evidence.end] if evidence.end < len(TEXT) else " "
    assert not (before.isalnum() and evidence.quote[0].isalnum())
    assert not (after.isalnum() and evidence.quote[-1].isalnum())
    assert evidence.quote == evidence.quote.strip()


@pytest.mark.parametrize(
    "quote",
    [
        "Government forces shelled the port city of Latakia on Friday.",
        "completely unrelated sentence about the weather in Oslo",
        "Idlib Idlib Idlib Idlib Idlib Idlib",
    ],
)
def test_not_found(quote: str) -> None:
    assert locate(quote, TEXT) is None


def test_short_normalised_quote_is_never_fuzzy_matched() -> None:
    # "armi" is close to "army" but under 12 characters: no fuzzy match
    assert locate("the armi", TEXT) is None


@pytest.mark.parametrize("quote", ["", "  ", "ab", " a ", None])
def test_too_short_quote_returns_none(quote: str | None) -> None:
    assert locate(quote, TEXT) is None  # type: ignore[arg-type]


def test_min_quote_chars_boundary() -> None:
    text = "The UN said so."
    assert MIN_QUOTE_CHARS == 3
    assert locate("UN", text) is None
    assert locate(" UN \n", text) is None
    assert locate("The", text) == Evidence(quote="The", start=0, end=3)


def test_empty_text_returns_none() -> None:
    assert locate("the army attacked", "") is None


def test_base_offset_is_added() -> None:
    document = "Header line.\n" + TEXT
    chunk_start = document.index(TEXT)
    chunk = document[chunk_start:]
    for quote in ("killing twelve people", 'said "rebels" had', "LOCAL OFFICIALS SAID"):
        local = assert_exact(locate(quote, chunk), chunk)
        shifted = locate(quote, chunk, base=chunk_start)
        assert shifted is not None
        assert (shifted.start, shifted.end) == (local.start + chunk_start, local.end + chunk_start)
        assert document[shifted.start : shifted.end] == shifted.quote
        assert is_grounded(shifted, document)
        assert not is_grounded(shifted, chunk)


def test_is_grounded() -> None:
    evidence = locate("the town of Idlib", TEXT)
    assert is_grounded(evidence, TEXT)
    assert not is_grounded(None, TEXT)
    assert not is_grounded(Evidence(quote="the town of Idlib", start=0, end=17), TEXT)


# ---------------------------------------------------------------- Evidence model


def test_evidence_rejects_span_of_other_length() -> None:
    with pytest.raises(ValidationError, match="span length differs"):
        Evidence(quote="abc", start=0, end=4)
    with pytest.raises(ValidationError):
        Evidence(quote="abc", start=5, end=2)
    with pytest.raises(ValidationError):
        Evidence(quote="", start=0, end=0)
    with pytest.raises(ValidationError):
        Evidence(quote="abc", start=-1, end=2)
    assert Evidence(quote="abc", start=7, end=10).holds_in("0123456abc")


# ---------------------------------------------------------------- properties

_ALPHABET = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;-'\"")
    + [" ", " ", " ", "  ", "\n", "\t", "\u00a0", "\u2019", "\u2018", "\u201c", "\u201d", "\u2014", "\u00e9", "\u0130"]
)
_texts = st.lists(_ALPHABET, min_size=3, max_size=300).map("".join)
_CURLY = str.maketrans({"'": "\u2019", '"': "\u201d", "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def _collapse(value: str) -> str:
    return re.sub(r"\s+", " ", value)


@st.composite
def text_and_quote(draw):
    text = draw(_texts)
    start = draw(st.integers(0, len(text) - 3))
    end = draw(st.integers(start + 3, len(text)))
    sub = text[start:end]
    variant = draw(st.sampled_from(["verbatim", "collapse", "curly", "both", "upper"]))
    if variant in ("collapse", "both"):
        sub = _collapse(sub)
    if variant in ("curly", "both"):
        sub = sub.translate(_CURLY)
    if variant == "upper":
        sub = sub.upper()
    return text, sub


@settings(max_examples=300, deadline=None)
@given(text_and_quote(), st.integers(0, 10_000))
@example(("The  army\n said \u201cso\u201d.", 'army said "so"'), 0)
@example(("x\u00a0\u00a0y said", "x y said"), 5)
@example(("a \u0130stanbul b", "\u0130STANBUL"), 0)
def test_property_variant_of_a_substring_is_found_exactly(pair: tuple[str, str], base: int) -> None:
    """Any substring of >= 3 characters, with whitespace runs collapsed, quote characters
    swapped or upper-cased, is found, and the span is exact and within bounds."""
    text, quote = pair
    assume(len(quote.strip()) >= MIN_QUOTE_CHARS)
    evidence = locate(quote, text, base=base)
    assert evidence is not None, (quote, text)
    assert base <= evidence.start < evidence.end <= base + len(text)
    assert text[evidence.start - base : evidence.end - base] == evidence.quote
    assert evidence.end - evidence.start == len(evidence.quote)


@settings(max_examples=200, deadline=None)
@given(_texts, st.text(min_size=0, max_size=80), st.integers(0, 50))
def test_property_any_quote_any_text_never_breaks_invariants(text: str, quote: str, base: int) -> None:
    evidence = locate(quote, text, base=base)
    if evidence is not None:
        assert base <= evidence.start < evidence.end <= base + len(text)
        assert text[evidence.start - base : evidence.end - base] == evidence.quote


def test_whole_word_refuses_a_name_inside_a_longer_word() -> None:
    text = "Syrian troops withdrew. Later, officials in Syria confirmed it."
    evidence = locate("Syria", text, whole_word=True)
    assert evidence is not None and evidence.start == text.index("Syria confirmed")
    assert locate("Syria", "Syrian troops withdrew.", whole_word=True) is None
    assert locate("Syria", "Syrian troops withdrew.") is not None  # quotes keep substring matching


def test_whole_word_holds_after_normalisation_and_allows_punctuation() -> None:
    assert locate("islamic state", "Fighters of the Islamic State's wing.", whole_word=True) is not None
    assert locate("RSF", "the (RSF) said", whole_word=True) is not None
    assert locate("al-Shabaab", "Al-Shabaab fighters", whole_word=True) is not None
    assert locate("Kone", "Amadou Konevent", whole_word=True) is None


def test_actor_name_evidence_is_whole_word() -> None:
    from extractor.llm.drafts import ActorDraft, EventDraft, ground

    text = "Syrian army units were ambushed near Palmyra."
    assert ground(ActorDraft(name="Syria", kind="government", aliases=[]), text) is None
    assert ground(ActorDraft(name="Syria", kind="government", aliases=["Syrian army"]), text) is not None
    quote = "Syrian army units were ambushed near Palmyra."
    event = EventDraft(quote=quote, type="battle")
    assert ground(event, text) is not None
