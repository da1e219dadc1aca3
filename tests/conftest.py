"""Generic fixtures shared by the unit tests (no model, no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    """The checkout's root directory (holds prompts/, schemas/, extractor/)."""
    return REPO_ROOT


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    """A fresh, empty response-cache directory for one test."""
    path = tmp_path / "cache"
    path.mkdir()
    return path
