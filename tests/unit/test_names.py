"""The pipeline's name normaliser and the scorer's are two on purpose; this pins how they differ.

The pipeline (`extractor.text.names.normalise`) turns punctuation into spaces, so "al-Sham"
keeps two words and the "al" article can be dropped when names are compared word by word.
The scorer (`extractor.eval.names.normalize_name`, the eval-set contract's rule) deletes
punctuation, so "al-Sham" becomes one word. Both agree on case, accents, apostrophes and a
leading "the". A change to either side that moves one of these rows fails here and must be
a decision, not an accident.
"""

from __future__ import annotations

import pytest

from extractor.eval.names import normalize_name
from extractor.text.names import normalise

AGREE = ["The Islamic State", "Côte d’Ivoire", "HTS", "  Syrian   Observatory  "]
DIFFER = {
    # name: (pipeline, scorer)
    "Hayat Tahrir al-Sham": ("hayat tahrir al sham", "hayat tahrir alsham"),
    "U.S. Treasury": ("u s treasury", "us treasury"),
    "Al-Qaeda": ("al qaeda", "alqaeda"),
}


@pytest.mark.parametrize("name", AGREE)
def test_the_normalisers_agree_on_case_accents_and_a_leading_the(name: str) -> None:
    assert normalise(name) == normalize_name(name)


@pytest.mark.parametrize("name", sorted(DIFFER))
def test_the_normalisers_differ_on_punctuation_inside_names(name: str) -> None:
    pipeline, scorer = DIFFER[name]
    assert normalise(name) == pipeline
    assert normalize_name(name) == scorer
