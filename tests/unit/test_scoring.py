"""Unit tests of extractor.scoring on hand-made gold and predictions, scores computed by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rapidfuzz import fuzz

from extractor.eval.scoring import (
    ACTOR_KINDS,
    EVENT_TYPES,
    FUZZY_THRESHOLD,
    MEASURES,
    STATUSES,
    GoldCase,
    GoldError,
    NameMatcher,
    aggregate,
    is_grounded,
    load_gold,
    normalize_name,
    precision_recall_f1,
    score_case,
)

IS = {"name": "Islamic State", "aliases": ["IS", "ISIS", "ISIL", "Daesh"], "kind": "armed_group"}
HTS = {"name": "Hayat Tahrir al-Sham", "aliases": ["HTS"], "kind": "armed_group"}


def gold(**fields: Any) -> GoldCase:
    return GoldCase.model_validate({"id": "case", **fields})


def prf(score: dict[str, Any]) -> tuple[float, float, float]:
    return score["precision"], score["recall"], score["f1"]


def counts(score: dict[str, Any]) -> tuple[int, int, int]:
    return score["tp"], score["fp"], score["fn"]


def score(gold_case: GoldCase, prediction: dict[str, Any] | None, article: str = "") -> dict:
    return score_case(gold_case, prediction, article).to_dict()


SEED_GOLD = gold(
    actors=[IS, HTS],
    events=[
        {
            "type": {"any_of": ["violence_against_civilians", "battle"]},
            "perpetrators": [{"any_of": ["Islamic State", "Al-Qaeda"]}],
            "targets": ["Syrian soldiers"],
            "country": "Syria",
            "admin1": "Homs",
            "fatalities": 54,
        }
    ],
    sanctions=[
        {
            "target": "Hayat Tahrir al-Sham",
            "authority": "United States",
            "measure": "terrorist_designation",
            "status": {"any_of": ["in_force", "under_review"]},
        }
    ],
)

SEED_PREDICTION = {
    "actors": [
        {"id": "a1", "name": "Islamic State", "aliases": [], "kind": "armed_group"},
        {"id": "a2", "name": "Hayat Tahrir al-Sham", "aliases": ["HTS"], "kind": "armed_group"},
    ],
    "events": [
        {
            "id": "e1",
            "type": "violence_against_civilians",
            "perpetrators": ["Islamic State"],
            "targets": ["Syrian soldiers"],
            "country": "Syria",
            "admin1": "Homs",
            "fatalities": 54,
        }
    ],
    "sanctions": [
        {
            "id": "s1",
            "target": "Hayat Tahrir al-Sham",
            "authority": "United States",
            "measure": "terrorist_designation",
            "status": "in_force",
        }
    ],
}


# ---------------------------------------------------------------------------------------------
# Constants and conventions
# ---------------------------------------------------------------------------------------------


def test_enumerations_follow_the_contract() -> None:
    assert ACTOR_KINDS == (
        "person", "state_forces", "armed_group", "government", "international_organization",
        "ngo", "media", "company", "other",
    )  # fmt: skip
    assert EVENT_TYPES == (
        "battle", "explosion_remote_violence", "violence_against_civilians", "protest", "riot",
        "strategic_development",
    )  # fmt: skip
    assert MEASURES == (
        "terrorist_designation", "sanctions_listing", "asset_freeze", "travel_ban",
        "arms_embargo", "trade_restriction", "reward", "other",
    )  # fmt: skip
    assert STATUSES == ("imposed", "in_force", "under_review", "lifted")
    assert FUZZY_THRESHOLD == 90


@pytest.mark.parametrize(
    ("tp", "fp", "fn", "expected"),
    [
        (0, 0, 0, (1.0, 1.0, 1.0)),  # nothing to find, nothing predicted
        (0, 0, 3, (0.0, 0.0, 0.0)),  # nothing predicted, gold exists
        (0, 2, 0, (0.0, 1.0, 0.0)),  # predictions, no gold
        (3, 1, 2, (0.75, 0.6, 2 / 3)),
    ],
)
def test_precision_recall_f1_conventions(tp, fp, fn, expected) -> None:
    assert precision_recall_f1(tp, fp, fn) == pytest.approx(expected)


# ---------------------------------------------------------------------------------------------
# Whole-case scores
# ---------------------------------------------------------------------------------------------


def test_perfect_prediction_scores_one_everywhere() -> None:
    result = score(SEED_GOLD, SEED_PREDICTION)
    for key in ("overall", "actors", "events", "sanctions"):
        assert prf(result[key]) == pytest.approx((1.0, 1.0, 1.0)), key
    assert counts(result["overall"]) == (4, 0, 0)
    assert result["actors"]["field_accuracy"] == {"kind": 1.0}
    assert result["events"]["field_accuracy"] == {
        "fatalities": 1.0, "country": 1.0, "admin1": 1.0, "date": None,
    }  # fmt: skip
    assert result["sanctions"]["field_accuracy"] == {"status": 1.0, "amount": None}
    assert result["actors"]["matches"] == {0: 0, 1: 1}
    assert result["events"]["matches"] == {0: 0}
    assert result["sanctions"]["matches"] == {0: 0}


@pytest.mark.parametrize("prediction", [{}, {"actors": [], "events": [], "sanctions": []}, None])
def test_empty_or_failed_prediction_misses_every_gold_record(prediction) -> None:
    result = score(SEED_GOLD, prediction)
    assert counts(result["overall"]) == (0, 0, 4)
    assert prf(result["overall"]) == pytest.approx((0.0, 0.0, 0.0))
    assert counts(result["actors"]) == (0, 0, 2)
    assert result["actors"]["recall"] == 0.0
    assert result["events"]["field_accuracy"]["fatalities"] is None
    assert result["grounding"] is None


def test_empty_gold_and_empty_prediction_score_one() -> None:
    result = score(gold(), {})
    for key in ("overall", "actors", "events", "sanctions"):
        assert prf(result[key]) == pytest.approx((1.0, 1.0, 1.0)), key
        assert counts(result[key]) == (0, 0, 0)


def test_predictions_for_empty_gold_score_zero_precision() -> None:
    result = score(gold(), {"actors": [{"name": "Islamic State", "kind": "armed_group"}]})
    assert counts(result["actors"]) == (0, 1, 0)
    assert prf(result["actors"]) == pytest.approx((0.0, 1.0, 0.0))


def test_extra_predictions_lower_precision_only() -> None:
    prediction = {
        "actors": [
            {"name": "Islamic State", "kind": "armed_group"},
            {"name": "Reuters", "kind": "media"},
            {"name": "HTS", "kind": "armed_group"},
            {"name": "AFP", "kind": "media"},
        ]
    }
    result = score(gold(actors=[IS, HTS]), prediction)
    assert counts(result["actors"]) == (2, 2, 0)
    assert prf(result["actors"]) == pytest.approx((0.5, 1.0, 2 / 3))
    assert result["actors"]["matches"] == {0: 0, 1: 2}


def test_duplicate_prediction_counts_once_as_tp_and_once_as_fp() -> None:
    prediction = {
        "actors": [
            {"name": "Islamic State", "kind": "armed_group"},
            {"name": "ISIS", "kind": "armed_group"},
        ]
    }
    result = score(gold(actors=[IS]), prediction)
    assert counts(result["actors"]) == (1, 1, 0)
    assert prf(result["actors"]) == pytest.approx((0.5, 1.0, 2 / 3))


def test_malformed_prediction_records_count_as_false_positives() -> None:
    prediction = {"actors": ["Islamic State", {"name": None}], "events": "not a list"}
    result = score(gold(actors=[IS]), prediction)
    assert counts(result["actors"]) == (0, 2, 1)
    assert counts(result["events"]) == (0, 0, 0)


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("The Islamic State", "islamic state"),
        ("islamic state", "islamic state"),
        ("Bogotá", "bogota"),
        ("  Hayat   Tahrir al-Sham ", "hayat tahrir alsham"),
        ("U.S.", "us"),
        ("Theatre Group", "theatre group"),
        ("STRASSE", "strasse"),
    ],
)
def test_normalize_name(raw: str, normalised: str) -> None:
    assert normalize_name(raw) == normalised


def test_normalised_names_match_in_actor_and_place_scoring() -> None:
    gold_case = gold(
        actors=[{"name": "The Islamic State", "kind": "armed_group"}],
        events=[{"type": "protest", "admin1": "Bogotá", "country": "Colombia"}],
    )
    prediction = {
        "actors": [{"name": "islamic state", "kind": "armed_group"}],
        "events": [{"type": "protest", "admin1": "BOGOTA", "country": "colombia."}],
    }
    result = score(gold_case, prediction)
    assert counts(result["actors"]) == (1, 0, 0)
    assert result["events"]["field_accuracy"]["admin1"] == 1.0
    assert result["events"]["field_accuracy"]["country"] == 1.0


def test_alias_of_a_gold_actor_matches_its_name() -> None:
    with_table = NameMatcher(gold(actors=[HTS]).actors)
    without_table = NameMatcher([])
    assert with_table.match("HTS", "Hayat Tahrir al-Sham")
    assert with_table.match("Hayat Tahrir al-Sham", "hts")
    assert not without_table.match("HTS", "Hayat Tahrir al-Sham")
    assert not with_table.match("HTS", "Islamic State")


def test_alias_matching_in_actors_and_sanctions() -> None:
    gold_case = gold(
        actors=[HTS],
        sanctions=[{"target": "Hayat Tahrir al-Sham", "measure": "terrorist_designation"}],
    )
    prediction = {
        "actors": [{"name": "HTS", "kind": "armed_group"}],
        "sanctions": [{"target": "HTS", "measure": "terrorist_designation", "status": "in_force"}],
    }
    result = score(gold_case, prediction)
    assert counts(result["actors"]) == (1, 0, 0)
    assert counts(result["sanctions"]) == (1, 0, 0)


def test_predicted_aliases_count_for_actor_matching() -> None:
    gold_case = gold(actors=[{"name": "Hayat Tahrir al-Sham", "kind": "armed_group"}])
    without_alias = {"actors": [{"name": "HTS", "aliases": ["Syrian National Army"]}]}
    with_alias = {"actors": [{"name": "HTS", "aliases": ["Hayat Tahrir al Sham"]}]}
    assert counts(score(gold_case, without_alias)["actors"]) == (0, 1, 1)
    assert counts(score(gold_case, with_alias)["actors"]) == (1, 0, 0)


def test_fuzzy_threshold_on_both_sides() -> None:
    matcher = NameMatcher([])
    # The figures the assertions below rely on (normalised forms, rapidfuzz token_set_ratio):
    assert fuzz.token_set_ratio("houthis", "houthi") == pytest.approx(92.31, abs=0.01)
    assert fuzz.token_set_ratio("abcdefghij", "abcdefghik") == pytest.approx(90.0)
    assert fuzz.token_set_ratio("hezbollah", "hizbollah") == pytest.approx(88.89, abs=0.01)
    assert matcher.match("Houthis", "Houthi")  # just above
    assert matcher.match("abcdefghij", "abcdefghik")  # exactly at the threshold
    assert not matcher.match("Hezbollah", "Hizbollah")  # just below
    assert not matcher.match("Hezbollah", "Hamas")  # clearly below


def test_fuzzy_threshold_in_actor_scoring() -> None:
    gold_case = gold(
        actors=[
            {"name": "Houthis", "kind": "armed_group"},
            {"name": "Hezbollah", "kind": "armed_group"},
        ]
    )
    prediction = {"actors": [{"name": "Houthi"}, {"name": "Hizbollah"}]}
    result = score(gold_case, prediction)
    assert counts(result["actors"]) == (1, 1, 1)
    assert result["actors"]["matches"] == {0: 0}


def test_actor_ties_break_by_kind_then_order() -> None:
    prediction = {
        "actors": [
            {"name": "Islamic State", "kind": "government"},
            {"name": "ISIS", "kind": "armed_group"},
            {"name": "Daesh", "kind": "armed_group"},
        ]
    }
    result = score(gold(actors=[IS]), prediction)
    assert result["actors"]["matches"] == {0: 1}
    assert result["actors"]["field_accuracy"] == {"kind": 1.0}


# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("predicted_type", "matched"),
    [("battle", True), ("violence_against_civilians", True), ("riot", False), (None, False)],
)
def test_any_of_on_event_type(predicted_type, matched: bool) -> None:
    gold_case = gold(
        actors=[IS],
        events=[
            {"type": {"any_of": ["violence_against_civilians", "battle"]}, "perpetrators": ["IS"]}
        ],
    )
    prediction = {"events": [{"type": predicted_type, "perpetrators": ["Islamic State group"]}]}
    assert score(gold_case, prediction)["events"]["tp"] == int(matched)


@pytest.mark.parametrize(
    ("perpetrators", "matched"),
    [(["Al-Qaeda"], True), (["ISIS"], True), (["Nusra Front"], False), ([], False)],
)
def test_any_of_element_in_perpetrators(perpetrators: list[str], matched: bool) -> None:
    gold_case = gold(
        actors=[IS],
        events=[{"type": "battle", "perpetrators": [{"any_of": ["Islamic State", "Al-Qaeda"]}]}],
    )
    prediction = {"events": [{"type": "battle", "perpetrators": perpetrators}]}
    assert score(gold_case, prediction)["events"]["tp"] == int(matched)


def test_event_matching_prefers_the_larger_participant_overlap() -> None:
    gold_case = gold(
        actors=[IS],
        events=[{"type": "battle", "perpetrators": ["Islamic State"], "targets": ["Syrian army"]}],
    )
    prediction = {
        "events": [
            {"type": "battle", "perpetrators": ["ISIS"], "targets": ["Kurdish fighters"]},
            {"type": "battle", "perpetrators": ["Daesh"], "targets": ["Syrian army"]},
        ]
    }
    result = score(gold_case, prediction)
    assert result["events"]["matches"] == {0: 1}
    assert counts(result["events"]) == (1, 1, 0)


def test_event_ties_break_by_field_agreement() -> None:
    gold_case = gold(events=[{"type": "battle", "perpetrators": ["Houthis"], "fatalities": 3}])
    prediction = {
        "events": [
            {"type": "battle", "perpetrators": ["Houthis"], "fatalities": 4},
            {"type": "battle", "perpetrators": ["Houthis"], "fatalities": 3},
        ]
    }
    result = score(gold_case, prediction)
    assert result["events"]["matches"] == {0: 1}
    assert result["events"]["field_accuracy"]["fatalities"] == 1.0


def test_participants_must_match_in_their_role() -> None:
    gold_case = gold(
        events=[{"type": "battle", "perpetrators": ["Islamic State"], "targets": ["Syrian army"]}]
    )
    swapped = {
        "events": [
            {"type": "battle", "perpetrators": ["Syrian army"], "targets": ["Islamic State"]}
        ]
    }
    target_only = {"events": [{"type": "battle", "perpetrators": [], "targets": ["Syrian army"]}]}
    assert score(gold_case, swapped)["events"]["tp"] == 0
    assert score(gold_case, target_only)["events"]["tp"] == 1


def test_event_without_participants_is_matched_by_type_alone() -> None:
    gold_case = gold(events=[{"type": "protest", "country": "Kenya"}])
    same_type = {"events": [{"type": "protest", "perpetrators": ["Anyone"], "targets": ["X"]}]}
    other_type = {"events": [{"type": "riot", "country": "Kenya"}]}
    assert counts(score(gold_case, same_type)["events"]) == (1, 0, 0)
    assert counts(score(gold_case, other_type)["events"]) == (0, 1, 1)


def test_event_with_participants_needs_one_to_match() -> None:
    gold_case = gold(events=[{"type": "protest", "perpetrators": ["Teachers' union"]}])
    prediction = {"events": [{"type": "protest", "perpetrators": ["Students"]}]}
    assert counts(score(gold_case, prediction)["events"]) == (0, 1, 1)


def test_event_field_accuracy_on_matched_pairs() -> None:
    gold_case = gold(
        events=[
            {"type": "battle", "perpetrators": ["A"], "fatalities": 54, "country": "Syria",
             "admin1": "Homs", "date": "2024-12"},
            {"type": "battle", "perpetrators": ["B"], "fatalities": 0, "country": "Syria",
             "admin1": "Idlib", "date": "2024-12-08"},
            {"type": "battle", "perpetrators": ["C"], "date": "2024-12-08"},
            {"type": "riot", "perpetrators": ["D"], "fatalities": 1},  # unmatched: not scored
        ]
    )  # fmt: skip
    prediction = {
        "events": [
            {"type": "battle", "perpetrators": ["A"], "fatalities": 54, "country": "Syria",
             "admin1": "Homs Governorate", "date": "2024-12-08"},
            {"type": "battle", "perpetrators": ["B"], "fatalities": None, "country": "Syria",
             "admin1": "Aleppo", "date": "2024-12-09"},
            {"type": "battle", "perpetrators": ["C"], "date": "2024-12"},
        ]
    }  # fmt: skip
    result = score(gold_case, prediction)
    assert counts(result["events"]) == (3, 0, 1)
    assert result["events"]["field_accuracy"] == pytest.approx(
        {"fatalities": 0.5, "country": 1.0, "admin1": 0.5, "date": 1 / 3}
    )


def test_missing_or_null_gold_field_is_not_scored() -> None:
    gold_case = gold(events=[{"type": "protest", "country": "Kenya", "fatalities": None}])
    prediction = {
        "events": [{"type": "protest", "country": "Kenya", "fatalities": 7, "date": "2020-01-01"}]
    }
    result = score(gold_case, prediction)
    assert result["events"]["field_accuracy"] == {
        "fatalities": None, "country": 1.0, "admin1": None, "date": None,
    }  # fmt: skip


def test_missing_actor_kind_is_not_scored() -> None:
    gold_case = gold(actors=[{"name": "AFP"}])
    result = score(gold_case, {"actors": [{"name": "AFP", "kind": "media"}]})
    assert counts(result["actors"]) == (1, 0, 0)
    assert result["actors"]["field_accuracy"] == {"kind": None}


# ---------------------------------------------------------------------------------------------
# Sanctions
# ---------------------------------------------------------------------------------------------

SANCTION = {"target": "HTS", "authority": "United States", "measure": "terrorist_designation"}


@pytest.mark.parametrize(
    ("changes", "matched"),
    [
        ({}, True),
        ({"target": "Hayat Tahrir al-Sham"}, True),
        ({"target": "Islamic State"}, False),
        ({"authority": "United Nations"}, False),
        ({"authority": None}, False),
        ({"measure": "sanctions_listing"}, False),
        ({"measure": None}, False),
    ],
)
def test_sanction_needs_target_authority_and_measure(changes: dict, matched: bool) -> None:
    gold_case = gold(actors=[HTS], sanctions=[SANCTION])
    prediction = {"sanctions": [{**SANCTION, "status": "in_force", **changes}]}
    assert score(gold_case, prediction)["sanctions"]["tp"] == int(matched)


@pytest.mark.parametrize("authority", [None, "United Nations"])
def test_sanction_without_gold_authority_does_not_require_one(authority) -> None:
    gold_case = gold(sanctions=[{"target": "HTS", "measure": "terrorist_designation"}])
    prediction = {
        "sanctions": [{"target": "HTS", "authority": authority, "measure": "terrorist_designation"}]
    }
    assert score(gold_case, prediction)["sanctions"]["tp"] == 1


@pytest.mark.parametrize(
    ("status", "accuracy"),
    [("in_force", 1.0), ("under_review", 1.0), ("imposed", 0.0), (None, 0.0)],
)
def test_any_of_on_sanction_status(status, accuracy: float) -> None:
    gold_case = gold(sanctions=[{**SANCTION, "status": {"any_of": ["in_force", "under_review"]}}])
    result = score(gold_case, {"sanctions": [{**SANCTION, "status": status}]})
    assert result["sanctions"]["tp"] == 1
    assert result["sanctions"]["field_accuracy"]["status"] == accuracy


@pytest.mark.parametrize(
    ("amount", "accuracy"),
    [(10_000_000, 1.0), (10_040_000.0, 1.0), (9_960_000, 1.0), (10_060_000, 0.0), (None, 0.0)],
)
def test_sanction_amount_within_half_a_percent(amount, accuracy: float) -> None:
    reward = {"target": "Abu Muhammad al-Jawlani", "measure": "reward", "amount": 10_000_000}
    gold_case = gold(sanctions=[reward])
    prediction = {"sanctions": [{**reward, "amount": amount}]}
    result = score(gold_case, prediction)
    assert result["sanctions"]["field_accuracy"] == {"status": None, "amount": accuracy}


# ---------------------------------------------------------------------------------------------
# Grounding
# ---------------------------------------------------------------------------------------------

ARTICLE = "Fighters from the Islamic State killed 54 Syrian soldiers. The Islamic State denied it."


def evidence(quote: str, start: int) -> dict[str, Any]:
    return {"quote": quote, "start": start, "end": start + len(quote)}


def test_grounding_counts_quotes_at_their_offsets() -> None:
    start = ARTICLE.index("Islamic State")
    assert ARTICLE.index("Islamic State", start + 1) != start
    prediction = {
        "actors": [
            {"name": "Islamic State", "evidence": evidence("Islamic State", start)},
            {"name": "IS", "evidence": evidence("Islamic State", start + 1)},  # wrong offsets
            {"name": "Syrian army", "evidence": None},
        ],
        "events": [{"type": "battle", "evidence": evidence("killed 54 Syrian soldiers", 32)}],
    }
    result = score(gold(), prediction, ARTICLE)
    assert result["grounding"] == pytest.approx(2 / 4)


@pytest.mark.parametrize(
    ("record", "grounded"),
    [
        ({"evidence": evidence("Fighters", 0)}, True),
        ({"evidence": evidence("Fighters", 1)}, False),
        ({"evidence": {"quote": "Fighters", "start": 0, "end": 9}}, False),
        ({"evidence": {"quote": "it.", "start": -3, "end": len(ARTICLE)}}, False),
        ({"evidence": {"quote": "", "start": 0, "end": 0}}, False),
        ({"evidence": {"quote": "Fighters", "start": "0", "end": 8}}, False),
        ({"evidence": None}, False),
        ({}, False),
    ],
)
def test_is_grounded(record: dict, grounded: bool) -> None:
    assert is_grounded(record, ARTICLE) is grounded


# ---------------------------------------------------------------------------------------------
# Aggregation
# ---------------------------------------------------------------------------------------------


def test_micro_aggregation_over_two_cases() -> None:
    article_a = "Islamic State and Reuters."
    case_a = score_case(
        gold(actors=[IS, HTS]),
        {
            "actors": [
                {"name": "Islamic State", "kind": "armed_group",
                 "evidence": evidence("Islamic State", 0)},
                {"name": "HTS", "kind": "government", "evidence": None},
                {"name": "Reuters", "kind": "media", "evidence": evidence("Reuters", 18)},
            ]
        },
        article_a,
    )  # fmt: skip
    case_b = score_case(
        gold(
            actors=[{"name": "AFP", "kind": "media"}],
            events=[{"type": "protest", "date": "2024-12"}, {"type": "riot"}],
        ),
        {
            "actors": [{"name": "AFP", "kind": "media"}],
            "events": [{"type": "protest", "date": "2024-12-08", "evidence": evidence("x", 0)}],
        },
        "Protesters marched.",
    )
    assert case_a.to_dict()["grounding"] == pytest.approx(2 / 3)
    assert case_b.to_dict()["grounding"] == 0.0

    report = aggregate([case_a, case_b])

    assert set(report) == {"overall", "actors", "events", "sanctions", "grounding"}
    assert counts(report["actors"]) == (3, 1, 0)
    assert prf(report["actors"]) == pytest.approx((0.75, 1.0, 6 / 7))
    assert report["actors"]["field_accuracy"] == pytest.approx({"kind": 2 / 3})
    assert counts(report["events"]) == (1, 0, 1)
    assert prf(report["events"]) == pytest.approx((1.0, 0.5, 2 / 3))
    assert report["events"]["field_accuracy"] == {
        "fatalities": None, "country": None, "admin1": None, "date": 1.0,
    }  # fmt: skip
    assert counts(report["sanctions"]) == (0, 0, 0)
    assert prf(report["sanctions"]) == pytest.approx((1.0, 1.0, 1.0))
    assert report["sanctions"]["field_accuracy"] == {"status": None, "amount": None}
    assert counts(report["overall"]) == (4, 1, 1)
    assert prf(report["overall"]) == pytest.approx((0.8, 0.8, 0.8))
    assert report["grounding"] == pytest.approx(2 / 5)
    json.dumps(report)  # plain JSON-serialisable values


def test_aggregate_of_no_records_has_no_grounding() -> None:
    report = aggregate([score_case(gold(actors=[IS]), None, "")])
    assert report["grounding"] is None
    assert counts(report["overall"]) == (0, 0, 1)


# ---------------------------------------------------------------------------------------------
# Loading gold
# ---------------------------------------------------------------------------------------------


def write_gold(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "my-case" / "gold.json"
    path.parent.mkdir()
    path.write_text(content, encoding="utf-8")
    return path


def test_load_gold_reads_the_contract_example(tmp_path: Path) -> None:
    path = write_gold(
        tmp_path,
        json.dumps(
            {
                "id": "syria-desert-ambush",
                "published": "2024-12-09",
                "notes": "unknown keys are ignored",
                "actors": [IS, HTS],
                "events": [
                    {
                        "type": {"any_of": ["violence_against_civilians", "battle"]},
                        "perpetrators": [{"any_of": ["Islamic State", "Al-Qaeda"]}],
                        "targets": ["Syrian soldiers"],
                        "country": "Syria",
                        "admin1": "Homs",
                        "fatalities": 54,
                        "date": "2024-12",
                    }
                ],
                "sanctions": [
                    {
                        "target": "Abu Muhammad al-Jawlani",
                        "authority": "United States",
                        "measure": "reward",
                        "status": {"any_of": ["in_force", "under_review"]},
                        "amount": 10000000,
                        "currency": "USD",
                    }
                ],
            }
        ),
    )
    case = load_gold(path)
    assert case.id == "syria-desert-ambush"
    assert str(case.published) == "2024-12-09"
    assert case.events[0].type == ("violence_against_civilians", "battle")
    assert case.events[0].perpetrators == [("Islamic State", "Al-Qaeda")]
    assert case.events[0].fatalities == (54,)
    assert case.sanctions[0].status == ("in_force", "under_review")
    assert case.actors[1].aliases == ["HTS"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"id": "x", "actors": [', "invalid JSON"),
        ('["not", "an", "object"]', "dictionary"),
        ('{"actors": []}', "id"),
        ('{"id": "x", "events": [{"perpetrators": ["A"]}]}', "events.0.type"),
        ('{"id": "x", "events": [{"type": "bombing"}]}', "bombing"),
        ('{"id": "x", "events": [{"type": {"any_of": ["battle", "war"]}}]}', "war"),
        ('{"id": "x", "events": [{"type": {"any_of": []}}]}', "any_of"),
        ('{"id": "x", "events": [{"type": "battle", "date": "2024-13"}]}', "2024-13"),
        ('{"id": "x", "actors": [{"name": "A", "kind": "militia"}]}', "militia"),
        ('{"id": "x", "actors": [{"kind": "person"}]}', "actors.0.name"),
        ('{"id": "x", "sanctions": [{"target": "A", "measure": "ban"}]}', "ban"),
        ('{"id": "x", "sanctions": [{"target": "A", "measure": "reward", "status": "on"}]}', "on"),
        ('{"id": "x", "sanctions": [{"measure": "reward"}]}', "sanctions.0.target"),
    ],
)
def test_invalid_gold_raises_gold_error_naming_the_file(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = write_gold(tmp_path, content)
    with pytest.raises(GoldError) as caught:
        load_gold(path)
    message = str(caught.value)
    assert str(path) in message
    assert problem in message
    assert "\n" not in message
    assert isinstance(caught.value, ValueError)


def test_missing_gold_file_raises_gold_error(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "gold.json"
    with pytest.raises(GoldError, match="absent"):
        load_gold(path)


def test_exact_name_is_preferred_over_token_subset_match() -> None:
    from extractor.eval.scoring import GoldActor, name_similarity, score_actors

    assert name_similarity("islamic state", "islamic state") > name_similarity(
        "islamic state", "islamic state mozambique province"
    )
    gold = [GoldActor(name="Islamic State"), GoldActor(name="Islamic State Mozambique Province")]
    predicted = [{"name": "Islamic State Mozambique Province"}, {"name": "Islamic State"}]
    score = score_actors(gold, predicted)
    assert score.tp == 2
    assert score.matches == {0: 1, 1: 0}
