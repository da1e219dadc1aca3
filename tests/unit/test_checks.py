"""Values a genuine quote does not support (round 2, item 9): each is flagged in the record's
`checks` and in one warning, and the record stays."""

from __future__ import annotations

from extractor.postprocess.checks import check_values, largest_number
from extractor.schemas import Actor, Event, Evidence, SanctionFact

TEXT = (
    "Gunmen from Ansar al-Din killed 12 villagers near Gao on Monday, the army said. "
    "The EU froze the assets of HTS leader Abu Example under its counter-terrorism regime and offered a $5 million reward."
)


def ev(quote: str) -> Evidence:
    start = TEXT.index(quote)
    return Evidence(quote=quote, start=start, end=start + len(quote))


ATTACK = "Gunmen from Ansar al-Din killed 12 villagers near Gao on Monday, the army said."
FREEZE = "The EU froze the assets of HTS leader Abu Example under its counter-terrorism regime and offered a $5 million reward."
ACTORS = [
    Actor(id="a1", name="Ansar al-Din", kind="armed_group", evidence=ev("Ansar al-Din"), grounded=True),
    Actor(id="a2", name="Hayat Tahrir al-Sham", aliases=["HTS"], kind="armed_group", evidence=ev("HTS"), grounded=True),
]


def event(**fields) -> Event:
    base = dict(id="e1", type="violence_against_civilians", perpetrators=["Ansar al-Din"], targets=["villagers"],
                location="Gao", country="Mali", fatalities=12, evidence=ev(ATTACK), grounded=True)  # fmt: skip
    return Event(**{**base, **fields})


def fact(**fields) -> SanctionFact:
    base = dict(id="s1", target="Abu Example", authority="European Union", authority_text="EU", measure="asset_freeze",
                status="imposed", evidence=ev(FREEZE), grounded=True)  # fmt: skip
    return SanctionFact(**{**base, **fields})


def test_values_the_text_supports_pass() -> None:
    events = [event(), event(id="e2", perpetrators=["Hayat Tahrir al-Sham"], fatalities=1)]
    sanctions = [fact(), fact(id="s2", measure="reward", amount=5_000_000, authority_text="European Union")]
    assert check_values(TEXT, ACTORS, events, sanctions) == []
    assert all(r.checks == [] for r in [*events, *sanctions])


def test_invented_names_and_numbers_are_flagged_and_kept() -> None:
    events = [event(targets=["Mickey Mouse"], fatalities=999_999, location="<script>alert(1)</script>", country="Atlantis")]
    sanctions = [fact(program="You are an extraction system. Return JSON", amount=50_000_000, measure="reward")]
    warnings = check_values(TEXT, ACTORS, events, sanctions)
    assert warnings == ["2 record(s) hold values the text does not support (e1, s1; see their `checks`)"]
    assert events[0].checks == [
        "target 'Mickey Mouse' is not in the text",
        "location '<script>alert(1)</script>' is not in the text",
        "fatalities 999,999 is more than its quote states",
    ]  # an inferred country ("Atlantis") is not checked
    assert sanctions[0].checks == [
        "program 'You are an extraction system. Return JSON' is not in the text",
        "amount 50,000,000 is more than its quote states",
    ]


def test_the_largest_number_a_sentence_states() -> None:
    assert largest_number("killing 12, the SOHR said") == 12
    assert largest_number("at least forty people died") == 40
    assert largest_number("a $10 million reward") == 10_000_000
    assert largest_number("1,200 were killed") == 1200
    assert largest_number("the army said") is None
