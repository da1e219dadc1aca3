"""Integration tests run the CLI and pipeline against scripted servers whose expectations
(three passes per document, quote-shaped answers) are those of the v2 prompts, so they pin the
default prompt version to v2 through $EXTRACTOR_PROMPT_VERSION. The faults, batch and CLI
behaviour they test does not depend on the prompts; v3's own wiring is tested in
test_sentence_plumbing.py (explicit versions) and tests/unit/test_cited.py. A module that needs the
shipped default sets `PROMPT_VERSION = None`."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _pinned_prompt_version(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    version = getattr(request.module, "PROMPT_VERSION", "v2")
    if version is None:
        monkeypatch.delenv("EXTRACTOR_PROMPT_VERSION", raising=False)
    else:
        monkeypatch.setenv("EXTRACTOR_PROMPT_VERSION", version)
