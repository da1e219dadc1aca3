"""Checks on the project's own eval set (evals/): every case follows ../shared/EVAL_FORMAT.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.eval.scoring import GoldCase, load_gold

EVALS = Path(__file__).parents[2] / "evals"
SEED = Path(__file__).parents[3] / "shared" / "seeds" / "syria-desert-ambush.txt"
SEED_CASE = "syria-desert-ambush"
MIN_CASES = 15

CASES = sorted(p.parent for p in EVALS.glob("*/gold.json")) if EVALS.is_dir() else []


def referenced_names(case: GoldCase) -> list[str]:
    """Every name (each any_of option too) in perpetrators, targets, target and authority."""
    names = [
        option
        for event in case.events
        for slot in (*event.perpetrators, *event.targets)
        for option in slot
    ]
    for sanction in case.sanctions:
        names.extend(sanction.target)
        names.extend(sanction.authority or ())
    return names


@pytest.mark.parametrize("case_dir", CASES, ids=lambda p: p.name)
def test_case_is_valid(case_dir: Path) -> None:
    case = load_gold(case_dir / "gold.json")
    assert case.id == case_dir.name

    article_path = case_dir / "article.txt"
    assert article_path.is_file(), f"{article_path} is missing"
    article = article_path.read_bytes().decode("utf-8")  # raises on non-UTF-8
    assert article.strip(), f"{article_path} is empty"

    actor_names = {name.casefold() for actor in case.actors for name in actor.names}
    text = article.casefold()
    unknown = [
        name
        for name in referenced_names(case)
        if name.casefold() not in actor_names and name.casefold() not in text
    ]
    assert not unknown, f"{case_dir.name}: names neither gold actors nor in the article: {unknown}"


def test_set_has_enough_cases() -> None:
    assert len(CASES) >= MIN_CASES, f"{EVALS} has {len(CASES)} cases, fewer than {MIN_CASES}"


def test_seed_case_is_present_with_the_seed_article() -> None:
    case_dir = EVALS / SEED_CASE
    assert (case_dir / "gold.json").is_file(), f"{SEED_CASE} is not in {EVALS}"
    if not SEED.is_file():
        pytest.skip(f"{SEED} is not available")
    assert (case_dir / "article.txt").read_bytes() == SEED.read_bytes()
