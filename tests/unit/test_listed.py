"""Names one record lists side by side stay different actors (`postprocess.listed`), and an
actor reports the names the article writes (`postprocess.actors.as_written`)."""

from __future__ import annotations

from extractor.llm.cited import CitedEvent, CitedSanction
from extractor.postprocess.actors import Entity, as_written, find_entity
from extractor.postprocess.listed import split_listed
from extractor.schemas import Actor

RELEASE = (
    "Treasury sanctioned Transportes Ibarra Robles S.A. de C.V., its owner Hector Ibarra Quintero "
    "and the exchange house Casa de Cambio Norte. All property of the three is blocked. "
    "Ibarra Quintero runs the firm with his sister-in-law."
)


def _sanction(targets: list[str]) -> CitedSanction:
    return CitedSanction(targets=targets, authority="Treasury", measures=["asset_freeze"], status="imposed", sentence=2)


def _blob() -> tuple[list[Entity], list[Actor]]:
    """What the actors pass sometimes answers: one company with the others as its aliases."""
    names = ["Hector Ibarra Quintero", "Ibarra Quintero", "Casa de Cambio Norte", "sister-in-law"]
    entity = Entity(name="Transportes Ibarra Robles S.A. de C.V.", kind="company", aliases=list(names), members=[0])
    actor = Actor(id="a1", name=entity.name, kind="company", aliases=list(names))
    return [entity], [actor]


def test_targets_listed_together_are_split_off_the_actor_that_absorbed_them() -> None:
    entities, actors = _blob()
    targets = ["Transportes Ibarra Robles S.A. de C.V.", "Hector Ibarra Quintero", "Casa de Cambio Norte"]
    notes = split_listed(RELEASE, [], [(_sanction(targets), None)], entities, actors)
    assert [a.name for a in actors] == [*targets]
    assert [e.name for e in entities] == [*targets]
    # the surname form moves with its person; the descriptor stays where the model put it
    assert actors[1].aliases == ["Ibarra Quintero"] and entities[1].aliases == ["Ibarra Quintero"]
    assert actors[0].aliases == ["sister-in-law"]
    assert actors[1].kind == "person" and actors[2].kind == "company"  # the tagger, else the shape of the name
    assert actors[2].evidence is not None and RELEASE[actors[2].evidence.start : actors[2].evidence.end] == "Casa de Cambio Norte"
    # every target now resolves to its own actor, so the listing keeps one fact per target
    assert [find_entity(entities, t) for t in targets] == [0, 1, 2]
    assert notes == ["split 2 actor(s) that a record lists beside another name of the same actor: "
                     "Hector Ibarra Quintero, Casa de Cambio Norte"]  # fmt: skip


def test_forms_of_one_name_listed_together_are_one_party() -> None:
    text = "Hayat Tahrir al-Sham (HTS) fighters and the Syrian army clashed near Idlib."
    entity = Entity(name="Hayat Tahrir al-Sham", kind="armed_group", aliases=["HTS"], members=[0])
    entities, actors = [entity], [Actor(id="a1", name=entity.name, kind="armed_group", aliases=["HTS"])]
    event = CitedEvent(type="battle", perpetrators=["Hayat Tahrir al-Sham", "HTS"], targets=["Syrian army"], sentence=1)
    assert split_listed(text, [(event, None)], [], entities, actors) == []
    assert len(actors) == 1 and actors[0].aliases == ["HTS"]


def test_a_listed_name_the_article_does_not_write_is_not_split() -> None:
    entities, actors = _blob()
    targets = ["Transportes Ibarra Robles S.A. de C.V.", "Casa de Cambio del Sur"]
    entities[0].aliases.append("Casa de Cambio del Sur")
    assert split_listed(RELEASE, [], [(_sanction(targets), None)], entities, actors) == []
    assert len(actors) == 1


def test_names_each_resolving_to_its_own_actor_are_left_alone() -> None:
    text = "Islamic State and al-Qaeda fighters attacked the base."
    entities = [Entity(name="Islamic State", kind="armed_group", members=[0]), Entity(name="al-Qaeda", kind="armed_group", members=[1])]
    actors = [Actor(id="a1", name="Islamic State", kind="armed_group"), Actor(id="a2", name="al-Qaeda", kind="armed_group")]
    event = CitedEvent(type="battle", perpetrators=["Islamic State", "al-Qaeda"], targets=[], sentence=1)
    assert split_listed(text, [(event, None)], [], entities, actors) == []
    assert [a.name for a in actors] == ["Islamic State", "al-Qaeda"]


def test_an_actor_reports_the_names_the_article_writes() -> None:
    text = "The State Department designated Kata'ib Sayyid al-Furat; Kata'ib fighters were listed in 2019."
    invented = Entity(name="Kata'ib al-Furat al-Iraqi al-Syria", kind="armed_group", aliases=["Kata'ib", "Kata'ib Sayyid al-Furat", "KSF"])
    # the invented full name and the acronym the article never uses go; the closest written form leads
    assert as_written(invented, text) == ["Kata'ib Sayyid al-Furat", "Kata'ib"]
    # the article's spelling, matched as whole words only ("Stat" is not in "State")
    assert as_written(Entity(name="the state department", kind="government", aliases=["Stat"]), text) == ["The State Department"]
    assert as_written(Entity(name="Islamic State", kind="armed_group"), text) == []


def test_a_name_with_its_short_form_in_brackets_is_two_names() -> None:
    text = "The Malian Armed Forces (FAMa) said the convoy was attacked; FAMa lost 11 soldiers."
    entity = Entity(name="Malian Armed Forces", kind="state_forces", aliases=["Malian Armed Forces (FAMa)"])
    assert as_written(entity, text) == ["Malian Armed Forces", "FAMa"]


def test_a_form_written_only_in_lower_case_describes_and_is_not_an_alias() -> None:
    text = "Transportes Ibarra Robles, a trucking firm, was listed. The trucking firm moved cash."
    entity = Entity(name="Transportes Ibarra Robles", kind="company", aliases=["trucking firm"])
    assert as_written(entity, text) == ["Transportes Ibarra Robles"]
    # the only name the article writes stays the name, whatever its case
    assert as_written(Entity(name="trucking firm", kind="company"), text) == ["trucking firm"]


def test_a_collective_noun_listed_beside_a_name_is_not_made_an_actor() -> None:
    text = "Rebels of the Front killed civilians and soldiers of the Kivalian army in Kora."
    entity = Entity(name="Kivalian army", kind="state_forces", aliases=["civilians"], members=[0])
    entities, actors = [entity], [Actor(id="a1", name="Kivalian army", kind="state_forces", aliases=["civilians"])]
    event = CitedEvent(type="battle", perpetrators=["Front"], targets=["Kivalian army", "civilians"], sentence=1)
    assert split_listed(text, [(event, None)], [], entities, actors) == []
    assert len(actors) == 1
