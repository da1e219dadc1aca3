"""Candidate selection (v3 gating): vocabulary per pass, and only for English text."""

from extractor.text.candidates import candidate_sentences
from extractor.text.language import is_english

ARTICLE = (
    "The central bank kept its policy rate at 9 percent on Tuesday. "
    "Gunmen killed four traders at a market in the north. "
    "The Treasury froze the assets of two companies."
)


def test_each_pass_gets_the_sentences_with_its_vocabulary() -> None:
    assert candidate_sentences("events", ARTICLE) == [2]
    assert candidate_sentences("sanctions", ARTICLE) == [3]
    assert candidate_sentences("actors", ARTICLE) is None  # not gated


def test_an_article_without_incident_words_has_no_event_candidates() -> None:
    text = "The central bank kept its policy rate unchanged, and inflation slowed for a third month."
    assert candidate_sentences("events", text) == []
    assert candidate_sentences("sanctions", text) == []


def test_a_text_the_english_lists_cannot_judge_is_never_gated() -> None:
    french = "Des hommes armés ont tué quatre commerçants sur un marché du nord, selon les autorités locales."
    assert not is_english(french)
    assert candidate_sentences("events", french) is None
    assert candidate_sentences("sanctions", french) is None  # no sanctions word: not gated, no list


def test_other_languages_name_sanctions_sentences_but_never_gate() -> None:
    french = (
        "Le Royaume-Uni a annoncé jeudi le gel des avoirs de deux hommes d'affaires. "
        "La police a ensuite fermé la route du port pendant plusieurs heures. "
        "Ils font aussi l'objet d'une interdiction de voyager."
    )
    russian = "Совет ЕС ввёл санкции против двух компаний. Их активы замораживаются. Погода была хорошей."
    assert not is_english(french) and not is_english(russian)
    assert candidate_sentences("sanctions", french) == [1, 3]
    assert candidate_sentences("sanctions", russian) == [1, 2]
    assert candidate_sentences("events", russian) is None
