"""Corrections become gold, end to end: extract (fake server), correct, `gold from-review`,
then `extractor eval` scores the new case, and its score shows exactly what was corrected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import cli_env, run_cli
from tests.support.fake_server import FakeOpenAIServer

ARTICLE = (
    "Gunmen from the Katiba Serma militia killed 12 villagers in Dioura, Mali, on Sunday, the Malian army said. "
    "The United States designated Amadou Kone, a Katiba Serma commander, a terrorist on Monday.\n"
)


@pytest.fixture()
def server():
    with FakeOpenAIServer() as fake:
        yield fake


def test_a_correction_file_becomes_a_case_that_eval_scores(tmp_path: Path, server: FakeOpenAIServer) -> None:
    env = cli_env(tmp_path / "home")
    model = ["--model", "openai/fake", "--base-url", server.url, "--cache-dir", str(tmp_path / "cache")]
    article = tmp_path / "news" / "dioura.txt"
    article.parent.mkdir()
    article.write_text(ARTICLE, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    extracted = run_cli("extract", str(article), "-o", str(out), "--published", "2024-03-04", *model, env=env, cwd=tmp_path)
    assert extracted.returncode == 0, extracted.stderr
    record = json.loads(out.read_text())
    actors = record["actors"]
    assert len(actors) >= 2, actors
    wrong, fixed = actors[0], actors[1]
    corrections = tmp_path / "corrections.json"
    corrections.write_text(json.dumps({"format": "extractor-corrections/1", "documents": [{
        "document": record["source"], "case": "dioura-review",
        "wrong": [wrong["id"]],
        "fix": {fixed["id"]: {"kind": "armed_group", "aliases": ["KS"]}},
        "add": {"actors": [{"name": "Dioura Youth Council", "kind": "ngo"}]},
    }]}), encoding="utf-8")  # fmt: skip

    made = run_cli("gold", "from-review", str(out), str(corrections), "-o", str(tmp_path / "set"), env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    case = tmp_path / "set" / "dioura-review"
    assert (case / "article.txt").read_text(encoding="utf-8") == ARTICLE
    gold = json.loads((case / "gold.json").read_text())
    names = [a["name"] for a in gold["actors"]]
    assert wrong["name"] not in names and "Dioura Youth Council" in names
    assert {"name": fixed["name"], "aliases": ["KS"], "kind": "armed_group"} in gold["actors"]
    assert gold["published"] == "2024-03-04" and gold["id"] == "dioura-review"

    report = tmp_path / "report.json"
    scored = run_cli("eval", "--fixtures", str(tmp_path / "set"), "--report-json", str(report), *model, env=env)
    assert scored.returncode == 0, scored.stderr
    actors_score = json.loads(report.read_text())["actors"]
    # the same extraction (cache hit) against its own corrected gold: the record marked wrong is
    # the one false positive, the added one the one miss, every other actor a match
    assert (actors_score["fp"], actors_score["fn"], actors_score["tp"]) == (1, 1, len(actors) - 1)

    again = run_cli("gold", "from-review", str(out), str(corrections), "-o", str(tmp_path / "set"), env=env, cwd=tmp_path)
    assert again.returncode == 1 and "exists (--force replaces it)" in again.stderr


def test_bad_corrections_are_one_line_and_cost_no_other_case(tmp_path: Path) -> None:
    from tests.support.extractions import write_batch

    batch, _ = write_batch(tmp_path / "batch")
    env = cli_env(tmp_path / "home")
    corrections = tmp_path / "c.json"
    corrections.write_text(json.dumps({"documents": [
        {"document": "aleppo.txt", "wrong": ["e99"]},
        {"document": "hama.txt", "fix": {"a1": {"kind": "warlord"}}},
        {"document": "missing.txt"},
        {"document": "aleppo.txt", "case": "aleppo-ok", "fix": {"e1": {"fatalities": 11}}},
    ]}), encoding="utf-8")  # fmt: skip
    result = run_cli("gold", "from-review", str(batch), str(corrections), "-o", str(tmp_path / "set"), env=env, cwd=batch.parent)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: aleppo.txt: no record 'e99' in its extraction"
    assert lines[1].startswith("error: hama.txt: the corrected gold does not follow the contract: actors.0.kind")
    assert "(got 'warlord')" in lines[1]
    assert lines[2] == "error: missing.txt: not in the extractions file"
    assert lines[3] == "wrote 1 case(s) to " + str(tmp_path / "set") + ", 3 document(s) not written"
    assert sorted(p.name for p in (tmp_path / "set").iterdir()) == ["aleppo-ok"]
    assert json.loads((tmp_path / "set" / "aleppo-ok" / "gold.json").read_text())["events"][0]["fatalities"] == 11

    corrections.write_text('{"documents": [{"document": "a.txt", "wrong": "e1"}]}', encoding="utf-8")
    refused = run_cli("gold", "from-review", str(batch), str(corrections), "-o", str(tmp_path / "set2"), env=env)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "documents.0.wrong" in refused.stderr and not (tmp_path / "set2").exists()
