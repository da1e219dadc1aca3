"""The second look (`pipeline.second_look`): which paragraphs are asked again, what is shown,
which answers count, and the wiring in `Extractor`. Scripted answers only: whether the second
look finds real incidents is measured by the live evals (docs/EVALS.md), never here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from extractor.llm.cited import CitedEvent
from extractor.pipeline import second_look
from extractor.pipeline.assemble import PassOutput
from extractor.pipeline.deferred import AnswerBook, CallsPending
from extractor.pipeline.run import PassJob
from extractor.schemas import PassStat
from extractor.text.chunking import Chunk
from extractor.text.sentences import numbered
from tests.unit.test_pipeline_unit import FakeBackend, make

REPORT = (
    "Gunmen kill 12 in raids on two villages\n"  # 1
    "\n"
    "LUMA, Kivalia, May 4 (Wire) - Gunmen of the Tembo Brigade killed nine villagers in Tembo on Saturday, police said.\n"  # 2
    "\n"
    "On Sunday, the Tembo Brigade attacked Soro, killing three farmers.\n"  # 3
    "\n"
    "On Monday, Kivalian soldiers clashed with the Tembo Brigade near Kuma.\n"  # 4
)


def _event(sentence: int, kind: str = "violence_against_civilians", perpetrators: tuple[str, ...] = ("Tembo Brigade",),
           targets: tuple[str, ...] = ("villagers",)) -> dict[str, Any]:  # fmt: skip
    return {"type": kind, "perpetrators": list(perpetrators), "targets": list(targets), "fatalities": None,
            "country": "Kivalia", "admin1": None, "location": None, "date": None, "sentence": sentence}  # fmt: skip


def _events(*records: dict[str, Any]) -> list[CitedEvent]:
    return [CitedEvent.model_validate(record) for record in records]


def _first_round(*records: dict[str, Any], skip: bool = False) -> tuple[PassJob, PassOutput]:
    chunk = Chunk(0, 0, len(REPORT), REPORT)
    job = PassJob(chunk, numbered(REPORT), "events", {}, skip)
    return job, PassOutput(chunk, "events", _events(*records), PassStat(name="events", chunk=0, cache_hit=False, seconds=0.0))


def test_each_uncited_paragraph_is_shown_alone_with_its_own_numbers() -> None:
    job, output = _first_round(_event(2))
    follow = second_look.jobs([job], [output])
    assert [f.model_text for f in follow] == [
        "[3] On Sunday, the Tembo Brigade attacked Soro, killing three farmers.",
        "[4] On Monday, Kivalian soldiers clashed with the Tembo Brigade near Kuma.",
    ]
    assert all(f.name == "events" and f.chunk is job.chunk and not f.skip for f in follow)


def test_no_second_look_without_a_first_event_or_an_uncited_incident() -> None:
    assert second_look.jobs(*map(list, zip(_first_round()))) == []  # nothing found: not asked twice
    assert second_look.jobs(*map(list, zip(_first_round(_event(2), skip=True)))) == []
    assert second_look.jobs(*map(list, zip(_first_round(_event(2), _event(3), _event(4, "battle"))))) == []


def test_a_second_look_answer_keeps_only_records_citing_what_it_was_shown() -> None:
    job, first = _first_round(_event(2))
    follow = second_look.jobs([job], [first])[0]
    answer = PassOutput(
        job.chunk, "events",
        _events(_event(3, targets=("farmers",)), _event(2, "battle", ("police",), ())),
        PassStat(name="events", chunk=0, cache_hit=False, seconds=0.0),
    )  # fmt: skip
    assert [e.sentence for e in second_look.shown_only(follow, answer).items] == [3]


def _script(calls: list[str]):
    """The first events call cites the lead; each second look cites the sentence it is shown."""

    def script(name: str, user: str) -> Any:
        if name != "events":
            return {"actors": {"actors": []}, "sanctions": {"sanctions": []}}[name]
        calls.append(name)
        sentence = 2 + len(calls) - 1
        place, day = {2: ("Tembo", "Saturday"), 3: ("Soro", "Sunday"), 4: ("Kuma", "Monday")}[sentence]
        return {"events": [{**_event(sentence, "battle", ("Kivalian soldiers",), ("Tembo Brigade",)), "location": place, "date": day}]}

    return script


def test_the_extractor_asks_once_more_per_paragraph_and_keeps_the_incidents() -> None:
    calls: list[str] = []
    with make(FakeBackend(_script(calls)), prompt_version="v5", passes=("events",)) as extractor:
        result = extractor.extract(REPORT)
    assert len(calls) == 3
    assert [p.name for p in result.meta.passes] == ["events"] * 3
    assert sorted(e.evidence.quote[:9] for e in result.events) == ["LUMA, Kiv", "On Monday", "On Sunday"]


def test_the_second_look_can_be_switched_off() -> None:
    calls: list[str] = []
    with make(FakeBackend(_script(calls)), prompt_version="v5", passes=("events",), second_look=False) as extractor:
        result = extractor.extract(REPORT)
    assert len(calls) == 1 and len(result.events) == 1


def _completion(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "batch-answer", "object": "chat.completion", "created": 0, "model": "scripted",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": json.dumps(payload)}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
    }  # fmt: skip


def test_with_an_answer_book_the_second_look_is_a_later_round(tmp_path: Path) -> None:
    book = AnswerBook()
    calls: list[str] = []
    answer = _script(calls)
    rounds = []
    with make(FakeBackend(), tmp_path / "cache", prompt_version="v5", passes=("events",), answers=book) as extractor:
        for _ in range(3):
            try:
                result = extractor.extract(REPORT)
                break
            except CallsPending as pending:
                rounds.append(len(pending.calls))
                for call in pending.calls:
                    book.completions[call.key] = _completion(answer("events", ""))
    assert rounds == [1, 2]  # the events pass, then one second look per uncited paragraph
    assert len(result.events) == 3
