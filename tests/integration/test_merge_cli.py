"""`extractor merge` end to end: a batch with a malformed line, the atomic output, and --gold."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.support.cli import cli_env, run_cli
from tests.support.extractions import write_batch


def test_merge_writes_every_record_type_names_a_bad_line_and_scores_against_gold(tmp_path: Path) -> None:
    batch, _ = write_batch(tmp_path / "batch")
    with batch.open("a", encoding="utf-8") as out:
        out.write("{not json\n")
    gold = tmp_path / "clusters.json"
    gold.write_text(json.dumps({"incidents": {"one": ["aleppo"], "two": ["hama"]}}), encoding="utf-8")
    out = tmp_path / "merged" / "merged.jsonl"
    result = run_cli("merge", str(batch), "-o", str(out), "--gold", str(gold), "--report-json", str(tmp_path / "score.json"),
                     env=cli_env(tmp_path / "home"))  # fmt: skip
    assert result.returncode == 1  # the malformed line
    assert f"{batch}:3: not an extraction record" in result.stderr
    assert "merged to" in result.stderr and "2 document(s)" in result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["record_type"] for r in rows} == {"actor", "event", "sanction"}
    hts = [r for r in rows if r["record_type"] == "actor" and r["name"] == "Hayat Tahrir al-Sham"]
    assert len(hts) == 1 and hts[0]["documents"] == ["aleppo.txt", "hama.txt"], hts
    assert "merge vs gold: pairwise precision 1.000 recall 1.000" in result.stderr
    assert json.loads((tmp_path / "score.json").read_text())["pairs"] == {"tp": 0, "fp": 0, "fn": 0}
    assert not list(out.parent.glob("*.tmp"))


def test_merge_refuses_its_input_as_output_and_a_bad_gold_file_in_one_line(tmp_path: Path) -> None:
    batch, _ = write_batch(tmp_path / "batch")
    env = cli_env(tmp_path / "home")
    same = run_cli("merge", str(batch), "-o", str(batch), env=env)
    assert same.returncode == 2 and "is the input" in same.stderr
    bad = tmp_path / "clusters.json"
    bad.write_text('{"incidents": {"a": ["x"], "b": ["x"]}}', encoding="utf-8")
    refused = run_cli("merge", str(batch), "-o", str(tmp_path / "m.jsonl"), "--gold", str(bad), env=env)
    assert refused.returncode == 2 and "document 'x' is in 'a' and 'b'" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m.jsonl").exists()


def test_one_incident_reported_twice_is_one_merged_event_and_one_acled_row_with_the_lowest_toll(tmp_path: Path) -> None:
    from tests.support.extractions import write_incident_batch

    batch = write_incident_batch(tmp_path / "incidents.jsonl")
    env = cli_env(tmp_path / "home")
    merged = run_cli("merge", str(batch), "-o", str(tmp_path / "merged.jsonl"), env=env)
    assert merged.returncode == 0, merged.stderr
    events = [json.loads(line) for line in (tmp_path / "merged.jsonl").read_text().splitlines() if '"event"' in line]
    assert [len(e["documents"]) for e in events] == [2, 1]
    assert (events[0]["fatalities_min"], events[0]["fatalities_max"], events[0]["sources"]) == (14, 17, ["AFP", "LOCAL"])

    table = tmp_path / "incidents.csv"
    exported = run_cli("export", str(batch), "-f", "acled", "--merge", "-o", str(table), env=env)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    assert [(r["fatalities"], r["x_fatalities_max"], r["x_reports"]) for r in rows] == [("14", "17", "2"), ("6", "6", "1")]
    assert rows[0]["x_fatalities_by_document"] == "incidents.jsonl#afp-wire=14; incidents.jsonl#local-radio=17"
    assert rows[0]["source"] == "AFP; LOCAL"

    wrong = run_cli("export", str(batch), "-f", "ftm", "--merge", "-o", str(tmp_path / "x.ftm"), env=env)
    assert wrong.returncode == 2 and "--merge applies to --format acled" in wrong.stderr
