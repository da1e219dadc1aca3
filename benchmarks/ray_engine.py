"""The Ray engine against the local engine: documents per second at 1 and 2 Ray workers.

`extractor extract DIR -o out.jsonl` on N short articles against the fake server with a fixed
latency per request (a model server's time, not ours), side by side in one run: the local
engine at -j J and -j 2J, the Ray engine with 1 worker (-j J) and 2 workers (-j J each, so
2J requests in flight in all). Each arm runs `REPEATS` times, interleaved; the table gives
the median. Wall time includes starting the local Ray cluster; "steady" is the rate from the
first output line to the last, which is what a long job sees. Not part of CI.

    python -m benchmarks.run --only ray_engine
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, Context, LoopbackServer, fmt

NAME = "ray_engine"
DOCS = 240
LATENCY_MS = 200.0
PER_WORKER = 4
REPEATS = 2
PLACES = ("Gao", "Kidal", "Mopti", "Timbuktu", "Menaka", "Segou")
ARMS = (
    ("local, -j 4", ["-j", str(PER_WORKER)]),
    ("local, -j 8", ["-j", str(2 * PER_WORKER)]),
    ("ray, 1 worker, -j 4", ["--engine", "ray", "--ray-workers", "1", "-j", str(PER_WORKER)]),
    ("ray, 2 workers, -j 4 each", ["--engine", "ray", "--ray-workers", "2", "-j", str(PER_WORKER)]),
)


def _corpus(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"doc{i:05d}.txt").write_text(
            f"Islamic State fighters attacked a Malian Army convoy near {PLACES[i % len(PLACES)]} on day {i}, "
            f"killing {i % 9 + 2} soldiers.\n", encoding="utf-8")  # fmt: skip


def _one(corpus: Path, out: Path, url: str, extra: list[str]) -> dict[str, Any]:
    env = {**os.environ, "EXTRACTOR_HOME": str(out.parent / "home"), "OPENAI_API_KEY": "sk-bench"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "extractor.cli", "extract", str(corpus), "-o", str(out), "--model", "openai/fake",
         "--base-url", url, "--no-cache", "--timeout", "30", *extra],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    first = None
    while proc.poll() is None:
        if first is None and out.exists() and out.stat().st_size > 0:
            first = time.perf_counter() - started
        time.sleep(0.02)
    wall = time.perf_counter() - started
    written = sum(1 for _ in out.open(encoding="utf-8")) if out.exists() else 0
    if proc.returncode != 0 or written != DOCS:
        raise RuntimeError(f"{' '.join(extra)}: exit {proc.returncode}, {written} written: {proc.stderr.read()[-500:]}")
    first = first if first is not None else wall
    return {"wall_s": round(wall, 2), "first_output_s": round(first, 2), "docs_per_s": round(DOCS / wall, 2),
            "steady_docs_per_s": round((DOCS - 1) / max(wall - first, 1e-6), 2)}  # fmt: skip


def run(ctx: Context) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in ARMS}
    with tempfile.TemporaryDirectory(dir=ctx.work) as tmp, LoopbackServer(LATENCY_MS) as server:
        work = Path(tmp)
        _corpus(work / "corpus", DOCS)
        for repeat in range(1 if ctx.quick else REPEATS):
            for number, (label, extra) in enumerate(ARMS):
                ctx.log(f"{NAME}: {label} (round {repeat + 1})")
                runs[label].append(_one(work / "corpus", work / f"out-{repeat}-{number}.jsonl", server.url, extra))
    rows = []
    for label, _ in ARMS:
        row = {"arm": label, "runs": runs[label]}
        for key in ("wall_s", "first_output_s", "docs_per_s", "steady_docs_per_s"):
            row[key] = statistics.median(r[key] for r in runs[label])
        rows.append(row)
    return {"docs": DOCS, "latency_ms": LATENCY_MS, "repeats": 1 if ctx.quick else REPEATS, "rows": rows}


def render(r: dict[str, Any]) -> str:
    base = next(row for row in r["rows"] if row["arm"].startswith("ray, 1"))
    lines = [
        f"`extractor extract DIR` on {r['docs']} one-sentence articles (two model calls each under the v3 prompts: "
        f"actors and events) against the fake server at {fmt(r['latency_ms'], 0)} ms per request; median of "
        f"{r['repeats']} interleaved runs per arm. Wall time includes starting a local Ray cluster.",
        "",
        "| arm | wall | first output line | documents/s (wall) | documents/s after the first line | vs ray, 1 worker (steady) |",
        "|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        lines.append(f"| {row['arm']} | {fmt(row['wall_s'], 1)} s | {fmt(row['first_output_s'], 1)} s | "
                     f"{fmt(row['docs_per_s'], 1)} | {fmt(row['steady_docs_per_s'], 1)} | "
                     f"{fmt(row['steady_docs_per_s'] / base['steady_docs_per_s'])}× |")  # fmt: skip
    return "\n".join(lines)
