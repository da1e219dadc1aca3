"""Candidate actor names (text.entities) and how the planner hands them to an actors task
that asks for them: v6 shows them, v3 never runs the tagger and sends what it always sent."""

from __future__ import annotations

import pytest

from extractor.llm.prompts import PromptSet
from extractor.pipeline import plan as planning
from extractor.text import entities
from extractor.text.chunking import Chunk

ARTICLE = (
    "Fighters of the Islamic State attacked an army post near Idlib on Sunday, "
    "the Syrian Observatory for Human Rights said. HTS leader Abu Mohammed al-Jawlani "
    "praised the attack, and the United Nations called for calm."
)


def test_clean_drops_articles_possessives_and_edge_punctuation() -> None:
    assert entities.clean("the Islamic State's") == "Islamic State"
    assert entities.clean(' "Hamas", ') == "Hamas"
    assert entities.clean("The  United\nNations") == "United Nations"


def test_without_the_tagger_there_are_no_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entities, "tagger", lambda: None)
    assert entities.candidate_names(ARTICLE) is None


needs_tagger = pytest.mark.skipif(entities.tagger() is None, reason="the pinned spaCy tagger is not installed")


@needs_tagger
def test_the_tagger_lists_organisations_people_and_places_once_in_order() -> None:
    names = entities.candidate_names(ARTICLE)
    assert names is not None
    for expected in ("Syrian Observatory for Human Rights", "Abu Mohammed al-Jawlani", "United Nations"):
        assert expected in names
    assert names.index("Syrian Observatory for Human Rights") < names.index("United Nations")
    assert len({n.casefold() for n in names}) == len(names)
    assert "Sunday" not in names  # a date is not an actor label


@needs_tagger
def test_a_tagger_build_other_than_the_pinned_one_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entities, "TAGGER_SHA256", "0" * 64)
    entities.tagger.cache_clear()
    try:
        assert entities.tagger() is None
    finally:
        monkeypatch.undo()
        entities.tagger.cache_clear()
    assert entities.tagger() is not None


@needs_tagger
def test_a_text_that_is_not_english_gets_no_candidates() -> None:
    assert entities.candidate_names("Des hommes armés ont tué quatre commerçants près de Goma, selon la police.") is None


def _actors_task(version: str, monkeypatch: pytest.MonkeyPatch, names) -> tuple[str, list]:
    calls: list[str] = []

    def fake(text: str):
        calls.append(text)
        return names

    monkeypatch.setattr(planning, "candidate_names", fake)
    chunk = Chunk(index=0, start=0, end=len(ARTICLE), text=ARTICLE)
    jobs, _ = planning.plan([chunk], PromptSet.load(version), ("actors",), withholding=True)
    (job,) = jobs
    return job.hints, calls


def test_an_actors_task_that_shows_names_gets_the_tagger_list(monkeypatch: pytest.MonkeyPatch) -> None:
    hints, calls = _actors_task("v6", monkeypatch, ["Hayat Tahrir al-Sham", "HTS"])
    assert calls == [ARTICLE] and hints == {"names": ["Hayat Tahrir al-Sham", "HTS"]}
    task = PromptSet.load("v6").messages("actors", ARTICLE, None, hints)[-1]["content"]
    assert "Hayat Tahrir al-Sham; HTS" in task


def test_without_candidates_the_v6_task_reads_without_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    hints, _ = _actors_task("v6", monkeypatch, None)
    assert hints == {"names": []}
    task = PromptSet.load("v6").messages("actors", ARTICLE, None, hints)[-1]["content"]
    assert "tagger" not in task and task.endswith("Answer in JSON.")


def test_v3_never_runs_the_tagger(monkeypatch: pytest.MonkeyPatch) -> None:
    hints, calls = _actors_task("v3", monkeypatch, ["X"])
    assert calls == [] and hints == {}


def test_v6_differs_from_v3_only_in_the_actors_task() -> None:
    v3, v6 = PromptSet.load("v3"), PromptSet.load("v6")
    assert v3.pass_id("events") == v6.pass_id("events") and v3.pass_id("sanctions") == v6.pass_id("sanctions")
    assert v3.pass_id("actors") != v6.pass_id("actors")


def test_a_tagger_that_does_not_load_is_not_used(monkeypatch: pytest.MonkeyPatch, tmp_path, caplog) -> None:
    import importlib
    import sys
    import types

    pytest.importorskip("spacy")
    folder = tmp_path / entities.TAGGER_PACKAGE
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    fake = types.ModuleType(entities.TAGGER_PACKAGE)
    fake.__file__ = str(folder / "__init__.py")

    def load(**_):
        raise OSError("config.cfg missing")

    fake.load = load
    monkeypatch.setitem(sys.modules, entities.TAGGER_PACKAGE, fake)
    monkeypatch.setattr(importlib, "import_module", lambda name: sys.modules[name])
    monkeypatch.setattr(entities, "TAGGER_SHA256", entities.model_digest(folder))
    entities.tagger.cache_clear()
    try:
        assert entities.tagger() is None
        assert "does not load (config.cfg missing)" in caplog.text
    finally:
        monkeypatch.undo()
        entities.tagger.cache_clear()
