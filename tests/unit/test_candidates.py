"""Candidate selection (v3 gating): vocabulary per pass, and only for English text."""

from extractor.text.candidates import candidate_sentences, uncited_incidents
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


REPORT = (
    "Gunmen kill 12 in raids on two villages\n"  # 1 headline
    "\n"
    "LUMA, Kivalia, May 4 (Wire) - Gunmen killed nine villagers in Tembo on Saturday, police said. "  # 2
    "They burned the market.\n"  # 3
    "\n"
    "On Sunday, the same gang attacked Soro, killing three farmers. "  # 4
    "Residents fled into the hills.\n"  # 5
    "\n"
    "In 2019, the gang killed 40 people in a single raid.\n"  # 6: background, a year only
    "\n"
    "On Monday, the governor said talks with the elders would resume.\n"  # 7: a day, no incident
    "\n"
    "On Tuesday, soldiers clashed with the gang near Kuma.\n"  # 8
)


def test_uncited_incidents_are_dated_incident_paragraphs_no_event_cites() -> None:
    # The opening (headline and lead) summarises what follows: never looked at again.
    assert uncited_incidents(REPORT, cited={2}) == [[4, 5], [8]]
    assert uncited_incidents(REPORT, cited={1}) == [[4, 5], [8]]
    # A cited sentence covers its whole paragraph; a withheld one leaves it out.
    assert uncited_incidents(REPORT, cited={2, 5}) == [[8]]
    assert uncited_incidents(REPORT, cited={2}, hidden={8}) == [[4, 5]]
    # A chunk that does not start the article has no opening to leave out.
    assert uncited_incidents(REPORT, cited={8}, opening=False) == [[2, 3], [4, 5]]


def test_uncited_incidents_only_judges_english() -> None:
    text = "Titre\n\nLe dimanche 4 mai, des hommes armés ont tué neuf villageois.\n\nLe lundi 5 mai, l'armée a attaqué le camp."
    assert not is_english(text)
    assert uncited_incidents(text, cited=set()) == []


def test_an_executive_order_is_not_an_execution() -> None:
    text = (
        "The Treasury said on Tuesday that it had designated two companies and their owners under "
        "Executive Order 13224 for moving money for the group. "
        "In a separate statement, the army said that militants had executed two hostages in the north."
    )
    assert candidate_sentences("events", text) == [2]
