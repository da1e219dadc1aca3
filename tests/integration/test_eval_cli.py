"""`extractor eval` end to end on throwaway eval sets, against the loopback fake server.

These check the harness (discovery, scoring, report contract, gates, exit codes), not
accuracy: the fake server's answers are canned. Accuracy comes from the live eval in CI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fake_server import FakeOpenAIServer

ARTICLE = (
    "Gunmen from the Katiba Serma militia killed 12 villagers in Dioura, Mali, on Sunday. "
    "The United States designated Amadou Kone a terrorist on Monday.\n"
)
GOLD = {
    "id": "case-a",
    "published": "2024-03-04",
    "actors": [{"name": "Katiba Serma", "kind": "armed_group"}, {"name": "Amadou Kone", "kind": "person"}],
    "events": [{"type": "violence_against_civilians", "perpetrators": ["Katiba Serma"], "fatalities": 12}],
    "sanctions": [],
}


def _case(root: Path, case_id: str, gold: dict | str, article: str = ARTICLE) -> None:
    folder = root / case_id
    folder.mkdir(parents=True)
    (folder / "article.txt").write_text(article, encoding="utf-8")
    text = gold if isinstance(gold, str) else json.dumps({**gold, "id": case_id})
    (folder / "gold.json").write_text(text, encoding="utf-8")


def _run(args: list[str], tmp_path: Path, server: FakeOpenAIServer) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-eval", "EXTRACTOR_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, "-m", "extractor.cli", "eval", *args, "--model", "openai/fake", "--base-url", server.url,
           "--cache-dir", str(tmp_path / "cache"), "--timeout", "5"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture()
def server():
    with FakeOpenAIServer() as fake:
        yield fake


def test_eval_report_contract_on_any_directory(tmp_path: Path, server: FakeOpenAIServer) -> None:
    fixtures = tmp_path / "some-other-set"
    _case(fixtures, "case-a", GOLD)
    _case(fixtures, "case-b", {**GOLD, "events": [], "sanctions": []})
    report_json, report_md = tmp_path / "r.json", tmp_path / "r.md"
    result = _run(["--fixtures", str(fixtures), "--report-json", str(report_json), "--report-md", str(report_md)],
                  tmp_path, server)
    assert result.returncode == 0, result.stderr
    report = json.loads(report_json.read_text())
    assert isinstance(report["overall"]["f1"], float)
    for kind in ("actors", "events", "sanctions"):
        assert set(report[kind]) >= {"precision", "recall", "f1"}
    assert [c["id"] for c in report["cases"]] == ["case-a", "case-b"]
    for case in report["cases"]:
        assert {"actors", "events", "sanctions"} <= set(case) and "error" not in case
    assert report["model"] == "openai/fake"
    assert report["prompt_version"].startswith("v")
    assert report["usage"]["prompt_tokens"] > 0 and report["seconds"] > 0
    assert "grounding" in report
    assert "| case-a |" in report_md.read_text()


def test_second_eval_run_is_served_from_cache(tmp_path: Path, server: FakeOpenAIServer) -> None:
    fixtures = tmp_path / "set"
    _case(fixtures, "case-a", GOLD)
    first = tmp_path / "1.json"
    second = tmp_path / "2.json"
    assert _run(["--fixtures", str(fixtures), "--report-json", str(first)], tmp_path, server).returncode == 0
    calls = len(server.completions())
    assert _run(["--fixtures", str(fixtures), "--report-json", str(second)], tmp_path, server).returncode == 0
    assert len(server.completions()) == calls  # zero model calls on the warm run
    one, two = json.loads(first.read_text()), json.loads(second.read_text())
    assert two["model_calls"] == 0 and two["cache_hits"] > 0
    assert one["overall"] == two["overall"]


def test_min_f1_gate_fails_with_exit_1(tmp_path: Path, server: FakeOpenAIServer) -> None:
    fixtures = tmp_path / "set"
    _case(fixtures, "case-a", GOLD)
    result = _run(["--fixtures", str(fixtures), "--min-f1", "1.0"], tmp_path, server)
    # The canned answers cannot be perfect against this gold, so the gate must trip.
    assert result.returncode == 1
    assert "gate failed: overall_f1" in result.stderr


def test_thresholds_file_gates_each_type(tmp_path: Path, server: FakeOpenAIServer) -> None:
    fixtures = tmp_path / "set"
    _case(fixtures, "case-a", GOLD)
    gates = tmp_path / "thresholds.json"
    gates.write_text(json.dumps({"overall_f1": 0.0, "events_f1": 1.01}))
    result = _run(["--fixtures", str(fixtures), "--thresholds", str(gates)], tmp_path, server)
    assert result.returncode == 1 and "events_f1" in result.stderr
    gates.write_text(json.dumps({"overall_f1": 0.0, "bogus_f1": 0.5}))
    result = _run(["--fixtures", str(fixtures), "--thresholds", str(gates)], tmp_path, server)
    assert result.returncode == 2 and "bogus_f1" in result.stderr


def test_unscorable_case_is_reported_and_fails(tmp_path: Path, server: FakeOpenAIServer) -> None:
    fixtures = tmp_path / "set"
    _case(fixtures, "case-a", GOLD)
    _case(fixtures, "broken", '{"id": "broken", "events": [{"type": "bombing"}]}')
    report_json = tmp_path / "r.json"
    result = _run(["--fixtures", str(fixtures), "--report-json", str(report_json)], tmp_path, server)
    assert result.returncode == 1
    report = json.loads(report_json.read_text())
    broken = next(c for c in report["cases"] if c["id"] == "broken")
    assert broken["unscorable"] and "bombing" in broken["error"]
    assert "could not be scored" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_fixtures_dir_is_a_usage_error(tmp_path: Path, server: FakeOpenAIServer) -> None:
    result = _run(["--fixtures", str(tmp_path / "nope")], tmp_path, server)
    assert result.returncode == 2 and "not a directory" in result.stderr


def test_failed_extraction_counts_as_empty_prediction(tmp_path: Path) -> None:
    """A case whose extraction raises is scored as empty (all gold records missed) and named."""
    from extractor.eval.runner import discover_cases, run_eval
    from extractor.pipeline import ExtractionError

    fixtures = tmp_path / "set"
    _case(fixtures, "case-a", GOLD)
    _case(fixtures, "case-b", GOLD, article="A different article about Katiba Serma in Mali.\n")

    class Failing:
        """Stands in for an Extractor whose model call fails on one document."""

        model_label = "fake/failing"
        backend = type("B", (), {"identity": "fake"})()
        prompts = type("P", (), {"id": "v-test"})()
        config = type("C", (), {"temperature": 0.0, "seed": 1})()

        async def aextract_many(self, documents, concurrency=None):
            from extractor.schemas import Extraction, Meta

            for source, text, _published in documents:
                if "different" in text:
                    yield source, ExtractionError("events pass on chunk 0 failed: APIConnectionError")
                else:
                    yield source, Extraction(meta=Meta(model="fake", backend="fake", prompt_version="v", schema_hash="x"))

    report = run_eval(Failing(), discover_cases(fixtures))
    failed = next(c for c in report["cases"] if c["id"] == "case-b")
    assert "APIConnectionError" in failed["error"]
    assert failed["events"]["fn"] == 1 and failed["actors"]["fn"] == 2
    assert report["failed_cases"] == ["case-b"]
    assert report["events"]["fn"] == 2 and report["events"]["tp"] == 0


def test_thresholds_are_measured_scores_minus_tolerance(tmp_path: Path, server: FakeOpenAIServer) -> None:
    fixtures = tmp_path / "set"
    _case(fixtures, "case-a", GOLD)
    report_json, gates = tmp_path / "r.json", tmp_path / "t.json"
    result = _run(["--fixtures", str(fixtures), "--report-json", str(report_json), "--write-thresholds", str(gates),
                   "--tolerance", "0.05"], tmp_path, server)
    assert result.returncode == 0, result.stderr
    report, written = json.loads(report_json.read_text()), json.loads(gates.read_text())
    assert written["overall_f1"] == round(max(0.0, report["overall"]["f1"] - 0.05), 3)
    assert written["events_f1"] == round(max(0.0, report["events"]["f1"] - 0.05), 3)
    # The written file is a valid --thresholds input, and the same run passes its own gates.
    assert _run(["--fixtures", str(fixtures), "--thresholds", str(gates)], tmp_path, server).returncode == 0


def _cache_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "extractor.cli", "cache", *args], capture_output=True, text=True,
                          timeout=60)


def test_replay_of_an_exported_cache_makes_no_model_call(tmp_path: Path, server: FakeOpenAIServer) -> None:
    fixtures = tmp_path / "set"
    _case(fixtures, "case-a", GOLD)
    live, replayed = tmp_path / "live.json", tmp_path / "replay.json"
    assert _run(["--fixtures", str(fixtures), "--report-json", str(live)], tmp_path, server).returncode == 0
    export = tmp_path / "replay.jsonl"
    assert _cache_cli("export", str(export), "--cache-dir", str(tmp_path / "cache")).returncode == 0
    (tmp_path / "cache").rename(tmp_path / "old-cache")  # the reviewer has only the export
    assert _cache_cli("import", str(export), "--cache-dir", str(tmp_path / "cache")).returncode == 0
    calls = len(server.completions())
    predictions = tmp_path / "predictions"
    result = _run(["--fixtures", str(fixtures), "--replay", "--report-json", str(replayed),
                   "--predictions", str(predictions)], tmp_path, server)
    assert result.returncode == 0, result.stderr
    assert len(server.completions()) == calls
    one, two = json.loads(live.read_text()), json.loads(replayed.read_text())
    assert two["model_calls"] == 0 and one["overall"] == two["overall"]
    written = json.loads((predictions / "case-a.json").read_text())
    assert {a["name"] for a in written["actors"]} >= {"Katiba Serma"}


def test_replay_miss_fails_the_case_without_calling_the_model(tmp_path: Path, server: FakeOpenAIServer) -> None:
    fixtures = tmp_path / "set"
    _case(fixtures, "case-a", GOLD)
    report, predictions = tmp_path / "r.json", tmp_path / "predictions"
    result = _run(["--fixtures", str(fixtures), "--replay", "--report-json", str(report),
                   "--predictions", str(predictions)], tmp_path, server)
    assert result.returncode == 1
    assert server.completions() == []
    (case,) = json.loads(report.read_text())["cases"]
    assert case["error"].startswith("ExtractionError: replay: no cached answer for the")
    assert json.loads((predictions / "case-a.json").read_text())["error"] == case["error"]


def test_replay_with_no_cache_is_a_usage_error(tmp_path: Path, server: FakeOpenAIServer) -> None:
    fixtures = tmp_path / "set"
    _case(fixtures, "case-a", GOLD)
    result = _run(["--fixtures", str(fixtures), "--replay", "--no-cache"], tmp_path, server)
    assert result.returncode == 2
    assert "--replay" in result.stderr and "Traceback" not in result.stderr


def test_repeat_runs_bypass_the_cache_vary_the_seed_and_report_spread(tmp_path: Path, server: FakeOpenAIServer) -> None:
    fixtures = tmp_path / "set"
    _case(fixtures, "case-a", GOLD)
    report = tmp_path / "report.json"
    proc = _run(["--fixtures", str(fixtures), "--repeat", "2", "--seed", "40", "--report-json", str(report)], tmp_path, server)
    assert proc.returncode == 0, proc.stderr
    repeats = json.loads(report.read_text())["repeats"]
    assert repeats["k"] == 2 and repeats["seeds"] == [40, 41]
    assert repeats["std"]["overall_f1"] == 0.0  # the fake server answers the same every time
    first_run_calls = 3  # one request per pass
    assert len(server.completions()) == 2 * first_run_calls  # the repeat did not read the cache
    assert {r.body["seed"] for r in server.completions()} == {40, 41}
