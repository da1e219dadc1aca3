"""Places are not actors (postprocess.places): a name the tagger knows only as a place or a
nationality leaves the actor list unless the model typed it a government."""

from __future__ import annotations

import pytest

from extractor.llm.drafts import ActorDraft
from extractor.postprocess.places import not_places
from extractor.text import entities


def _mentions(*pairs: tuple[str, str]) -> list:
    return [(ActorDraft(name=name, kind=kind, aliases=[]), None) for name, kind in pairs]


def test_a_place_typed_as_anything_but_a_government_or_an_armed_group_is_dropped_with_a_note() -> None:
    mentions = _mentions(("Homs province", "other"), ("Syria", "state_forces"), ("Syria", "government"),
                         ("M23", "armed_group"), ("Islamic State", "armed_group"))  # fmt: skip
    kept, notes = not_places(mentions, frozenset({"homs province", "syria", "m23"}))
    assert [(m[0].name, m[0].kind) for m in kept] == [("Syria", "government"), ("M23", "armed_group"), ("Islamic State", "armed_group")]
    assert notes == ["dropped 2 actor(s) named only as a place or nationality: Homs province, Syria"]


def test_the_name_is_compared_normalised() -> None:
    kept, _ = not_places(_mentions(("the Syrian", "other")), frozenset({"syrian"}))
    assert kept == []


def test_without_place_names_nothing_is_dropped() -> None:
    mentions = _mentions(("Homs province", "other"))
    assert not_places(mentions, None) == (mentions, [])
    assert not_places(mentions, frozenset()) == (mentions, [])


needs_tagger = pytest.mark.skipif(entities.tagger() is None, reason="the pinned spaCy tagger is not installed")


@needs_tagger
def test_place_names_are_those_never_tagged_as_a_person_or_an_organisation() -> None:
    text = (
        "Gunmen attacked a police post in Kaduna on Monday, the Nigerian army said. "
        "The United Nations condemned the attack, and President Bola Tinubu ordered an inquiry."
    )
    places = entities.place_names(text)
    assert places is not None and "kaduna" in places and "nigerian" in places
    assert "united nations" not in places and "bola tinubu" not in places


def test_without_the_tagger_there_are_no_place_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entities, "tagger", lambda: None)
    assert entities.place_names("Gunmen attacked a police post in Kaduna on Monday.") is None


def test_assembly_drops_place_actors_and_says_so_unless_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor.llm.drafts import ActorsAnswer
    from extractor.pipeline import assemble as assembly
    from extractor.schemas import Meta, PassStat
    from extractor.text.chunking import Chunk

    text = "Fighters of the Islamic State ambushed soldiers near Palmyra in Homs province, Syrian officials said."
    monkeypatch.setattr(assembly, "place_names", lambda t: frozenset({"palmyra", "homs province", "syrian"}) if t == text else None)
    answer = ActorsAnswer.model_validate({"actors": [
        {"name": "Islamic State", "kind": "armed_group", "aliases": []},
        {"name": "Homs province", "kind": "other", "aliases": []},
    ]})  # fmt: skip

    def actors(**options):
        output = assembly.PassOutput(Chunk(0, 0, len(text), text), "actors", answer.items(),
                                     PassStat(name="actors", chunk=0, cache_hit=False, seconds=0))  # fmt: skip
        meta = Meta(model="m", backend="b", prompt_version="v3", schema_hash="h")
        extraction = assembly.assemble(text, [output], meta, None, assembly.AssemblyOptions(**options))
        return [a.name for a in extraction.actors], extraction.meta.warnings

    kept, warnings = actors()
    assert kept == ["Islamic State"]
    assert any("named only as a place or nationality: Homs province" in w for w in warnings)
    assert actors(places_are_not_actors=False)[0] == ["Islamic State", "Homs province"]
