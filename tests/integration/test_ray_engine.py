"""The Ray Data engine: output rows, the CLI's `--engine ray` against the local engine, a
Parquet dataset written by the library helpers, and a killed job resumed.

A local Ray cluster (2 CPUs) runs on this machine; the model is the fake server on loopback,
or the real SmolLM2 GGUF in-process on each actor (`slow`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
ray = pytest.importorskip("ray")

from extractor.config import ExtractorConfig  # noqa: E402
from extractor.scale import ray_engine, rows  # noqa: E402
from extractor.schemas import Extraction  # noqa: E402
from tests.support.cli import cli_command, cli_env, run_cli  # noqa: E402
from tests.support.extractions import extraction_1  # noqa: E402
from tests.support.fake_server import Fault, FakeOpenAIServer  # noqa: E402

PROMPT_VERSION = None  # the shipped default prompts
PLACES = ["Gao", "Kidal", "Mopti", "Timbuktu", "Menaka", "Segou"]


@pytest.fixture
def server():
    with FakeOpenAIServer(max_stall=30) as fake:
        yield fake


def write_docs(folder: Path, count: int = len(PLACES)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"doc{n:02d}.txt").write_text(
            f"Islamic State fighters attacked a Malian Army convoy near {PLACES[n % len(PLACES)]} on Monday, "
            f"killing {n + 2} soldiers.\n", encoding="utf-8")  # fmt: skip
    (folder / "empty.txt").write_text("  \n", encoding="utf-8")
    return folder


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def comparable(path: Path) -> dict[str, dict]:
    """Records by file, without what differs between two runs of the same answers."""
    out = {}
    for record in lines(path):
        meta = {k: v for k, v in record["meta"].items() if k not in ("seconds", "cache_hit", "model_calls")}
        meta["passes"] = [{k: v for k, v in p.items() if k not in ("seconds", "cache_hit")} for p in meta["passes"]]
        out[Path(record["meta"]["input_path"]).name] = {**record, "meta": meta}
    return out


def test_rows_round_trip_a_full_extraction_through_arrow():
    result = extraction_1("a.txt")
    table = rows.table([rows.result_row(result), rows.status_row("b.txt", error="b.txt: boom", error_class="X", attempts=2)])
    assert table.schema == rows.OUTPUT_SCHEMA
    first, second = table.to_pylist()
    assert rows.record_of(first) == result.model_dump(mode="json")
    assert second["error"] == "b.txt: boom" and second["events"] is None and second["skipped"] is False


def test_extract_batch_turns_each_row_into_a_result_or_an_error_row(server, tmp_path):
    server.push(Fault("500", doc="Kidal"), Fault("500", doc="Kidal"))
    config = ExtractorConfig(model="openai/fake", base_url=server.url, api_key="k", cache_dir=str(tmp_path / "c"),
                             retries=1)  # fmt: skip
    worker = ray_engine.ExtractBatch(config, concurrency=2, published="2024-03-04")
    texts = ["Islamic State fighters attacked a Malian Army convoy near Gao on Monday.",
             "Islamic State fighters attacked a Malian Army convoy near Kidal on Monday.", ""]  # fmt: skip
    out = worker(pa.Table.from_pylist([{"text": t, "source": f"s{n}"} for n, t in enumerate(texts)]))
    assert out.schema == rows.OUTPUT_SCHEMA
    ok, failed, empty = out.to_pylist()
    record = Extraction.model_validate(rows.record_of(ok))
    assert record.source == "s0" and record.meta.published == "2024-03-04" and record.actors
    assert failed["error"].startswith("s1: ") and failed["error_class"] and failed["actors"] is None
    assert empty["error"] == "no text" and empty["error_class"] == "InputError"


def test_engine_ray_writes_the_records_of_the_local_engine_and_resumes(server, tmp_path):
    docs = write_docs(tmp_path / "docs")
    env = cli_env(tmp_path / "home")
    model = ["--model", "openai/fake", "--base-url", server.url, "--cache-dir", str(tmp_path / "cache")]
    missing = str(tmp_path / "missing.txt")  # a listing problem: one error line on either engine
    local = run_cli("extract", str(docs), missing, *model, "-o", str(tmp_path / "local.jsonl"), env=env)
    assert local.returncode == 1  # the empty file and the missing one
    started = time.monotonic()
    on_ray = run_cli("extract", str(docs), missing, *model, "--no-cache", "-o", str(tmp_path / "ray.jsonl"),
                     "--engine", "ray", "--ray-workers", "2", "-j", "2", env=env, timeout=240)  # fmt: skip
    print(f"ray engine run: {time.monotonic() - started:.1f} s")
    assert on_ray.returncode == 1, on_ray.stderr
    assert comparable(tmp_path / "ray.jsonl") == comparable(tmp_path / "local.jsonl")
    assert len(comparable(tmp_path / "ray.jsonl")) == len(PLACES)
    strip = lambda errors: [{k: v for k, v in e.items() if k != "time"} for e in errors]  # noqa: E731
    assert strip(lines(tmp_path / "ray.jsonl.errors.jsonl")) == strip(lines(tmp_path / "local.jsonl.errors.jsonl"))
    assert sorted(Path(e["source"]).name for e in lines(tmp_path / "ray.jsonl.errors.jsonl")) == ["empty.txt", "missing.txt"]
    assert f"{len(PLACES)} ok, 0 skipped" in on_ray.stderr

    again = run_cli("extract", str(docs), *model, "-o", str(tmp_path / "ray.jsonl"), "--engine", "ray", env=env, timeout=240)
    assert f"0 ok, {len(PLACES)} skipped" in again.stderr, again.stderr
    assert len(lines(tmp_path / "ray.jsonl")) == len(PLACES)


def test_a_killed_ray_job_resumes_with_every_document_exactly_once(tmp_path):
    docs = write_docs(tmp_path / "docs", 12)
    (docs / "empty.txt").unlink()
    env = cli_env(tmp_path / "home")
    out = tmp_path / "out.jsonl"
    with FakeOpenAIServer(max_stall=30, latency_ms=400) as server:
        args = ["extract", str(docs), "--model", "openai/fake", "--base-url", server.url, "--no-cache", "-o", str(out),
                "--engine", "ray", "-j", "1"]  # fmt: skip
        job = subprocess.Popen(cli_command(*args), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + 180
        while len(lines(out)) < 2 and time.monotonic() < deadline and job.poll() is None:
            time.sleep(0.2)
        os.killpg(job.pid, signal.SIGKILL)
        job.wait(timeout=30)
        written = len(lines(out))
        assert 2 <= written < 12
        server.latency_ms = 0
        resumed = run_cli(*args, env=env, timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    names = [Path(r["meta"]["input_path"]).name for r in lines(out)]
    assert sorted(names) == [f"doc{n:02d}.txt" for n in range(12)]
    assert f"{12 - written} ok, {written} skipped" in resumed.stderr


def test_library_helpers_write_a_parquet_dataset(server, tmp_path):
    import pyarrow.parquet as pq

    docs = write_docs(tmp_path / "docs", 3)
    config = ExtractorConfig(model="openai/fake", base_url=server.url, api_key="k", cache_dir=str(tmp_path / "c"))
    started = ray_engine.start(None, 1)
    try:
        dataset = ray_engine.extract_dataset(ray_engine.read_documents([str(docs)]), config, workers=1)
        dataset.write_parquet(str(tmp_path / "parquet"))
    finally:
        if started:
            ray.shutdown()
    table = pq.read_table(tmp_path / "parquet")
    assert set(rows.OUTPUT_SCHEMA.names) <= set(table.column_names)
    by_source = {Path(r["source"]).name: r for r in table.to_pylist()}
    assert sorted(by_source) == ["doc00.txt", "doc01.txt", "doc02.txt", "empty.txt"]
    assert by_source["empty.txt"]["error"] and by_source["empty.txt"]["error_class"] == "InputError"
    record = Extraction.model_validate(rows.record_of(by_source["doc00.txt"]))
    assert record.actors and all(a.evidence is not None for a in record.actors)
    assert table.schema.field("actors").type == rows.OUTPUT_SCHEMA.field("actors").type


@pytest.mark.slow
def test_engine_ray_on_the_real_smollm2_gguf_matches_the_local_engine(tmp_path):
    from tests.support.gguf import smollm2_gguf, write_dictating_prompts

    gguf = smollm2_gguf()
    version = write_dictating_prompts(tmp_path / "prompts")
    docs = write_docs(tmp_path / "docs", 2)
    env = cli_env(tmp_path / "home", EXTRACTOR_PROMPTS_DIR=str(tmp_path / "prompts"))
    model = ["--model", f"local:{gguf}", "--prompt-version", version, "--no-cache"]
    local = run_cli("extract", str(docs), *model, "-o", str(tmp_path / "local.jsonl"), env=env, timeout=600)
    on_ray = run_cli("extract", str(docs), *model, "-o", str(tmp_path / "ray.jsonl"), "--engine", "ray",
                     env=env, timeout=600)  # fmt: skip
    assert local.returncode == on_ray.returncode == 1, on_ray.stderr  # the empty file
    assert comparable(tmp_path / "ray.jsonl") == comparable(tmp_path / "local.jsonl")
    assert len(comparable(tmp_path / "ray.jsonl")) == 2
