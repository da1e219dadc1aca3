"""Large batches: time to the first output line and peak memory at 1k / 10k / 100k small inputs.

`extractor extract DIR -o out.jsonl` against the zero-latency fake server (16 requests in
flight, no cache), once with this checkout's code and once with the code of an earlier commit
(`git archive`, run from its own folder), side by side in one run. Each run is stopped after
`CAP_SECONDS` (the 100k corpus would take half an hour on a fake server): the figures are the
time to the first line written, the peak RSS of the process (VmHWM) up to then, and how many
documents were written by the cap. Not part of CI.

    python -m benchmarks.run --only streaming            # before = $EXTRACTOR_BENCH_BEFORE (default 206c12a)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, Context, LoopbackServer, fmt

NAME = "streaming"
SIZES = (1_000, 10_000, 100_000)
CAP_SECONDS = 60.0
PLACES = ("Gao", "Kidal", "Mopti", "Timbuktu", "Menaka", "Segou")


def _corpus(folder: Path, n: int) -> None:
    for i in range(n):
        sub = folder / f"{i // 1000:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"doc{i:06d}.txt").write_text(
            f"Soldiers of the Malian Army clashed with the Wagner Group near {PLACES[i % len(PLACES)]} on day {i}.\n",
            encoding="utf-8",
        )


def _checkout(ref: str, into: Path) -> Path:
    data = subprocess.run(["git", "archive", ref, "extractor", "prompts", "schemas"], cwd=REPO, capture_output=True,
                          check=True).stdout  # fmt: skip
    with tarfile.open(fileobj=BytesIO(data)) as archive:
        archive.extractall(into, filter="data")
    return into


def _peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _one(code: Path, corpus: Path, out: Path, url: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code), "EXTRACTOR_HOME": str(out.parent / "home"), "OPENAI_API_KEY": "sk-bench"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "extractor.cli", "extract", str(corpus), "-o", str(out), "--model", "openai/fake",
         "--base-url", url, "--no-cache", "-j", "16", "--timeout", "30"],
        cwd=out.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    first = None
    peak = 0
    while proc.poll() is None and time.perf_counter() - started < CAP_SECONDS:
        peak = max(peak, _peak_rss_kb(proc.pid))
        if first is None and out.exists() and out.stat().st_size > 0:
            first = time.perf_counter() - started
        time.sleep(0.05)
    peak = max(peak, _peak_rss_kb(proc.pid))
    finished = proc.poll() is not None
    if not finished:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    written = sum(1 for _ in out.open(encoding="utf-8")) if out.exists() else 0
    return {"first_output_s": None if first is None else round(first, 2), "peak_rss_mb": round(peak / 1024, 1),
            "written": written, "finished": finished, "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip


def run(ctx: Context) -> dict[str, Any]:
    before_ref = os.environ.get("EXTRACTOR_BENCH_BEFORE", "206c12a")
    sizes = (200, 1_000) if ctx.quick else SIZES
    rows = []
    with tempfile.TemporaryDirectory(dir=ctx.work) as tmp, LoopbackServer(0.0) as server:
        work = Path(tmp)
        before = _checkout(before_ref, work / "before")
        for n in sizes:
            corpus = work / f"corpus-{n}"
            _corpus(corpus, n)
            row: dict[str, Any] = {"n": n}
            for side, code in (("before", before), ("after", REPO)):
                ctx.log(f"{NAME}: {n:,} files, {side}")
                row[side] = _one(code, corpus, work / f"{side}-{n}.jsonl", server.url)
            rows.append(row)
    return {"before_ref": before_ref, "cap_seconds": CAP_SECONDS, "rows": rows}


def render(r: dict[str, Any]) -> str:
    lines = [
        f"`extractor extract DIR -o out.jsonl -j 16` on N one-sentence files against the zero-latency fake server; "
        f"before = commit `{r['before_ref']}` (the whole corpus read, and a task made for every document, before the "
        f"first request), after = this checkout (documents read as slots free up). Each run stopped after "
        f"{fmt(r['cap_seconds'], 0)} s.",
        "",
        "| files | first output line, before → after | peak RSS, before → after | written by the cap, before → after |",
        "|---|---|---|---|",
    ]
    for row in r["rows"]:
        b, a = row["before"], row["after"]
        first = f"{fmt(b['first_output_s'])} s → {fmt(a['first_output_s'])} s"
        lines.append(f"| {row['n']:,} | {first} | {fmt(b['peak_rss_mb'], 0)} MB → {fmt(a['peak_rss_mb'], 0)} MB | "
                     f"{b['written']:,}{' (all)' if b['finished'] else ''} → {a['written']:,}{' (all)' if a['finished'] else ''} |")  # fmt: skip
    return "\n".join(lines)
