"""Cheap candidate selection: which sentences a pass should look at, and whether to call it.

Every model call costs the embedded model tens of seconds, and a small model asked for
events in an article that reports none tends to invent one. So before a pass runs, a
vocabulary test picks its candidate sentences: incident words or casualty counts for
events, sanctions words for sanctions. A pass with no candidate sentence makes no call, and
a task template may name the candidates' numbers (v3's sanctions task does). The words are
general English news vocabulary (no word of any eval article's wording); a text that
`text.language` does not judge English is never gated (every sentence is a candidate), because these lists
cannot judge it, but a short list of other languages' sanctions words still names its
candidate sentences to the sanctions task.
"""

from __future__ import annotations

import re

from extractor.text.dates import names_a_day
from extractor.text.language import is_english
from extractor.text.sentences import ends_a_sentence, paragraphs, sentence_spans

_INCIDENT = re.compile(
    r"\b(?:kill\w*|dead|death\w*|die[ds]?|wound\w*|injur\w*|attack\w*|ambush\w*|assault\w*|raid\w*|clash\w*|"
    r"fight\w*|fought|battl\w*|gunfight\w*|firefight\w*|shell\w*|bomb\w*|blast\w*|explo\w*|strik\w*|struck|"
    r"airstrike\w*|drone\w*|missile\w*|rocket\w*|mortar\w*|artillery|ied|grenade\w*|shot|shoot\w*|gunm[ae]n|"
    r"massacre\w*|behead\w*|abduct\w*|kidnap\w*|hostage\w*|murder\w*|execut(?:e[ds]?|ing|ions?)|tortur\w*|loot\w*|burn\w*|"
    r"gunned|stabb\w*|stabs?|lynch\w*|hacked|casualt\w*|toll|victims?|bodies|offensive|incursion\w*|sieg\w*|besieg\w*|"
    r"invad\w*|invasion|mutin\w*|coup|sit-in|picket\w*|walkout|boycott\w*|"
    r"torch\w*|protest\w*|demonstrat\w*|march\w*|rall(?:y|ies|ied)|riot\w*|unrest|tear\s?gas|stormed|"
    r"arrest\w*|detain\w*|captur\w*|seiz\w*|overr[au]n|retook|retak\w*|recaptur\w*|withdr[ae]w\w*|"
    r"ceasefire|truce|peace\s+(?:deal|agreement|accord)|surrender\w*|handed\s+over|took\s+control)\b",
    re.IGNORECASE,
)
_SANCTIONS = re.compile(
    r"\b(?:sanction\w*|designat\w*|delist\w*|de-list\w*|listed|listing\w*|blacklist\w*|asset\s+freeze\w*|"
    r"assets?\s+(?:were\s+|are\s+|have\s+been\s+)?frozen|freez\w*|froze|blocked|travel\s+ban\w*|embargo\w*|"
    r"export\s+(?:ban|control)\w*|import\s+ban\w*|restrictive\s+measures|reward\w*|bounty|"
    r"terrorist\s+organi[sz]ation|ofac|sdn|sdgt|fto)\b",
    re.IGNORECASE,
)
VOCABULARY = {"events": _INCIDENT, "sanctions": _SANCTIONS}
#: Sanctions words of other languages (French, Spanish, Portuguese, German, Russian): on a
#: text that is not English they name the candidate sentences, but never gate the pass (a
#: list this short cannot be trusted to find every sentence).
_SANCTIONS_ELSEWHERE = re.compile(
    r"\b(?:sanc(?:t|i|ió)\w*|san[kc]tion\w*|санкц\w*|embarg\w*|эмбарго|"
    r"g[eè]l\w*|avoirs|congel\w*|einfr\w*|eingefroren\w*|замор\w*|"
    r"interdiction\w*|interdit\w*|prohibici\w*|proibi\w*|einreise\w*|въезд\w*|"
    r"d[ée]sign\w*|designa\w*|lista\w*|liste\w*|списк\w*|"
    r"r[ée]compens\w*|recompensa\w*|belohnung\w*|вознагражд\w*)",
    re.IGNORECASE,
)
ELSEWHERE = {"sanctions": _SANCTIONS_ELSEWHERE}


def candidate_sentences(pass_name: str, text: str) -> list[int] | None:
    """1-based numbers of the sentences of `text` the pass should read, or None when the pass
    is not gated (no list for it, or a text the English lists cannot judge: there the other
    languages' list may still name sentences, never an empty list)."""
    if is_english(text):
        vocabulary = VOCABULARY.get(pass_name)
        return None if vocabulary is None else _matching(vocabulary, text)
    elsewhere = ELSEWHERE.get(pass_name)
    return (_matching(elsewhere, text) or None) if elsewhere is not None else None


def _matching(vocabulary: re.Pattern, text: str) -> list[int]:
    return [n for n, (start, end) in enumerate(sentence_spans(text), 1) if vocabulary.search(text, start, end)]


def uncited_incidents(
    text: str, cited: set[int], hidden: set[int] = frozenset(), *, opening: bool = True
) -> list[list[int]]:
    """The paragraphs of `text` (their sentence numbers) worth a second events question: each
    paragraph that no cited sentence belongs to, whose first sentence names a day and which
    states an incident (the events vocabulary). Left out: a paragraph with a `hidden`
    sentence (a withheld passage) and, when `text` starts the article (`opening`), its
    opening (headline, byline and dateline lines and the lead paragraph: a summary of the
    incidents told below). English text only (the vocabulary judges nothing else)."""
    if not is_english(text):
        return []
    spans = sentence_spans(text)
    groups = paragraphs(text)
    if opening:  # up to and including the first paragraph that ends a sentence: the lead
        lead = next((i for i, g in enumerate(groups) if ends_a_sentence(text[slice(*spans[g[-1] - 1])])), -1)
        groups = groups[lead + 1 :]
    chosen: list[list[int]] = []
    for group in groups:
        if cited.intersection(group) or hidden.intersection(group):
            continue
        if not names_a_day(text[slice(*spans[group[0] - 1])]):
            continue
        if any(_INCIDENT.search(text, *spans[n - 1]) for n in group):
            chosen.append(group)
    return chosen
