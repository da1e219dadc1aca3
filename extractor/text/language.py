"""Is this text English? The pipeline's lexical rules (consistency checks, the event-type and
background rules, candidate gating) read English words; on a text in another language they
would drop or retype correct records, so they step aside unless the text is English.

The test is the share of a text's words that are common English function words: above a
third in ordinary English prose, a few percent in French, Spanish or German (their function
words differ), and zero in a non-Latin script. Words that several languages share ("a",
"on", "en", "die") are left out of the list. A text too short to show its function words (a
bare headline) is not taken for English either: when the rules cannot tell, they step aside.
"""

from __future__ import annotations

import re

_FUNCTION_WORDS = frozenset(
    "the of and to in is was were are that for with as by at from it its this be has have had "
    "been which their they he she his her who will would said says not but or an after about "
    "over into than more also there when while".split()
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
MIN_SHARE = 0.12


def english_share(text: str) -> float:
    """The share of the text's words that are English function words (0 without words)."""
    words = _WORD.findall(text.casefold())
    return sum(word in _FUNCTION_WORDS for word in words) / len(words) if words else 0.0


def is_english(text: str) -> bool:
    """True when enough of the words are English function words for English word lists to judge it."""
    return english_share(text) >= MIN_SHARE
