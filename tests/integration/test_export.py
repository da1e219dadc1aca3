"""`extractor export`: ACLED CSV, FollowTheMoney entities and flat CSV from a known batch,
malformed input lines, and the cost summary (the review page has its own browser test)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.support.cli import cli_env, run_cli
from tests.support.extractions import ARTICLE_1, write_batch


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return write_batch(tmp_path / "batch")[0]


def export(batch: Path, tmp_path: Path, fmt: str, *extra: str):
    out = tmp_path / f"out.{fmt}"
    result = run_cli("export", str(batch), "--format", fmt, "-o", str(out), *extra, env=cli_env(tmp_path / "home"),
                     cwd=batch.parent)  # fmt: skip
    return result, out


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_acled_columns_and_values_follow_the_codebook(batch: Path, tmp_path: Path) -> None:
    result, out = export(batch, tmp_path, "acled")
    assert result.returncode == 0, result.stderr
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:20] == [
        "event_date", "time_precision", "disorder_type", "event_type", "sub_event_type", "actor1", "assoc_actor_1",
        "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting", "country", "iso",
        "admin1", "location", "fatalities", "source", "notes",
    ]  # fmt: skip
    assert all(column.startswith("x_") for column in header[20:])
    rows = {(r["x_document"], r["x_record_id"]): r for r in read_csv(out)}
    battle = rows[("aleppo.txt", "e1")]
    assert battle["event_date"] == "2025-03-03" and battle["time_precision"] == "1"
    assert (battle["disorder_type"], battle["event_type"], battle["sub_event_type"]) == ("Political violence", "Battles", "Armed clash")
    assert (battle["actor1"], battle["inter1"], battle["actor2"]) == ("Syrian army", "1", "Hayat Tahrir al-Sham")
    # an armed group may be a rebel group or a militia: no inter code, our kind instead
    assert battle["inter2"] == "" and battle["x_actor2_kind"] == "armed_group" and battle["interaction"] == ""
    assert (battle["country"], battle["iso"], battle["admin1"], battle["fatalities"]) == ("Syria", "760", "Aleppo", "12")
    assert battle["source"] == "Syrian Observatory for Human Rights"
    start, end = int(battle["x_evidence_start"]), int(battle["x_evidence_end"])
    assert battle["notes"] == ARTICLE_1[start:end]
    attack = rows[("aleppo.txt", "e2")]
    assert attack["event_type"] == "Violence against civilians" and attack["civilian_targeting"] == "Civilian targeting"
    assert (attack["inter1"], attack["inter2"], attack["interaction"]) == ("", "7", "")
    assert attack["event_date"] == "" and attack["time_precision"] == "3" and attack["x_date"] == "2025-03"
    protest = rows[("aleppo.txt", "e3")]
    assert (protest["disorder_type"], protest["event_type"], protest["inter1"], protest["interaction"]) == (
        "Demonstrations", "Protests", "6", "60")
    assert protest["fatalities"] == "" and protest["time_precision"] == "" and protest["civilian_targeting"] == ""
    moved = rows[("hama.txt", "e1")]
    assert (moved["disorder_type"], moved["sub_event_type"]) == ("Strategic developments", "Non-violent transfer of territory")
    assert battle["x_model"] == "test/hand-written" and battle["x_prompt_version"] == "v3+test"


def test_ftm_entities_pass_the_library_validation_and_load_back(batch: Path, tmp_path: Path) -> None:
    from followthemoney import model

    from extractor.export.ftm import check

    result, out = export(batch, tmp_path, "ftm")
    assert result.returncode == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    entities = [model.get_proxy(json.loads(line), cleaned=False) for line in lines]
    for entity in entities:
        check(entity)  # the library's validation, required properties and the id
    by_id = {e.id: e for e in entities}
    assert len(by_id) == len(entities), "ids are unique"
    schemas = sorted(e.schema.name for e in entities)
    assert schemas.count("Article") == 2 and schemas.count("Event") == 4 and schemas.count("Sanction") == 3
    names = {e.caption: e for e in entities if e.schema.is_a("LegalEntity")}
    assert names["Syrian army"].schema.name == "PublicBody" and names["Abu Example"].schema.name == "Person"
    assert names["Syrian Observatory for Human Rights"].schema.name == "Organization"
    # one entity for the group named the same way in both documents, proven by both
    hts = [e for e in entities if e.caption == "Hayat Tahrir al-Sham"]
    assert len(hts) == 1 and len(hts[0].get("proof")) == 2 and hts[0].get("alias") == ["HTS"]
    sanctions = [e for e in entities if e.schema.name == "Sanction"]
    for sanction in sanctions:
        assert sanction.first("entity") in by_id, "every sanction points at an emitted entity"
        assert sanction.first("proof") in by_id and by_id[sanction.first("proof")].schema.name == "Article"
    targets = {by_id[s.first("entity")].caption: by_id[s.first("entity")] for s in sanctions}
    assert targets["Example Holdings Ltd"].schema.name == "LegalEntity"  # not an extracted actor
    freeze = next(s for s in sanctions if s.first("provisions") == "asset freeze" and s.first("country") == "us")
    assert freeze.first("authority") == "United States" and freeze.first("status") == "imposed"
    assert freeze.first("summary") == "froze his assets"
    battle = next(e for e in entities if e.schema.name == "Event" and e.first("date") == "2025-03-03" and "12 reported fatalities" in e.get("description"))
    assert battle.first("country") == "sy"
    assert {by_id[i].caption for i in battle.get("involved")} == {"Syrian army", "Hayat Tahrir al-Sham"}
    # deterministic: the same input gives the same ids
    again, out2 = export(batch, tmp_path / "again", "ftm")
    assert again.returncode == 0 and out2.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


def test_flat_csv_has_one_row_per_record(batch: Path, tmp_path: Path) -> None:
    from extractor.export.tables import COLUMNS

    result, out = export(batch, tmp_path, "csv")
    assert result.returncode == 0, result.stderr
    rows = read_csv(out)
    assert tuple(rows[0]) == COLUMNS
    counts = {kind: sum(r["record_type"] == kind for r in rows) for kind in ("actors", "events", "sanctions")}
    assert counts == {"actors": 7, "events": 4, "sanctions": 3}
    hts = next(r for r in rows if r["document"] == "aleppo.txt" and r["id"] == "a2")
    assert (hts["name"], hts["kind"], hts["aliases"], hts["grounded"]) == ("Hayat Tahrir al-Sham", "armed_group", "HTS", "true")
    holdings = next(r for r in rows if r["name"] == "Example Holdings Ltd")
    assert holdings["checks"] == "target 'Example Holdings Ltd' is not in the text"
    ghost = next(r for r in rows if r["name"] == "Ghost Brigade")
    assert ghost["grounded"] == "false" and ghost["quote"] == "" and ghost["start"] == ""
    battle = next(r for r in rows if r["document"] == "aleppo.txt" and r["id"] == "e1")
    assert battle["fatalities"] == "12" and battle["perpetrators"] == "Syrian army" and battle["country"] == "Syria"


def test_a_malformed_line_is_named_and_the_rest_exported(batch: Path, tmp_path: Path) -> None:
    lines = batch.read_text(encoding="utf-8").splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join([lines[0], '{"source": "x.txt", "actors": [', '{"source": 3}', lines[1]]) + "\n", encoding="utf-8")
    result, out = export(broken, tmp_path, "csv")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert f"{broken}:2: not an extraction record" in errors[0] and f"{broken}:3:" in errors[1]
    assert "2 malformed lines skipped" in result.stderr
    assert {r["document"] for r in read_csv(out)} == {"aleppo.txt", "hama.txt"}


def test_the_summary_counts_the_batch_and_prices_it(batch: Path, tmp_path: Path) -> None:
    result, _ = export(batch, tmp_path, "csv", "--price-in", "2.5", "--price-out", "10")
    assert result.returncode == 0, result.stderr
    summary = result.stderr.strip().splitlines()[-1]
    assert "2 documents · 7 actors, 4 events, 3 sanctions · 2,000+200 tokens · 6 model calls · 2 re-asks" in summary
    assert "cost 0.0070" in summary  # (2000 * 2.5 + 200 * 10) / 1e6
    half, _ = export(batch, tmp_path, "csv", "--price-in", "1")
    assert half.returncode == 2 and "--price-in and --price-out go together" in half.stderr


def test_an_export_refuses_to_write_over_its_input(batch: Path, tmp_path: Path) -> None:
    same = run_cli("export", str(batch), "-f", "csv", "-o", str(batch), env=cli_env(tmp_path / "home"))
    assert same.returncode == 2 and "is the input" in same.stderr
    missing = run_cli("export", str(tmp_path / "nope.jsonl"), "-f", "csv", "-o", "x.csv", env=cli_env(tmp_path / "home"))
    assert missing.returncode == 2 and "nope.jsonl: no such file" in missing.stderr


def test_an_interrupted_export_leaves_the_previous_file_in_place(tmp_path: Path) -> None:
    from extractor.cli.common import atomic_target as _target

    target = tmp_path / "kept.csv"
    target.write_text("previous export\n")
    with pytest.raises(KeyboardInterrupt), _target(str(target)) as handle:
        handle.write("half of a new one")
        raise KeyboardInterrupt
    assert target.read_text() == "previous export\n"
    assert list(tmp_path.iterdir()) == [target], "no temporary file is left behind"
    with _target(str(target)) as handle:
        handle.write("new\n")
    assert target.read_text() == "new\n"
