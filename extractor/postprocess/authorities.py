"""Sanctions authorities as jurisdictions: "U.S. Treasury's OFAC" -> "United States".

An analyst filters sanctions by who imposes them; the office an article names varies
(OFAC, the State Department, Washington), the jurisdiction does not. The article's own
wording is kept beside it (`authority_text`).
"""

from __future__ import annotations

import re

# Sanctions authorities: the jurisdiction behind the office the article names. Acronyms are
# matched case-sensitively ("US", not "us"); a "-led" body (a coalition) is not its leader.
_AUTHORITIES: list[tuple[str, re.Pattern[str], re.Pattern[str]]] = [
    (
        "United Nations",
        re.compile(r"(?<!\w)(?:UN|U\.N\.|UNSC)(?!\w)"),
        re.compile(r"\bunited nations\b|\bsecurity council\b|\bsanctions committee\b", re.IGNORECASE),
    ),
    (
        "European Union",
        re.compile(r"(?<!\w)(?:EU|E\.U\.)(?!\w)"),
        re.compile(r"\beuropean union\b|\bcouncil of the (?:eu|european union)\b|\beuropean council\b", re.IGNORECASE),
    ),
    (
        "United Kingdom",
        re.compile(r"(?<!\w)(?:UK|U\.K\.|OFSI|FCDO|HMT)(?!\w)"),
        re.compile(r"\bunited kingdom\b|\bbritain\b|\bbritish\b|\bhm treasury\b|\bforeign office\b", re.IGNORECASE),
    ),
    (
        "United States",
        re.compile(r"(?<!\w)(?:US|U\.S\.|USA|U\.S\.A\.|OFAC)(?!\w)"),
        re.compile(
            r"\bunited states\b|\bstate department\b|\bdepartment of state\b|\btreasury department\b|"
            r"\bdepartment of the treasury\b|\bwashington\b|\brewards for justice\b",
            re.IGNORECASE,
        ),
    ),
]


def canonical_authority(name: str | None) -> str | None:
    """The jurisdiction of a sanctions authority as the article names it ("U.S. Treasury's
    Office of Foreign Assets Control" -> "United States"), or None when it is not one of the
    four major sanctioning jurisdictions or names more than one."""
    if not name or re.search(r"-led\b", name, re.IGNORECASE):
        return None
    found = [canon for canon, acronyms, words in _AUTHORITIES if acronyms.search(name) or words.search(name)]
    return found[0] if len(found) == 1 else None
