"""passes: model-facing draft schemas (flat, all required), enums, grounding validators."""

from __future__ import annotations

import asyncio
import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from extractor import schemas
from extractor.eval import scoring
from extractor.records import ANSWER_MODELS, schema_hash
from extractor.llm.drafts import (
    ActorDraft,
    ActorKindLit,
    ActorsAnswer,
    EventDraft,
    EventsAnswer,
    EventTypeLit,
    MeasureLit,
    SanctionsAnswer,
    StatusLit,
    ground,
    grounding_against,
)

ARTICLE = (
    "BAMAKO, March 4 (Reuters) - Gunmen from the Katiba Serma militia killed 12 villagers in Dioura "
    "on Sunday, a local official told Reuters. The U.S. Treasury on Monday designated Katiba Serma's "
    "leader, Amadou Kone, as a Specially Designated Global Terrorist."
)
EVENT_QUOTE = "Gunmen from the Katiba Serma militia killed 12 villagers in Dioura on Sunday, a local official told Reuters."
SANCTION_QUOTE = "The U.S. Treasury on Monday designated Katiba Serma's leader, Amadou Kone, as a Specially Designated Global Terrorist."
INVENTED = "Soldiers shelled the market in Gao, killing 40 people."


def event(quote: str = EVENT_QUOTE, **fields: Any) -> dict[str, Any]:
    return {
        "quote": quote,
        "type": "violence_against_civilians",
        "perpetrators": ["Katiba Serma"],
        "targets": ["villagers"],
        "fatalities": 12,
        "country": "Mali",
        "admin1": None,
        "location": "Dioura",
        "date": "Sunday",
        "sources": ["Reuters"],
        **fields,
    }


def sanction(quote: str = SANCTION_QUOTE, **fields: Any) -> dict[str, Any]:
    return {
        "quote": quote,
        "target": "Amadou Kone",
        "authority": "United States",
        "measure": "terrorist_designation",
        "status": "imposed",
        "program": None,
        "amount": None,
        "currency": None,
        **fields,
    }


# ---------------------------------------------------------------- schemas for the grammar


def _walk(node: Any, path: str = "$"):
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for number, value in enumerate(node):
            yield from _walk(value, f"{path}[{number}]")


@pytest.mark.parametrize("name", sorted(ANSWER_MODELS))
def test_answer_schema_is_flat_and_fully_required(name: str) -> None:
    schema = ANSWER_MODELS[name].model_json_schema()
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in text and "definitions" not in text
    objects = 0
    for path, node in _walk(schema):
        if isinstance(node, dict) and node.get("type") == "object":
            objects += 1
            assert "properties" in node, path
            assert sorted(node.get("required", [])) == sorted(node["properties"]), path
            assert node.get("additionalProperties") is False, path
        if isinstance(node, dict) and "properties" in node:
            for prop_name, prop in node["properties"].items():
                assert "default" not in prop, f"{path}.{prop_name}"
    assert objects == 2  # the answer wrapper and its item


@pytest.mark.parametrize("name", sorted(ANSWER_MODELS))
def test_schema_is_valid_json_and_independent_of_call(name: str) -> None:
    model = ANSWER_MODELS[name]
    first = model.model_json_schema()
    first["properties"]["tampered"] = {"type": "string"}  # a caller mutating the result
    assert "tampered" not in model.model_json_schema()["properties"]


def test_schema_hash_is_stable() -> None:
    first = schema_hash()
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert schema_hash() == first
    assert schema_hash() == first


def test_schema_hash_covers_every_answer_model(monkeypatch: pytest.MonkeyPatch) -> None:
    before = schema_hash()
    original = EventsAnswer.model_json_schema

    def changed(*args: Any, **kwargs: Any) -> dict[str, Any]:
        schema = original(*args, **kwargs)
        schema["description"] = "changed"
        return schema

    monkeypatch.setattr(EventsAnswer, "model_json_schema", changed)
    assert schema_hash() != before


# ---------------------------------------------------------------- enumerations agree everywhere

LITERALS = {
    "kind": (ActorKindLit, schemas.ActorKind, scoring.ACTOR_KINDS),
    "type": (EventTypeLit, schemas.EventType, scoring.EVENT_TYPES),
    "measure": (MeasureLit, schemas.Measure, scoring.MEASURES),
    "status": (StatusLit, schemas.SanctionStatus, scoring.STATUSES),
}


@pytest.mark.parametrize("field", sorted(LITERALS))
def test_enum_values_agree_between_passes_schemas_and_scoring(field: str) -> None:
    literal, enum, scoring_values = LITERALS[field]
    assert issubclass(enum, StrEnum)
    assert list(get_args(literal)) == [member.value for member in enum]
    assert tuple(get_args(literal)) == tuple(scoring_values)


EVAL_FORMAT = Path(__file__).resolve().parents[2] / "docs" / "EVAL_FORMAT.md"
SHARED_EVAL_FORMAT = Path(__file__).resolve().parents[3] / "shared" / "EVAL_FORMAT.md"


def test_docs_copy_of_the_eval_format_is_current() -> None:
    """docs/EVAL_FORMAT.md is the repository's copy of the shared contract; when the shared
    original sits beside the checkout, the two must be identical."""
    assert EVAL_FORMAT.is_file()
    if not SHARED_EVAL_FORMAT.is_file():
        pytest.skip("no shared/ beside this checkout to compare with")
    assert EVAL_FORMAT.read_text(encoding="utf-8") == SHARED_EVAL_FORMAT.read_text(encoding="utf-8")


def parse_enumerations(markdown: str) -> dict[str, list[str]]:
    """The '### Enumerations' bullet list: {'kind': [...], 'type': [...], ...}."""
    section = markdown.split("### Enumerations", 1)[1]
    section = re.split(r"\n#{1,3} ", section, maxsplit=1)[0]
    items = re.split(r"\n- ", "\n" + section.strip())
    result: dict[str, list[str]] = {}
    for item in items:
        item = " ".join(item.split())
        label = re.match(r"[\w ]*`(\w+)`", item)
        if not label or ":" not in item:
            continue
        values = re.findall(r"`([a-z_]+)`", item.split(":", 1)[1])
        if label[1] in LITERALS:
            result[label[1]] = values
    return result


def test_parse_enumerations_helper() -> None:
    sample = "### Enumerations\n- actor `kind`: `a`, `b`,\n  `c`.\n- sanctions `status`: `x` (new), `y`.\n## Next\n- `z`: `q`"
    assert parse_enumerations(sample) == {"kind": ["a", "b", "c"], "status": ["x", "y"]}


@pytest.mark.parametrize("field", sorted(LITERALS))
def test_enum_values_agree_with_eval_format(field: str) -> None:
    documented = parse_enumerations(EVAL_FORMAT.read_text(encoding="utf-8"))
    assert set(documented) == set(LITERALS), documented
    literal = LITERALS[field][0]
    assert documented[field] == list(get_args(literal)), f"{field}: EVAL_FORMAT.md and passes.py disagree"


# ---------------------------------------------------------------- grounding validators


def test_ungrounded_event_quote_raises_naming_the_quote() -> None:
    payload = {"events": [event(), event(INVENTED, fatalities=40)]}
    with grounding_against(ARTICLE):
        with pytest.raises(ValidationError) as info:
            EventsAnswer.model_validate(payload)
    message = str(info.value)
    assert INVENTED in message
    assert "not in the article" in message
    assert EVENT_QUOTE not in message  # only the missing one is named


def test_ungrounded_event_quote_raises_through_json_too() -> None:
    with grounding_against(ARTICLE):
        with pytest.raises(ValidationError, match="Gao"):
            EventsAnswer.model_validate_json(json.dumps({"events": [event(INVENTED)]}))


def test_grounded_event_quote_validates() -> None:
    with grounding_against(ARTICLE):
        answer = EventsAnswer.model_validate({"events": [event()]})
    assert answer.items()[0].quote == EVENT_QUOTE


def test_near_verbatim_quote_is_grounded() -> None:
    sloppy = EVENT_QUOTE.lower().replace(" on Sunday", "  on  Sunday")
    with grounding_against(ARTICLE):
        EventsAnswer.model_validate({"events": [event(sloppy)]})


def test_outside_the_context_anything_validates() -> None:
    answer = EventsAnswer.model_validate({"events": [event(INVENTED)]})
    assert answer.events[0].quote == INVENTED
    with grounding_against(ARTICLE):
        pass
    EventsAnswer.model_validate({"events": [event(INVENTED)]})  # context was reset
    with grounding_against(None):
        EventsAnswer.model_validate({"events": [event(INVENTED)]})


def test_grounding_context_is_reset_after_an_error() -> None:
    with pytest.raises(RuntimeError):
        with grounding_against(ARTICLE):
            raise RuntimeError("boom")
    EventsAnswer.model_validate({"events": [event(INVENTED)]})


def test_grounding_context_nests() -> None:
    other = "Soldiers shelled the market in Gao, killing 40 people. Nothing else happened."
    with grounding_against(ARTICLE):
        with grounding_against(other):
            EventsAnswer.model_validate({"events": [event(INVENTED)]})
        with pytest.raises(ValidationError):
            EventsAnswer.model_validate({"events": [event(INVENTED)]})


def test_grounding_context_is_per_task() -> None:
    async def validate_in(text: str) -> bool:
        with grounding_against(text):
            await asyncio.sleep(0.01)
            try:
                EventsAnswer.model_validate({"events": [event(INVENTED)]})
                return True
            except ValidationError:
                return False

    async def main() -> list[bool]:
        return list(await asyncio.gather(validate_in(ARTICLE), validate_in(INVENTED), validate_in(ARTICLE)))

    assert asyncio.run(main()) == [False, True, False]


def test_ungrounded_sanction_quote_raises() -> None:
    with grounding_against(ARTICLE):
        SanctionsAnswer.model_validate({"sanctions": [sanction()]})
        with pytest.raises(ValidationError, match="quote"):
            SanctionsAnswer.model_validate({"sanctions": [sanction("The EU froze the assets of Amadou Kone.")]})


def test_empty_answer_validates_in_context() -> None:
    with grounding_against(ARTICLE):
        assert EventsAnswer.model_validate({"events": []}).items() == []


def test_actors_answer_does_not_reask_for_an_ungrounded_name() -> None:
    assert ActorsAnswer.reask_ungrounded is False
    payload = {
        "actors": [
            {"name": "Katiba Serma", "kind": "armed_group", "aliases": []},
            {"name": "Wagner Group", "kind": "armed_group", "aliases": []},
        ]
    }
    with grounding_against(ARTICLE):
        answer = ActorsAnswer.model_validate(payload)
    assert [a.name for a in answer.items()] == ["Katiba Serma", "Wagner Group"]
    assert ground(answer.actors[1], ARTICLE) is None


def test_ground_uses_name_then_aliases() -> None:
    actor = ActorDraft(name="United States Treasury", kind="government", aliases=["U.S. Treasury"])
    evidence = ground(actor, ARTICLE, base=100)
    assert evidence is not None
    assert evidence.quote == "U.S. Treasury"
    assert evidence.start == 100 + ARTICLE.index("U.S. Treasury")
    draft = EventDraft.model_validate(event())
    evidence = ground(draft, ARTICLE)
    assert evidence is not None and ARTICLE[evidence.start : evidence.end] == EVENT_QUOTE


@pytest.mark.parametrize("value", [-1, -100, 1_000_001])
def test_implausible_fatalities_are_rejected(value: int) -> None:
    with pytest.raises(ValidationError, match="fatalities"):
        EventsAnswer.model_validate({"events": [event(fatalities=value)]})


@pytest.mark.parametrize("value", [0, 12, None])
def test_plausible_fatalities_are_accepted(value: int | None) -> None:
    assert EventsAnswer.model_validate({"events": [event(fatalities=value)]}).events[0].fatalities == value


def test_negative_amount_is_rejected() -> None:
    with pytest.raises(ValidationError, match="amount"):
        SanctionsAnswer.model_validate({"sanctions": [sanction(amount=-5.0)]})
    assert SanctionsAnswer.model_validate({"sanctions": [sanction(amount=5e6)]}).sanctions[0].amount == 5e6


@pytest.mark.parametrize(
    "model, payload",
    [
        (EventsAnswer, {"events": [event(type="massacre")]}),
        (SanctionsAnswer, {"sanctions": [sanction(measure="embargo")]}),
        (SanctionsAnswer, {"sanctions": [sanction(status="active")]}),
        (ActorsAnswer, {"actors": [{"name": "X", "kind": "militia", "aliases": []}]}),
    ],
)
def test_values_outside_the_enums_are_rejected(model, payload) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(payload)


def test_name_lists_are_cleaned() -> None:
    draft = EventDraft.model_validate(
        event(perpetrators=["  Katiba   Serma ", "katiba serma", "", "Wagner"], sources=["AFP", "afp", " Reuters"])
    )
    assert draft.perpetrators == ["Katiba Serma", "Wagner"]
    assert draft.sources == ["AFP", "Reuters"]
    actor = ActorDraft(name="Islamic State", kind="armed_group", aliases=["IS", " is ", "ISIS"])
    assert actor.aliases == ["IS", "ISIS"]


def test_extra_keys_are_ignored() -> None:
    answer = EventsAnswer.model_validate({"events": [event(confidence=0.9)], "notes": "x"})
    assert not hasattr(answer.events[0], "confidence")
