"""Values a hostile or broken server (or a careless option) can produce, each of which used to
crash a document, poison the cache or write invalid JSON (docs/RELIABILITY.md, round 2)."""

from __future__ import annotations

import io
import json
import math

import pytest
from pydantic import ValidationError

from extractor.backends.remote.retry import retry_after_seconds
from extractor.batch.inputs import decode
from extractor.batch.jsonl import JsonlWriter
from extractor.errors import InputError
from extractor.llm.cited import MAX_CITED_EVENTS, CitedEventsAnswer
from extractor.llm.drafts import MAX_EVENTS, MAX_SANCTIONS, ActorDraft, EventsAnswer, SanctionDraft, SanctionsAnswer
from extractor.text.dates import resolve_date

SANCTION = {"quote": "q", "target": "t", "measure": "other", "status": "imposed"}


@pytest.mark.parametrize("amount", [float("nan"), float("inf"), -float("inf"), 1e400])
def test_a_non_finite_amount_fails_draft_validation_so_it_is_reasked_and_never_cached(amount: float) -> None:
    with pytest.raises(ValidationError, match="finite"):
        SanctionDraft.model_validate({**SANCTION, "amount": amount})
    # the same through the JSON a server sends (1e400 parses as inf)
    with pytest.raises(ValidationError):
        SanctionsAnswer.model_validate_json('{"sanctions": [{"quote": "q", "target": "t", "measure": "other", '
                                            '"status": "imposed", "amount": 1e400}]}')  # fmt: skip


def test_output_lines_never_hold_nan_or_infinity() -> None:
    sink = io.StringIO()
    with pytest.raises(ValueError):
        JsonlWriter(None, sink).write({"amount": math.inf})
    assert sink.getvalue() == ""  # nothing half-written
    JsonlWriter(None, sink).write({"amount": 1.5})
    assert json.loads(sink.getvalue()) == {"amount": 1.5}


def test_a_relative_date_before_year_one_is_unknown_not_a_crash() -> None:
    assert resolve_date("yesterday", "0001-01-01") is None
    assert resolve_date("last Monday", "0001-01-01") is None
    assert resolve_date("yesterday", "2024-12-09") == "2024-12-08"


@pytest.mark.parametrize("value", ["soon-ish", "", "Thu, 99 Foo 2024", "-"])
def test_an_unparsable_retry_after_is_treated_as_absent(value: str) -> None:
    class Response:
        headers = {"retry-after": value}

    class Error(Exception):
        response = Response()

    assert retry_after_seconds(Error()) is None


def test_a_retry_after_in_seconds_or_as_a_date_still_counts() -> None:
    class Response:
        headers = {"retry-after": "3"}

    class Error(Exception):
        response = Response()

    assert retry_after_seconds(Error()) == 3.0
    Response.headers = {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}  # in the past: no wait
    assert retry_after_seconds(Error()) == 0.0


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_files_with_a_bom_are_decoded_not_called_binary(codec: str) -> None:
    text = "Gunmen killed 3 police officers in Kano — «Reuters»."
    data = text.encode(codec)
    if codec in ("utf-16-le", "utf-16-be"):  # these encoders write no BOM: add it
        data = ("\ufeff" + text).encode(codec)
    decoded, encoding = decode(data, "a.txt")
    assert decoded.lstrip("\ufeff") == text
    assert encoding.startswith("utf-")


def test_a_bom_on_bytes_that_do_not_decode_is_a_one_line_error() -> None:
    with pytest.raises(InputError, match="a.txt: starts with a UTF-16 byte-order mark"):
        decode(b"\xff\xfe\x00\xd8", "a.txt")  # BOM + a lone surrogate


EVENT = {"quote": "q", "type": "battle", "perpetrators": [], "targets": [], "date_text": None, "country": None,
         "admin1": None, "location": None, "fatalities": None, "sources": []}  # fmt: skip


@pytest.mark.parametrize("answer, records, cap", [
    (EventsAnswer, "events", MAX_EVENTS), (SanctionsAnswer, "sanctions", MAX_SANCTIONS),
    (CitedEventsAnswer, "events", MAX_CITED_EVENTS),
])  # fmt: skip
def test_a_reply_with_more_records_than_the_cap_is_refused_before_any_is_parsed(answer, records, cap) -> None:
    item = EVENT if records == "events" else SANCTION
    if answer is CitedEventsAnswer:
        item = {"sentence": 1, "type": "battle", "perpetrators": [], "targets": [], "date_text": None,
                "country": None, "admin1": None, "location": None, "fatalities": None}  # fmt: skip
    answer.model_validate({records: [item] * cap})  # at the cap: fine
    with pytest.raises(ValidationError, match=f"1500 items, more than the {cap} allowed") as caught:
        answer.model_validate({records: [item] * 1500})
    assert caught.value.error_count() == 1  # refused as a whole: no item was validated


def test_an_oversized_string_is_refused() -> None:
    with pytest.raises(ValidationError, match="more than the 4,000 allowed"):
        SanctionDraft.model_validate({**SANCTION, "target": "x" * 5_000_000})
    with pytest.raises(ValidationError, match="aliases: a value of 4,001 characters"):
        ActorDraft.model_validate({"name": "n", "kind": "other", "aliases": ["a" * 4001]})
