"""resolution: merging the same actor seen under different names."""

from __future__ import annotations

import pytest

from extractor.postprocess.actors import find_entity, names_match, resolve_actors
from extractor.text.names import acronym, normalise, tokens


def resolve(*mentions: tuple[str, str] | tuple[str, str, list[str]]):
    full = [(m[0], m[1], list(m[2]) if len(m) > 2 else []) for m in mentions]
    return resolve_actors(full)


def test_normalise_and_tokens() -> None:
    assert normalise("  The  Syrian Observatory for Human Rights! ") == "syrian observatory for human rights"
    assert normalise("Hayat Tahrir al-Sham") == "hayat tahrir al sham"
    assert normalise("Abū Muḥammad al-Jawlānī") == "abu muhammad al jawlani"
    assert normalise("Jawlani's") == "jawlanis"
    assert tokens("Hayat Tahrir al-Sham") == ["hayat", "tahrir", "sham"]
    assert acronym("Hayat Tahrir al-Sham") == "hts"
    assert acronym("Syria") == ""


def test_acronym_merges_with_full_name() -> None:
    entities, assignment = resolve(("HTS", "armed_group"), ("Hayat Tahrir al-Sham", "armed_group"))
    assert len(entities) == 1
    assert entities[0].name == "Hayat Tahrir al-Sham"
    assert entities[0].aliases == ["HTS"]
    assert assignment == [0, 0]
    assert sorted(entities[0].members) == [0, 1]


def test_acronym_merges_even_across_kinds() -> None:
    entities, assignment = resolve(("HTS", "other"), ("Hayat Tahrir al-Sham", "armed_group"))
    assert len(entities) == 1 and assignment == [0, 0]


def test_person_surname_merges_with_full_name() -> None:
    entities, assignment = resolve(("Jawlani", "person"), ("Abu Muhammad al-Jawlani", "person"))
    assert [e.name for e in entities] == ["Abu Muhammad al-Jawlani"]
    assert entities[0].aliases == ["Jawlani"]
    assert assignment == [0, 0]


def test_person_first_name_does_not_merge() -> None:
    entities, assignment = resolve(("Muhammad", "person"), ("Abu Muhammad al-Jawlani", "person"))
    assert len(entities) == 2
    assert assignment == [0, 1]


def test_different_people_sharing_a_surname_stay_apart_unless_subset() -> None:
    entities, _ = resolve(("Bashar al-Assad", "person"), ("Hafez al-Assad", "person"))
    assert len(entities) == 2


def test_us_abbreviation_merges_with_united_states() -> None:
    entities, assignment = resolve(("U.S.", "government"), ("United States", "government"))
    assert [e.name for e in entities] == ["United States"]
    assert entities[0].aliases == ["U.S."]
    assert assignment == [0, 0]


def test_different_kinds_do_not_merge_on_a_word_subset() -> None:
    entities, assignment = resolve(("Syria", "government"), ("Syrian Observatory for Human Rights", "ngo"))
    assert [e.name for e in entities] == ["Syria", "Syrian Observatory for Human Rights"]
    assert assignment == [0, 1]
    entities, _ = resolve(("Syrian Army", "state_forces"), ("Syrian Arab Army Veterans", "ngo"))
    assert len(entities) == 2


def test_generic_single_word_does_not_swallow() -> None:
    entities, assignment = resolve(("State", "armed_group"), ("Islamic State", "armed_group"))
    assert [e.name for e in entities] == ["State", "Islamic State"]
    assert assignment == [0, 1]
    entities, _ = resolve(("Army", "state_forces"), ("Syrian Arab Army", "state_forces"))
    assert len(entities) == 2


def test_two_word_subset_of_same_kind_merges() -> None:
    entities, assignment = resolve(("Syrian Army", "state_forces"), ("Syrian Arab Army", "state_forces"))
    assert [e.name for e in entities] == ["Syrian Arab Army"]
    assert entities[0].aliases == ["Syrian Army"]
    assert assignment == [0, 0]


def test_aliases_bridge_mentions_and_canonical_is_fullest() -> None:
    entities, assignment = resolve(
        ("IS", "armed_group"),
        ("Islamic State", "armed_group", ["IS", "ISIS"]),
        ("Hayat Tahrir al-Sham", "armed_group"),
        ("ISIS", "armed_group"),
        ("the Islamic State", "armed_group"),
        ("HTS", "armed_group"),
    )
    assert [e.name for e in entities] == ["Islamic State", "Hayat Tahrir al-Sham"]
    assert assignment == [0, 0, 1, 0, 0, 1]
    islamic_state = entities[0]
    assert set(islamic_state.aliases) == {"IS", "ISIS"}  # "the Islamic State" is the same normalised name
    assert sorted(islamic_state.members) == [0, 1, 3, 4]
    assert sorted(entities[1].members) == [2, 5]


def test_canonical_name_is_the_fullest_whatever_the_order() -> None:
    for mentions in (
        [("Sharaa", "person"), ("Ahmed al-Sharaa", "person"), ("Ahmed Hussein al-Sharaa", "person")],
        [("Ahmed Hussein al-Sharaa", "person"), ("Sharaa", "person"), ("Ahmed al-Sharaa", "person")],
        [("Ahmed al-Sharaa", "person"), ("Ahmed Hussein al-Sharaa", "person"), ("Sharaa", "person")],
    ):
        entities, assignment = resolve(*mentions)
        assert len(entities) == 1
        assert entities[0].name == "Ahmed Hussein al-Sharaa"
        assert set(entities[0].aliases) == {"Sharaa", "Ahmed al-Sharaa"}
        assert assignment == [0, 0, 0]


def test_alias_longer_than_name_becomes_canonical() -> None:
    entities, _ = resolve(("HTS", "armed_group", ["Hayat Tahrir al-Sham"]))
    assert entities[0].name == "Hayat Tahrir al-Sham"
    assert entities[0].aliases == ["HTS"]


def test_duplicate_aliases_are_not_repeated() -> None:
    entities, _ = resolve(("Islamic State", "armed_group", ["ISIS", "isis", "Islamic State"]), ("ISIS", "armed_group"))
    assert entities[0].aliases == ["ISIS"]


def test_entities_in_first_mention_order_and_assignment_indexes() -> None:
    mentions = [
        ("Reuters", "media"),
        ("Jawlani", "person"),
        ("United Nations", "international_organization"),
        ("Abu Muhammad al-Jawlani", "person"),
        ("UN", "international_organization"),
        ("Reuters", "media"),
    ]
    entities, assignment = resolve(*mentions)
    assert [e.name for e in entities] == ["Reuters", "Abu Muhammad al-Jawlani", "United Nations"]
    assert assignment == [0, 1, 2, 1, 2, 0]
    for index, entity_index in enumerate(assignment):
        assert index in entities[entity_index].members
        assert entities[entity_index].kind == mentions[index][1]


def test_empty_input() -> None:
    assert resolve_actors([]) == ([], [])


def test_names_match_rules() -> None:
    assert names_match("HTS", "Hayat Tahrir al-Sham")
    assert names_match("Hayat Tahrir al-Sham", "HTS", same_kind=False)
    assert names_match("Jawlani", "Abu Muhammad al-Jawlani", person=True)
    assert not names_match("Muhammad", "Abu Muhammad al-Jawlani", person=True)
    assert not names_match("Syria", "Syrian Observatory for Human Rights", same_kind=False)
    assert not names_match("Kurdish forces", "Syrian Democratic Forces", same_kind=False)
    assert not names_match("", "Syria")
    assert not names_match("H T S", "Hayat Tahrir al-Sham")  # an acronym is one word


@pytest.fixture
def entities():
    found, _ = resolve(
        ("Hayat Tahrir al-Sham", "armed_group", ["HTS"]),
        ("Abu Muhammad al-Jawlani", "person"),
        ("United States", "government"),
        ("Syrian Observatory for Human Rights", "ngo", ["SOHR"]),
    )
    return found


@pytest.mark.parametrize(
    "name, expected",
    [
        ("HTS", 0),
        ("hayat tahrir al-sham", 0),
        ("Jawlani", 1),
        ("U.S.", 2),
        ("the United States", 2),
        ("SOHR", 3),
        ("Syria", None),
        ("State", None),
        ("Russia", None),
        ("", None),
    ],
)
def test_find_entity(entities, name: str, expected: int | None) -> None:
    assert find_entity(entities, name) == expected
