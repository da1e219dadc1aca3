"""Name normalisation for the pipeline: the one normaliser that actor merging, reference
rewriting and participant matching share.

`normalise` folds case, accents and punctuation and drops a leading "the", so "The U.S.
Treasury" and "us treasury" compare equal. The eval scorer has its own normaliser on
purpose (`extractor.eval.scoring.normalize_name`): the measuring stick must not move when the
pipeline changes; `tests/unit/test_names.py` pins where the two differ.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from rapidfuzz import fuzz

#: two spellings of one name (after `normalise`) are the same when rapidfuzz's ratio is at
#: least this: used to accept a grounded near-match of a participant name and to prefer the
#: article's own spelling of an actor
SAME_SPELLING_MIN_RATIO = 85

_PUNCT = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")
_ARTICLES = {"the", "al", "el", "ad", "as", "an", "ar", "at", "az"}


@lru_cache(maxsize=4096)
def normalise(name: str) -> str:
    """Casefolded, accent-free, punctuation-free, single-spaced, without a leading "the"."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _PUNCT.sub(" ", text.replace("'", "").replace("\u2019", ""))
    text = _SPACE.sub(" ", text).strip()
    if text.startswith("the "):
        text = text[4:]
    return text


def tokens(name: str) -> list[str]:
    """The normalised words of a name without Arabic/English articles ("al", "the")."""
    return [t for t in normalise(name).split() if t not in _ARTICLES]


def acronym(name: str) -> str:
    """Initials of the capitalised words: 'Hayat Tahrir al-Sham' -> 'hts'."""
    words = re.split(r"[\s\-]+", unicodedata.normalize("NFKD", name))
    initials = [w[0] for w in words if w and w[0].isupper()]
    return "".join(initials).casefold() if len(initials) >= 2 else ""


def is_acronym_of(short: str, long: str) -> bool:
    """True when `short` is a one-word acronym of `long` ("HTS" of "Hayat Tahrir al-Sham")."""
    compact = normalise(short).replace(" ", "")
    return 2 <= len(compact) <= 8 and " " not in short.strip() and compact == acronym(long)


def same_spelling(a: str, b: str) -> bool:
    """True when two spellings of a name are close enough to be one (SAME_SPELLING_MIN_RATIO)."""
    return fuzz.ratio(normalise(a), normalise(b)) >= SAME_SPELLING_MIN_RATIO


def ordered_union(lists: Iterable[Iterable[str]]) -> list[str]:
    """Every name of the lists once, in the order first seen (records merged into one keep
    each participant or source once)."""
    return list(dict.fromkeys(name for names in lists for name in names))
