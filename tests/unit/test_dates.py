"""dates.resolve_date: article date phrases to ISO dates, relative to publication."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.text.dates import names_a_day, parse_published, resolve_date

MONDAY = "2024-12-09"  # a Monday
assert date.fromisoformat(MONDAY).weekday() == 0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-12-08", "2024-12-08"),
        ("on 2024-12-08 at dawn", "2024-12-08"),
        ("2024-12", "2024-12"),
        (" 2023-02 ", "2023-02"),
        ("March 3, 2023", "2023-03-03"),
        ("March 3 2023", "2023-03-03"),
        ("3rd March 2023", "2023-03-03"),
        ("1st of", None),
        ("21st Sept. 2022", "2022-09-21"),
        ("Dec. 8, 2024", "2024-12-08"),
        ("8 December 2024", "2024-12-08"),
        ("in March 2024", "2024-03"),
        ("May 2024", "2024-05"),
    ],
)
def test_absolute_dates_need_no_publication_date(text: str, expected: str | None) -> None:
    assert resolve_date(text) == expected
    assert resolve_date(text, MONDAY) == expected


@pytest.mark.parametrize(
    "text, published, expected",
    [
        ("March 3", MONDAY, "2024-03-03"),
        ("3 March", MONDAY, "2024-03-03"),
        ("on March 3rd", MONDAY, "2024-03-03"),
        ("December 12", MONDAY, "2024-12-12"),  # a few days ahead: the coming one
        ("December 20", MONDAY, "2023-12-20"),  # more than a week ahead: last year's
        ("December 30", "2025-01-02", "2024-12-30"),  # across the year boundary, backwards
        ("January 2", "2024-12-30", "2025-01-02"),  # across the year boundary, forwards
        ("February 29", "2024-06-01", "2024-02-29"),
        ("Dec 8", date(2024, 12, 9), "2024-12-08"),
    ],
)
def test_month_day_year_inferred_from_published(text: str, published, expected: str) -> None:
    assert resolve_date(text, published) == expected


def test_month_day_without_published_is_none() -> None:
    assert resolve_date("March 3") is None
    assert resolve_date("March 3", "not a date") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Monday", MONDAY),  # the same weekday is the publication day
        ("on Monday", MONDAY),
        ("Sunday", "2024-12-08"),
        ("Sunday night", "2024-12-08"),
        ("Saturday", "2024-12-07"),
        ("Tuesday", "2024-12-03"),
        ("last Monday", "2024-12-02"),
        ("last Sunday", "2024-12-08"),
        ("Tuesday last week", "2024-12-03"),
        ("last week on Thursday", "2024-12-05"),
        ("yesterday", "2024-12-08"),
        ("late yesterday", "2024-12-08"),
        ("last night", "2024-12-08"),
        ("today", MONDAY),
        ("this morning", MONDAY),
    ],
)
def test_relative_dates(text: str, expected: str) -> None:
    assert resolve_date(text, MONDAY) == expected


def test_published_as_timestamp_or_datetime_gives_plain_dates() -> None:
    assert resolve_date("yesterday", "2024-12-09T10:00:00Z") == "2024-12-08"
    assert resolve_date("yesterday", datetime(2024, 12, 9, 10, 0)) == "2024-12-08"
    assert resolve_date("Sunday", datetime(2024, 12, 9, 10, 0)) == "2024-12-08"
    assert resolve_date("2024-12-08T06:00", None) == "2024-12-08"
    assert resolve_date("20241-12-08", None) is None


def test_last_week_from_a_friday() -> None:
    friday = "2024-12-13"
    assert resolve_date("Tuesday", friday) == "2024-12-10"
    assert resolve_date("Tuesday last week", friday) == "2024-12-03"


@pytest.mark.parametrize("text", ["Sunday", "yesterday", "last night", "today", "last Monday"])
def test_relative_phrases_without_published_are_none(text: str) -> None:
    assert resolve_date(text) is None
    assert resolve_date(text, None) is None


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "recently",
        "earlier this year",
        "in the past few weeks",
        "the 5th of the month",
        "12/08/2024",
        "mayday",
    ],
)
def test_unresolvable_is_none(text: str | None) -> None:
    assert resolve_date(text, MONDAY) is None


@pytest.mark.parametrize(
    "text",
    ["2024-02-30", "2024-13-01", "2024-13", "2024-00", "February 30, 2023", "February 30", "April 31", "32 March 2024"],
)
def test_invalid_dates_are_none(text: str) -> None:
    assert resolve_date(text, MONDAY) is None


def test_parse_published() -> None:
    assert parse_published("2024-12-09") == date(2024, 12, 9)
    assert parse_published("2024-12-09T10:00:00Z") == date(2024, 12, 9)
    assert parse_published(date(2024, 1, 1)) == date(2024, 1, 1)
    assert parse_published(datetime(2024, 12, 9, 23, 30)) == date(2024, 12, 9)
    assert type(parse_published(datetime(2024, 12, 9, 23, 30))) is date
    assert parse_published(None) is None
    assert parse_published("2024-02-30") is None
    assert parse_published("yesterday") is None


WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 6))
def test_property_weekday_is_most_recent_on_or_before_publication(published: date, weekday: int) -> None:
    resolved = date.fromisoformat(resolve_date(WEEKDAYS[weekday].capitalize(), published))
    assert resolved.weekday() == weekday
    assert published - timedelta(days=6) <= resolved <= published


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)), st.integers(-300, 7))
def test_property_month_day_within_a_year_before_publication(published: date, offset: int) -> None:
    target = published + timedelta(days=offset)
    phrase = f"{target.strftime('%B')} {target.day}"
    if target.month == 2 and target.day == 29:
        return  # leap day: the year is not always derivable
    assert resolve_date(phrase, published) == target.isoformat()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("On Sunday, the army said", True),
        ("late on Saturday night", True),
        ("Police said yesterday", True),
        ("on March 3 police fired", True),
        ("BANGUI, May 7 (AFP) -", True),
        ("on 12th June", True),
        ("In 2021, gunmen abducted 279 schoolgirls", False),
        ("the group has fought the state since 2011", False),
        ("prices may 5 times exceed", False),  # a lower-case "may" is a verb
        ("in May 2024", False),  # a month and a year name no day
    ],
)
def test_names_a_day(text: str, expected: bool) -> None:
    assert names_a_day(text) is expected
