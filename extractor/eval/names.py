"""The scorer's own name matching (the eval-set contract's rules, docs/EVAL_FORMAT.md).

Kept apart from the pipeline's normaliser (`extractor.text.names`) on purpose: the measuring
stick must not move when the pipeline changes. `tests/unit/test_names.py` pins the differences.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from rapidfuzz import fuzz

from extractor.eval.gold import GoldActor

FUZZY_THRESHOLD = 90.0
"""Two normalised names match when rapidfuzz's token_set_ratio is at least this."""


_LEADING_THE = re.compile(r"^the\s+")


def normalize_name(name: str) -> str:
    """Casefold, strip accents, remove punctuation and a leading "the", collapse whitespace."""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(
        char
        for char in text
        if not unicodedata.combining(char) and not unicodedata.category(char).startswith("P")
    )
    text = " ".join(text.split())
    return _LEADING_THE.sub("", text)


def name_similarity(a: str, b: str) -> float:
    """Similarity 0-100 of two already normalised names (100 when equal, 0 when either is empty)."""
    if not a or not b:
        return 0.0
    if a == b:
        return 100.0
    # Just below 100 for unequal names, so that one-to-one matching prefers an exact match over
    # a token-subset match ("Islamic State" vs "Islamic State Mozambique Province" also scores 100).
    return min(fuzz.token_set_ratio(a, b), 99.9)


def _similar(a: str, b: str) -> bool:
    return name_similarity(a, b) >= FUZZY_THRESHOLD


class NameMatcher:
    """Matches names under the contract's rules, knowing the gold actor table of one case.

    Two names match when their normalised forms are equal or fuzzy-similar, or when both refer to
    the same gold actor. A name refers to a gold actor when it matches (equal or fuzzy) the actor's
    name or one of its aliases, so "HTS" matches "Hayat Tahrir al-Sham" when one actor lists both.
    """

    def __init__(self, actors: Sequence[GoldActor]) -> None:
        self._actor_names = [
            tuple(normalize_name(name) for name in actor.names) for actor in actors
        ]

    def refers_to(self, name: str) -> frozenset[int]:
        """Indexes of the gold actors that `name` (raw) names."""
        norm = normalize_name(name)
        return frozenset(
            index
            for index, names in enumerate(self._actor_names)
            if any(_similar(norm, other) for other in names)
        )

    def match(self, a: object, b: object) -> bool:
        """True when two raw names match; non-strings never match."""
        if not isinstance(a, str) or not isinstance(b, str):
            return False
        if _similar(normalize_name(a), normalize_name(b)):
            return True
        return bool(self.refers_to(a) & self.refers_to(b))

    def match_any(self, options: Sequence[str], predicted: object) -> bool:
        """True when the predicted name matches any of the gold options."""
        return any(self.match(option, predicted) for option in options)
