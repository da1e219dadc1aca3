"""Places are not actors (postprocess.places): a name the tagger knows only as a place or a
nationality leaves the actor list unless the model typed it a government or an armed group,
and an actor typed `other` stays only when the tagger calls it a person or organisation."""

from __future__ import annotations

import pytest

from extractor.llm.drafts import ActorDraft
from extractor.postprocess.places import not_places
from extractor.text import entities


def _mentions(*pairs: tuple[str, str]) -> list:
    return [(ActorDraft(name=name, kind=kind, aliases=[]), None) for name, kind in pairs]


def test_a_place_typed_as_anything_but_a_government_or_an_armed_group_is_dropped_with_a_note() -> None:
    mentions = _mentions(("Homs province", "state_forces"), ("Syria", "state_forces"), ("Syria", "government"),
                         ("M23", "armed_group"), ("Islamic State", "armed_group"))  # fmt: skip
    labels = {"homs province": frozenset({"GPE"}), "syria": frozenset({"GPE"}), "m23": frozenset({"GPE"}),
              "islamic state": frozenset({"ORG"})}  # fmt: skip
    kept, notes = not_places(mentions, labels)
    assert [(m[0].name, m[0].kind) for m in kept] == [("Syria", "government"), ("M23", "armed_group"), ("Islamic State", "armed_group")]
    assert notes == ["dropped 2 actor(s) the name tagger takes for places: Homs province, Syria"]


def test_a_name_also_tagged_as_an_organisation_is_not_a_place() -> None:
    kept, _ = not_places(_mentions(("Kani", "state_forces")), {"kani": frozenset({"GPE", "ORG"})})
    assert len(kept) == 1


def test_the_name_is_compared_normalised() -> None:
    kept, _ = not_places(_mentions(("the Syrian", "state_forces")), {"syrian": frozenset({"NORP"})})
    assert kept == []


def test_an_actor_typed_other_stays_only_when_the_tagger_calls_one_of_its_names_a_person_or_organisation() -> None:
    mentions = [(ActorDraft(name="Gezira state", kind="other", aliases=[]), None),
                (ActorDraft(name="Zamfara Youth Forum", kind="other", aliases=[]), None),
                (ActorDraft(name="the forum", kind="other", aliases=["Kani Rescue Team"]), None)]  # fmt: skip
    labels = {"zamfara youth forum": frozenset({"ORG"}), "kani rescue team": frozenset({"ORG"})}
    kept, _ = not_places(mentions, labels)
    assert [m[0].name for m in kept] == ["Zamfara Youth Forum", "the forum"]


def test_without_the_tagger_nothing_is_dropped() -> None:
    mentions = _mentions(("Homs province", "other"))
    assert not_places(mentions, None) == (mentions, [])


needs_tagger = pytest.mark.skipif(entities.tagger() is None, reason="the pinned spaCy tagger is not installed")


@needs_tagger
def test_the_tagger_labels_places_nationalities_and_organisations() -> None:
    text = (
        "Gunmen attacked a police post in Kaduna on Monday, the Nigerian army said. "
        "The United Nations condemned the attack, and President Bola Tinubu ordered an inquiry."
    )
    labels = entities.labels_by_name(text)
    assert labels is not None
    assert labels["kaduna"] <= {"GPE", "LOC"} and labels["nigerian"] == {"NORP"}
    assert labels["united nations"] == {"ORG"} and labels["bola tinubu"] == {"PERSON"}


def test_without_the_tagger_there_are_no_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entities, "tagger", lambda: None)
    assert entities.labels_by_name("Gunmen attacked a police post in Kaduna on Monday.") is None


def test_assembly_drops_place_actors_and_says_so_unless_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor.llm.drafts import ActorsAnswer
    from extractor.pipeline import assemble as assembly
    from extractor.schemas import Meta, PassStat
    from extractor.text.chunking import Chunk

    text = "Fighters of the Islamic State ambushed soldiers near Palmyra in Homs province, Syrian officials said."
    labels = {"palmyra": frozenset({"GPE"}), "homs province": frozenset({"GPE"}), "syrian": frozenset({"NORP"})}
    monkeypatch.setattr(assembly, "labels_by_name", lambda t: labels if t == text else None)
    answer = ActorsAnswer.model_validate({"actors": [
        {"name": "Islamic State", "kind": "armed_group", "aliases": []},
        {"name": "Homs province", "kind": "state_forces", "aliases": []},
    ]})  # fmt: skip

    def actors(**options):
        output = assembly.PassOutput(Chunk(0, 0, len(text), text), "actors", answer.items(),
                                     PassStat(name="actors", chunk=0, cache_hit=False, seconds=0))  # fmt: skip
        meta = Meta(model="m", backend="b", prompt_version="v3", schema_hash="h")
        extraction = assembly.assemble(text, [output], meta, None, assembly.AssemblyOptions(**options))
        return [a.name for a in extraction.actors], extraction.meta.warnings

    kept, warnings = actors()
    assert kept == ["Islamic State"]
    assert any("the name tagger takes for places: Homs province" in w for w in warnings)
    assert actors(places_are_not_actors=False)[0] == ["Islamic State", "Homs province"]
