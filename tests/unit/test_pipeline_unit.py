"""The pipeline with a scripted fake backend: caching, grounding policy, actor resolution,
chunking and de-duplication. No model is loaded; every test runs in well under a second."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from instructor.core.exceptions import InstructorRetryException
from pydantic import BaseModel, ValidationError

from extractor.backends.base import Capabilities, GenerationParams
from extractor.backends.instructor_calls import InstructorBackend
from extractor.text.chunking import chunk_text
from extractor.llm.drafts import _grounding_text
from extractor.records import EVIDENCE_STYLES
from extractor.pipeline import ExtractionError, Extractor
from extractor.schemas import Extraction



def pass_of(response_model: type[BaseModel]) -> str:
    """The pass a response model belongs to (backends may hand instructor a wrapped subclass)."""
    for passes in EVIDENCE_STYLES.values():
        for spec in passes:
            if issubclass(response_model, spec.answer_model):
                return spec.name
    raise AssertionError(f"unexpected response model {response_model!r}")


ARTICLE = (
    "IDLIB, Syria, Dec 9 (AFP) - Fighters from Hayat Tahrir al-Sham attacked an army checkpoint near Saraqib "
    "on Sunday, killing five soldiers, the Syrian Observatory for Human Rights said. "
    "HTS leader Abu Muhammad al-Jawlani said the group would keep advancing. "
    "Jawlani spoke from Idlib city. "
    "The United States has listed HTS as a terrorist organisation since 2018, and the U.S. offers a "
    "$10 million reward for information on Jawlani."
)
EVENT_QUOTE = (
    "Fighters from Hayat Tahrir al-Sham attacked an army checkpoint near Saraqib on Sunday, killing five "
    "soldiers, the Syrian Observatory for Human Rights said."
)
SANCTION_QUOTE = "The United States has listed HTS as a terrorist organisation since 2018, and the U.S. offers a $10 million reward for information on Jawlani."
INVENTED_QUOTE = "Government aircraft bombed a hospital in Maarat al-Numan, killing 30 civilians."

ACTORS = {
    "actors": [
        {"name": "Hayat Tahrir al-Sham", "kind": "armed_group", "aliases": ["HTS"]},
        {"name": "Abu Muhammad al-Jawlani", "kind": "person", "aliases": []},
        {"name": "Jawlani", "kind": "person", "aliases": []},
        {"name": "Syrian Observatory for Human Rights", "kind": "ngo", "aliases": []},
        {"name": "United States", "kind": "government", "aliases": ["U.S."]},
        {"name": "AFP", "kind": "media", "aliases": []},
    ]
}


def event(quote: str = EVENT_QUOTE, **fields: Any) -> dict[str, Any]:
    return {
        "quote": quote,
        "type": "battle",
        "perpetrators": ["HTS"],
        "targets": ["Syrian army"],
        "fatalities": 5,
        "country": "Syria",
        "admin1": "Idlib",
        "location": "Saraqib",
        "date": "Sunday",
        "sources": ["Syrian Observatory for Human Rights"],
        **fields,
    }


SANCTIONS = {
    "sanctions": [
        {
            "quote": SANCTION_QUOTE,
            "target": "HTS",
            "authority": "U.S.",
            "measure": "terrorist_designation",
            "status": "in_force",
            "program": None,
            "amount": None,
            "currency": None,
        },
        {
            "quote": SANCTION_QUOTE,
            "target": "Jawlani",
            "authority": "United States",
            "measure": "reward",
            "status": "in_force",
            "program": "",
            "amount": 10_000_000,
            "currency": "$",
        },
    ]
}

Script = Callable[[str, str], Any]  # (pass name, user message) -> payload, or list of payloads per attempt


def default_script(pass_name: str, user: str) -> Any:
    return {"actors": ACTORS, "events": {"events": [event()]}, "sanctions": SANCTIONS}[pass_name]


class FakeBackend(InstructorBackend):
    """An instructor-like fake: each attempt emits the completion hook with the JSON text,
    validates it against the response model (in the pipeline's grounding context) and
    re-asks on a validation error, like instructor does."""

    provider = "fake"
    model = "scripted"
    mode = "JSON"

    def __init__(self, script: Script = default_script, *, max_reasks: int = 1, concurrency: int = 1, fail: str | None = None):
        super().__init__(GenerationParams(), max_reasks)
        self.script = script
        self.capabilities = Capabilities(prefix_reuse=concurrency <= 1, max_concurrency=concurrency)
        self.fail = fail
        self.calls: list[tuple[str, str]] = []  # one per attempt (model call)

    @property
    def identity(self) -> str:
        return "fake:scripted-v1"

    async def _create(self) -> Any:
        async def create(*, response_model: type[BaseModel], messages: list[dict[str, str]], max_retries: int, hooks, **_: Any):
            name = pass_of(response_model)
            # The chunk the pipeline is grounding against: what this fake "reads".
            user = _grounding_text.get() or messages[-1]["content"]
            if self.fail:
                self.calls.append((name, user))
                raise ConnectionError(self.fail)
            payloads = self.script(name, user)
            if not isinstance(payloads, list):
                payloads = [payloads]
            error: Exception | None = None
            for attempt in range(max_retries + 1):
                payload = payloads[min(attempt, len(payloads) - 1)]
                self.calls.append((name, user))
                content = json.dumps(payload)
                hooks.emit_completion_response(
                    SimpleNamespace(
                        choices=[SimpleNamespace(message=SimpleNamespace(content=content, tool_calls=None))],
                        usage=SimpleNamespace(prompt_tokens=100, completion_tokens=10),
                    )
                )
                try:
                    return response_model.model_validate_json(content)
                except ValidationError as exc:
                    hooks.emit_parse_error(exc)
                    error = exc
            raise InstructorRetryException(str(error), n_attempts=max_retries + 1, total_usage=0) from error

        return create

    def passes_called(self) -> list[str]:
        return [name for name, _ in self.calls]


def make(backend: FakeBackend, cache_dir: Path | None = None, **options: Any) -> Extractor:
    # These tests script quote-style (v2) answers; v3's cited wiring is tested in
    # tests/unit/test_cited.py and tests/integration/test_sentence_plumbing.py.
    options.setdefault("prompt_version", "v2")
    # The scripted actors are the wiring's subject here; the people rule (which drops the
    # dateline's AFP and adds the tagger's persons) is tested below and in test_people.py.
    options.setdefault("people", False)
    return Extractor(backend=backend, cache=cache_dir is not None, cache_dir=str(cache_dir) if cache_dir else None, **options)


def records(extraction: Extraction) -> dict[str, Any]:
    data = extraction.model_dump(mode="json")
    return {key: data[key] for key in ("actors", "events", "sanctions")}


# ---------------------------------------------------------------- basic assembly


def test_people_rule_drops_the_dateline_agency_and_adds_tagged_people() -> None:
    from extractor.text.entities import tagger

    with make(FakeBackend(), people=True) as extractor:
        result = extractor.extract(ARTICLE, source="hts.txt", published="2024-12-09")
    names = {a.name for a in result.actors}
    assert "AFP" not in names  # named only in the dateline "IDLIB, Syria, Dec 9 (AFP) -"
    assert "dropped 1 actor(s) named only on a byline, dateline or credit line: AFP" in result.meta.warnings
    if tagger() is not None:  # the tagger's persons join the scripted actors, each grounded
        assert all(a.grounded for a in result.actors)
        assert all(ARTICLE[a.evidence.start : a.evidence.end] == a.name for a in result.actors if a.kind == "person")


def test_extract_assembles_grounded_records() -> None:
    backend = FakeBackend()
    with make(backend) as extractor:
        result = extractor.extract(ARTICLE, source="hts.txt", published="2024-12-09")
    assert backend.passes_called() == ["actors", "events", "sanctions"]
    assert result.source == "hts.txt"
    assert result.meta.model == "fake/scripted"
    assert result.meta.backend == "fake:scripted-v1"
    assert result.meta.model_calls == 3 and result.meta.cache_hit is False
    assert result.meta.usage.prompt_tokens == 300 and result.meta.usage.completion_tokens == 30
    assert result.meta.chunks == 1
    # the scripted target "Syrian army" is the model's wording, not the article's: flagged, kept
    assert result.meta.warnings == ["1 record(s) hold values the text does not support (e1; see their `checks`)"]
    assert result.events[0].checks == ["target 'Syrian army' is not in the text"]
    for record in result.records():
        assert record.grounded and record.evidence is not None
        assert ARTICLE[record.evidence.start : record.evidence.end] == record.evidence.quote
    (ev,) = result.events
    assert ev.evidence.quote == EVENT_QUOTE
    assert (ev.date, ev.date_text) == ("2024-12-08", "Sunday")
    assert (ev.country, ev.admin1, ev.location, ev.fatalities) == ("Syria", "Idlib", "Saraqib", 5)


def test_assembly_runs_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Grounding and resolution are CPU work: on the loop's thread they would stall the other
    documents' requests and deadlines (docs/RELIABILITY.md, hostile values)."""
    import asyncio
    import threading

    import extractor.pipeline.extractor as facade

    seen: list[tuple[str, bool]] = []
    real = facade.assemble

    def spy(*args: Any, **kwargs: Any):
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        seen.append((threading.current_thread().name, on_loop))
        return real(*args, **kwargs)

    monkeypatch.setattr(facade, "assemble", spy)
    with make(FakeBackend()) as extractor:
        result = extractor.extract(ARTICLE, source="hts.txt", published="2024-12-09")
    assert result.events and len(seen) == 1
    assert seen[0][1] is False, "assemble ran on the event loop's thread"


def test_actor_resolution_rewrites_event_and_sanction_references() -> None:
    with make(FakeBackend()) as extractor:
        result = extractor.extract(ARTICLE, published="2024-12-09")
    names = {a.name: a for a in result.actors}
    assert set(names) == {
        "Hayat Tahrir al-Sham",
        "Abu Muhammad al-Jawlani",
        "Syrian Observatory for Human Rights",
        "United States",
        "AFP",
    }
    hts, jawlani, usa = names["Hayat Tahrir al-Sham"], names["Abu Muhammad al-Jawlani"], names["United States"]
    assert hts.aliases == ["HTS"] and hts.kind == "armed_group"
    assert jawlani.aliases == ["Jawlani"]
    assert [a.id for a in result.actors] == [f"a{n}" for n in range(1, len(result.actors) + 1)]

    (ev,) = result.events
    assert ev.perpetrators == ["Hayat Tahrir al-Sham"]  # the event said "HTS"
    assert ev.perpetrator_ids == [hts.id]
    assert ev.targets == ["Syrian army"] and ev.target_ids == []  # not an actor: kept as written

    designation, reward = result.sanctions
    assert (designation.target, designation.target_id) == ("Hayat Tahrir al-Sham", hts.id)
    assert (designation.authority, designation.authority_id) == ("United States", usa.id)
    assert (reward.target, reward.target_id) == ("Abu Muhammad al-Jawlani", jawlani.id)
    assert (reward.amount, reward.currency, reward.program) == (10_000_000, "USD", None)


def test_actor_mentions_from_different_chunks_merge() -> None:
    part1 = "Fighters of Hayat Tahrir al-Sham entered the town. " * 4
    filler = "Residents said the streets were quiet after the fighting ended late on Sunday evening. " * 12
    part2 = "HTS commanders then met local elders. " * 4
    text = part1 + filler + part2

    def script(name: str, user: str) -> Any:
        actors = []
        if "Hayat Tahrir al-Sham" in user:
            actors.append({"name": "Hayat Tahrir al-Sham", "kind": "armed_group", "aliases": []})
        if "HTS" in user:
            actors.append({"name": "HTS", "kind": "armed_group", "aliases": []})
        return {"actors": {"actors": actors}, "events": {"events": []}, "sanctions": {"sanctions": []}}[name]

    with make(FakeBackend(script), passes=("actors",), chunk_tokens=150, overlap_tokens=20) as extractor:
        result = extractor.extract(text)
    assert result.meta.chunks >= 2
    (actor,) = result.actors
    assert actor.name == "Hayat Tahrir al-Sham" and actor.aliases == ["HTS"]


# ---------------------------------------------------------------- cache


def test_second_identical_extract_is_served_from_cache(cache_dir: Path) -> None:
    first_backend = FakeBackend()
    with make(first_backend, cache_dir) as extractor:
        first = extractor.extract(ARTICLE, published="2024-12-09")
    assert len(first_backend.calls) == 3 and first.meta.cache_hit is False

    second_backend = FakeBackend()
    with make(second_backend, cache_dir) as extractor:
        second = extractor.extract(ARTICLE, published="2024-12-09")
        assert extractor.cache is not None and extractor.cache.hits == 3
    assert second_backend.calls == []
    assert second.meta.cache_hit is True
    assert second.meta.model_calls == 0
    assert all(p.cache_hit for p in second.meta.passes)
    assert second.meta.usage == first.meta.usage  # usage recorded with the entry
    assert records(second) == records(first)


def test_same_extractor_hits_its_own_cache(cache_dir: Path) -> None:
    backend = FakeBackend()
    with make(backend, cache_dir) as extractor:
        extractor.extract(ARTICLE)
        again = extractor.extract(ARTICLE)
    assert len(backend.calls) == 3
    assert again.meta.cache_hit is True


def test_cache_is_keyed_on_text_and_published(cache_dir: Path) -> None:
    backend = FakeBackend()
    with make(backend, cache_dir) as extractor:
        extractor.extract(ARTICLE, published="2024-12-09")
        extractor.extract(ARTICLE, published="2024-12-10")  # the prompt differs
        extractor.extract(ARTICLE + " More later.", published="2024-12-09")
    assert len(backend.calls) == 9


def test_no_cache_calls_the_backend_every_time(cache_dir: Path) -> None:
    with make(FakeBackend(), cache_dir) as extractor:
        extractor.extract(ARTICLE)  # a warm cache that must be ignored
    backend = FakeBackend()
    with Extractor(backend=backend, cache=False, cache_dir=str(cache_dir), prompt_version="v2") as extractor:
        assert extractor.cache is None
        first = extractor.extract(ARTICLE)
        second = extractor.extract(ARTICLE)
    assert len(backend.calls) == 6
    assert first.meta.cache_hit is False and second.meta.cache_hit is False
    assert second.meta.model_calls == 3


def test_corrupt_cache_entry_is_recomputed(cache_dir: Path) -> None:
    with make(FakeBackend(), cache_dir) as extractor:
        extractor.extract(ARTICLE)
        assert extractor.cache is not None
        for key in list(extractor.cache._cache.iterkeys()):
            extractor.cache._cache.set(key, json.dumps({"output": {"events": "not a list"}}))
    backend = FakeBackend()
    with make(backend, cache_dir) as extractor:
        result = extractor.extract(ARTICLE)
    assert len(backend.calls) == 3
    assert result.meta.cache_hit is False and len(result.events) == 1


# ---------------------------------------------------------------- grounding policy


def ungrounded_script(name: str, user: str) -> Any:
    if name == "events":
        return {"events": [event(), event(INVENTED_QUOTE, type="explosion_remote_violence", fatalities=30)]}
    return default_script(name, user)


def test_ungrounded_quote_is_dropped_with_a_warning() -> None:
    backend = FakeBackend(ungrounded_script, max_reasks=1)
    with make(backend, ungrounded="drop") as extractor:
        result = extractor.extract(ARTICLE)
    assert backend.passes_called().count("events") == 2  # the first answer was re-asked once
    assert [e.evidence.quote for e in result.events] == [EVENT_QUOTE]
    assert all(r.grounded for r in result.records())
    assert any("dropped 1 record" in w for w in result.meta.warnings), result.meta.warnings
    assert any("kept after re-asks" in w for w in result.meta.warnings)
    assert result.meta.reasks == 1


def test_ungrounded_quote_is_flagged_when_asked() -> None:
    with make(FakeBackend(ungrounded_script), ungrounded="flag") as extractor:
        result = extractor.extract(ARTICLE)
    grounded, flagged = result.events
    assert grounded.grounded is True and grounded.evidence is not None
    assert flagged.grounded is False and flagged.evidence is None
    assert flagged.type == "explosion_remote_violence" and flagged.fatalities == 30
    assert not any("dropped" in w for w in result.meta.warnings)


def test_ungrounded_actor_name_is_dropped_without_reask() -> None:
    def script(name: str, user: str) -> Any:
        if name == "actors":
            return {"actors": [*ACTORS["actors"], {"name": "Wagner Group", "kind": "armed_group", "aliases": []}]}
        return default_script(name, user)

    backend = FakeBackend(script)
    with make(backend) as extractor:
        result = extractor.extract(ARTICLE)
    assert backend.passes_called().count("actors") == 1
    assert "Wagner Group" not in {a.name for a in result.actors}
    assert any("dropped 1 record" in w for w in result.meta.warnings)


def test_reask_that_fixes_the_quote_keeps_it(cache_dir: Path) -> None:
    def script(name: str, user: str) -> Any:
        if name == "events":
            return [{"events": [event(INVENTED_QUOTE)]}, {"events": [event()]}]
        return default_script(name, user)

    backend = FakeBackend(script, max_reasks=1)
    with make(backend, cache_dir) as extractor:
        result = extractor.extract(ARTICLE)
    assert [e.evidence.quote for e in result.events] == [EVENT_QUOTE]
    assert result.meta.reasks == 1
    assert result.meta.model_calls == 4
    assert [w for w in result.meta.warnings if "does not support" not in w] == []


def test_salvaged_answer_is_cached_with_its_warning(cache_dir: Path) -> None:
    with make(FakeBackend(ungrounded_script), cache_dir) as extractor:
        first = extractor.extract(ARTICLE)
    backend = FakeBackend(ungrounded_script)
    with make(backend, cache_dir) as extractor:
        result = extractor.extract(ARTICLE)
    assert backend.passes_called() == []  # a replay makes no model call
    assert result.meta.cache_hit is True and result.meta.model_calls == 0
    assert [e.evidence.quote for e in result.events] == [e.evidence.quote for e in first.events] == [EVENT_QUOTE]
    assert any("kept after re-asks" in w for w in result.meta.warnings)
    assert any("dropped 1 record" in w for w in result.meta.warnings)


def test_transport_failure_is_not_cached(cache_dir: Path) -> None:
    with make(FakeBackend(fail="connection refused"), cache_dir) as extractor:
        with pytest.raises(ExtractionError):
            extractor.extract(ARTICLE)
    backend = FakeBackend()
    with make(backend, cache_dir) as extractor:
        result = extractor.extract(ARTICLE)
    assert sorted(backend.passes_called()) == ["actors", "events", "sanctions"]
    assert result.meta.cache_hit is False and result.events


def test_transport_failure_raises_extraction_error() -> None:
    backend = FakeBackend(fail="connection refused")
    with make(backend) as extractor:
        with pytest.raises(ExtractionError, match="connection refused"):
            extractor.extract(ARTICLE)


# ---------------------------------------------------------------- chunking and de-duplication


def long_article() -> tuple[str, list[str]]:
    sentences, events = [], []
    for number in range(60):
        if number % 3 == 1:
            sentence = f"Militants attacked checkpoint number {number} in the north, killing {number} soldiers."
            events.append(sentence)
        else:
            sentence = f"Paragraph {number} describes the situation on the ground in some detail for readers."
        sentences.append(sentence)
    return " ".join(sentences), events


def chunk_event_script(name: str, user: str) -> Any:
    if name != "events":
        return {"actors": {"actors": []}, "sanctions": {"sanctions": []}}[name]
    found = re.findall(r"Militants attacked checkpoint number (\d+) in the north, killing \d+ soldiers\.", user)
    return {
        "events": [
            event(
                f"Militants attacked checkpoint number {n} in the north, killing {n} soldiers.",
                perpetrators=["Militants"],
                targets=["soldiers"],
                fatalities=int(n),
                date=None,
            )
            for n in found
        ]
    }


@pytest.mark.parametrize("concurrency", [1, 4])
def test_long_text_is_chunked_and_overlap_duplicates_merge(concurrency: int) -> None:
    text, event_sentences = long_article()
    chunk_tokens, overlap = 200, 60
    backend = FakeBackend(chunk_event_script, concurrency=concurrency)
    with make(backend, chunk_tokens=chunk_tokens, overlap_tokens=overlap) as extractor:
        result = extractor.extract(text)
    chunks = chunk_text(text, max_tokens=chunk_tokens, overlap_tokens=overlap, count_tokens=backend.count_tokens)
    assert result.meta.chunks == len(chunks) >= 4
    assert len(backend.calls) == 3 * len(chunks)
    assert {p.chunk for p in result.meta.passes} == set(range(len(chunks)))

    drafts = sum(len(re.findall("Militants attacked checkpoint", user)) for name, user in backend.calls if name == "events")
    assert drafts > len(event_sentences), "the overlap should have shown some events twice"
    assert len(result.events) == len(event_sentences)
    assert sorted(e.fatalities for e in result.events) == sorted(n for n in range(60) if n % 3 == 1)
    for ev in result.events:
        assert ev.grounded and text[ev.evidence.start : ev.evidence.end] == ev.evidence.quote
    assert [e.id for e in result.events] == [f"e{n}" for n in range(1, len(result.events) + 1)]


def test_events_at_different_places_are_not_merged() -> None:
    text = "Militants attacked a checkpoint in the north. Militants attacked a checkpoint in the south."

    def script(name: str, user: str) -> Any:
        if name == "events":
            return {
                "events": [
                    event("Militants attacked a checkpoint in the north.", perpetrators=["Militants"], targets=[]),
                    event("Militants attacked a checkpoint in the south.", perpetrators=["Militants"], targets=[]),
                    event("Militants attacked a checkpoint in the north.", perpetrators=["militants"], targets=[]),
                ]
            }
        return {"actors": {"actors": []}, "sanctions": {"sanctions": []}}[name]

    with make(FakeBackend(script)) as extractor:
        result = extractor.extract(text)
    assert [e.evidence.start for e in result.events] == [0, text.index("Militants attacked a checkpoint in the south.")]


# ---------------------------------------------------------------- input and option errors


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_raises_value_error(text: str) -> None:
    backend = FakeBackend()
    with make(backend) as extractor:
        with pytest.raises(ValueError, match="empty"):
            extractor.extract(text)
    assert backend.calls == []


def test_invalid_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="passes"):
        Extractor(backend=FakeBackend(), cache=False, passes=("relations",))
    with pytest.raises(ValueError, match="passes"):
        Extractor(backend=FakeBackend(), cache=False, passes=())
    with pytest.raises(ValueError, match="ungrounded"):
        Extractor(backend=FakeBackend(), cache=False, ungrounded="keep")  # type: ignore[arg-type]


def test_selected_passes_only() -> None:
    backend = FakeBackend()
    with make(backend, passes=("events",)) as extractor:
        result = extractor.extract(ARTICLE)
    assert backend.passes_called() == ["events"]
    assert result.sanctions == [] and len(result.events) == 1
    assert [p.name for p in result.meta.passes] == ["events"]
    (ev,) = result.events
    # without an actors pass, actors can only come from the event's own participants
    participants = set(ev.perpetrators) | set(ev.targets)
    assert {a.name for a in result.actors} <= participants
    assert set(ev.perpetrator_ids) <= {a.id for a in result.actors}


def test_extract_many_isolates_failures() -> None:
    import asyncio

    backend = FakeBackend()

    async def run(extractor: Extractor) -> dict[str, Any]:
        docs = [("good", ARTICLE, None), ("empty", "  ", None)]
        return {source: result async for source, result in extractor.aextract_many(docs, concurrency=2)}

    extractor = make(backend)
    try:
        results = asyncio.run(run(extractor))
    finally:
        if extractor.cache is not None:
            extractor.cache.close()
    assert isinstance(results["good"], Extraction)
    assert isinstance(results["empty"], ValueError)


def test_extract_many_reads_documents_only_as_slots_free_up() -> None:
    """A corpus streams: with N in flight, no more than N documents have been taken from the
    iterable when the first result comes out, and every one comes out exactly once."""
    import asyncio

    pulled: list[int] = []

    def corpus():
        for n in range(10):
            pulled.append(n)
            yield (f"doc{n}", ARTICLE.replace("Saraqib", f"Saraqib {n}"), None)

    async def run(extractor: Extractor) -> tuple[int, list[str]]:
        taken_at_first = None
        seen = []
        async for source, result in extractor.aextract_many(corpus(), concurrency=2):
            assert not isinstance(result, BaseException), result
            taken_at_first = len(pulled) if taken_at_first is None else taken_at_first
            seen.append(source)
        return taken_at_first, seen

    with make(FakeBackend()) as extractor:
        taken_at_first, seen = asyncio.run(run(extractor))
    assert taken_at_first <= 2
    assert sorted(seen) == [f"doc{n}" for n in range(10)]


# ---------------------------------------------------------------- per-pass cache keys


def _prompt_copies(tmp_path: Path) -> Path:
    """prompts/v2 twice: `v2` as shipped and `v2b` with only its events task changed."""
    import shutil

    from extractor.llm.prompts import prompts_root

    root = tmp_path / "prompts"
    shutil.copytree(prompts_root() / "v2", root / "v2")
    shutil.copytree(prompts_root() / "v2", root / "v2b")
    events = root / "v2b" / "events.j2"
    events.write_text(events.read_text(encoding="utf-8") + " List every incident.", encoding="utf-8")
    return root


def test_a_version_that_changes_one_task_reruns_that_pass_only(cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRACTOR_PROMPTS_DIR", str(_prompt_copies(tmp_path)))
    with make(FakeBackend(), cache_dir) as extractor:
        extractor.extract(ARTICLE, published="2024-12-09")
    backend = FakeBackend()
    with make(backend, cache_dir, prompt_version="v2b") as extractor:
        changed = extractor.extract(ARTICLE, published="2024-12-09")
    assert backend.passes_called() == ["events"]
    assert changed.meta.prompt_version.startswith("v2b+")
    assert [p.cache_hit for p in changed.meta.passes] == [True, False, True]


def test_an_entry_under_a_format_1_key_is_found_and_moved_to_its_new_key(cache_dir: Path) -> None:
    from extractor.cache import ResponseCache

    with make(FakeBackend(), cache_dir) as extractor:
        extractor.extract(ARTICLE, published="2024-12-09")
        runner, prompts = extractor.runner, extractor.prompts
    # Rewrite the cache as a format-1 cache: every entry under the key that covered the whole version.
    cache = ResponseCache(cache_dir)
    entries = list(cache.items())
    cache.clear()
    plan = {entry["pass"]: entry for _, entry in entries}
    from extractor.text.chunking import Chunk

    chunk = Chunk(0, 0, len(ARTICLE), ARTICLE)
    for name, entry in plan.items():
        messages = prompts.messages(name, ARTICLE, "2024-12-09", {"candidates": []})
        cache.set(runner._key(name, chunk, messages, legacy=True), entry)
    cache.close()

    backend = FakeBackend()
    with make(backend, cache_dir) as extractor:
        again = extractor.extract(ARTICLE, published="2024-12-09")
    assert backend.calls == [] and again.meta.cache_hit is True
    reopened = ResponseCache(cache_dir)
    assert len(list(reopened.items())) == len(plan)  # each moved, none duplicated
    reopened.close()


def test_the_name_tagger_is_loaded_when_the_extractor_is_built_in_its_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """spaCy's first import pulls in httpx; made later from an assembly worker thread while a
    request used httpx on the event loop, it once failed a document in CI."""
    import threading

    from extractor.text import entities

    calls: list[int] = []
    monkeypatch.setattr(entities, "warm", lambda: calls.append(threading.get_ident()))
    with make(FakeBackend()):
        assert calls == [threading.get_ident()]
    calls.clear()
    with make(FakeBackend(), places_are_not_actors=False, people=False):
        assert calls == []  # nothing that reads the tagger: it is not loaded
