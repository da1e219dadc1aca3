"""A sanctions fact's status follows what its sentence says about time (`postprocess.status`)."""

from __future__ import annotations

from datetime import date

import pytest

from extractor.postprocess.status import stated_status, status_as_stated
from extractor.schemas import Evidence, SanctionFact

PUBLISHED = date(2025, 4, 8)


@pytest.mark.parametrize(
    ("quote", "expected"),
    [
        ("Those listed previously include Colonel Dax, who remains subject to an asset freeze.", "in_force"),
        ("The United States designated the Front a Foreign Terrorist Organization in 2008.", "in_force"),
        ("The group is recognized by the UN as a terrorist organization.", "in_force"),
        ("EU drops sanctions on fertiliser tycoon after court defeat", "lifted"),
        ("The Council delisted Mr Orlov on Monday.", "lifted"),
        ("The Council said it was re-examining the case of Mr Orlov.", "under_review"),
        ("The group might be removed from the sanctions list if it changes its conduct.", "under_review"),
        ("In May the Council lifted the asset freeze on Mr Orlov.", "lifted"),
        # a measure announced today, or a year that is this year's or that dates something else
        ("The Treasury today sanctioned three companies.", None),
        ("The Treasury sanctioned the firm, which it said had moved funds since 2019.", None),
        ("In 2025 the Council listed four judges.", None),
    ],
)
def test_the_status_a_sentence_states(quote: str, expected: str | None) -> None:
    assert stated_status(quote, PUBLISHED) == expected


def _fact(status: str, quote: str | None) -> SanctionFact:
    evidence = Evidence(quote=quote, start=0, end=len(quote)) if quote else None
    return SanctionFact(id="s1", target="Colonel Dax", authority="European Union", measure="asset_freeze", status=status,
                        evidence=evidence, grounded=evidence is not None)  # fmt: skip


def test_only_imposed_facts_with_a_sentence_change() -> None:
    quote = "Colonel Dax remains subject to an asset freeze."
    facts = [_fact("imposed", quote), _fact("under_review", quote), _fact("imposed", None), _fact("imposed", "Dax was sanctioned.")]
    facts, notes = status_as_stated(facts, PUBLISHED)
    assert [f.status for f in facts] == ["in_force", "under_review", "imposed", "imposed"]
    assert notes == ["set the status of 1 sanctions fact(s) from their sentence's words"]
    assert facts[0].model_dump(mode="json")["status"] == "in_force"
