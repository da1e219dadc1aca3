"""Sentence-style prompt sets (v3, v4) against the fake server: numbered sentences in, cited evidence out, gated passes skipped.

These tests check plumbing only (what is sent, what is skipped, how answers become records);
accuracy is measured by the live evals, never here.
"""

from __future__ import annotations

import pytest

from extractor.pipeline import Extractor
from tests.support.cli import DUMMY_KEY
from tests.support.fake_server import FakeOpenAIServer

WAR = (
    "Rebels of the Kora Front attacked an army post in Dela on Sunday, killing six soldiers.\n"
    "The United States Treasury sanctioned the Kora Front and froze its assets."
)
RATES = "The Bank of Lumia kept its policy rate at 9 percent on Tuesday, citing slowing inflation."


@pytest.fixture
def server():
    with FakeOpenAIServer(max_stall=30) as fake:
        yield fake


def _extractor(server: FakeOpenAIServer, version: str) -> Extractor:
    return Extractor(
        "openai/fake",
        base_url=server.url,
        api_key=DUMMY_KEY,
        cache=False,
        prompt_version=version,
        timeout=5,
    )


SENTENCE_VERSIONS = pytest.mark.parametrize("version", ["v3", "v4"])


@SENTENCE_VERSIONS
def test_sends_numbered_sentences_and_grounds_by_citation(
    server: FakeOpenAIServer, version: str
) -> None:
    with _extractor(server, version) as extractor:
        result = extractor.extract(WAR)
    user = "\n".join(m["content"] for m in server.requests[0].messages if m["role"] == "user")
    assert (
        "[1] Rebels of the Kora Front" in user
        and "[2] The United States Treasury" in user
    )
    sanctions_task = next(
        r for r in server.requests if r.pass_name == "sanctions"
    ).messages[-1]["content"]
    assert "embargoes or rewards: 2. " in sanctions_task
    assert result.events and all(e.evidence.holds_in(WAR) for e in result.events)
    assert result.events[0].evidence.quote == WAR.splitlines()[0]
    assert result.meta.schema_version == 3 and result.meta.prompt_version.startswith(
        f"{version}+"
    )


@SENTENCE_VERSIONS
def test_skips_passes_without_candidate_sentences(server: FakeOpenAIServer, version: str) -> None:
    with _extractor(server, version) as extractor:
        result = extractor.extract(RATES)
    assert [r.pass_name for r in server.requests] == ["actors"]
    skipped = {p.name for p in result.meta.passes if p.skipped}
    assert skipped == {"events", "sanctions"}
    assert result.meta.model_calls == 1 and not result.events and not result.sanctions


def test_v2_still_runs_every_pass_on_the_plain_article(
    server: FakeOpenAIServer,
) -> None:
    with _extractor(server, "v2") as extractor:
        result = extractor.extract(RATES)
    assert sorted(r.pass_name for r in server.requests) == [
        "actors",
        "events",
        "sanctions",
    ]
    assert "[1] " not in server.requests[0].messages[-1]["content"]
    assert result.meta.model_calls == 3
