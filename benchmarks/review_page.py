"""The review page at batch size: export time, file size, and how long Chromium takes to open it.

Input: the embedded model's real outputs for the eval set (evals/replay.jsonl, answered from
the replay cache, so no model runs), repeated to N documents whose sources are the real
article files, so every document carries its text and highlights. Measured in Debian's
headless Chromium over the DevTools protocol: page ready (index parsed, first document
rendered), opening the last document, turning a page of the list. Also writes
docs/review-page.png, the seed article's page with its event record selected.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, Context, eval_cases, fmt

NAME = "review_page"
SEED = "syria-desert-ambush"
SCREENSHOT = REPO / "docs" / "review-page.png"


def _cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "extractor", *args], cwd=cwd, capture_output=True, text=True, timeout=1800)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"extractor {args[0]}: {done.stderr[-2000:]}")
    return done


def real_outputs(work: Path) -> Path:
    """The eval set's recorded real outputs as our JSONL (replayed, zero model calls)."""
    cache = work / "replay-cache"
    _cli("cache", "import", str(REPO / "evals" / "replay.jsonl"), "--cache-dir", str(cache))
    out = work / "evals.jsonl"
    by_date: dict[str | None, list[str]] = defaultdict(list)
    for case in eval_cases():
        by_date[case.published].append(f"evals/{case.id}/article.txt")
    for published, paths in by_date.items():
        _cli("extract", *paths, *(["--published", published] if published else []), "--replay", "--cache-dir", str(cache),
             "-o", str(out))  # fmt: skip
    return out


def _browser():
    sys.path.insert(0, str(REPO))
    from tests.support.browser import Browser

    return Browser()


def screenshot(lines: list[str], work: Path) -> None:
    seed = [line for line in lines if json.loads(line)["source"] == f"evals/{SEED}/article.txt"]
    batch = work / "seed.jsonl"
    batch.write_text("".join(seed), encoding="utf-8")
    page = work / "seed.html"
    _cli("export", str(batch), "--format", "html", "-o", str(page))
    with _browser() as browser:
        browser.open(page)
        browser.click("#rec-e1")
        browser.js("document.getElementById('doc').scrollTop = 0")
        browser.screenshot(SCREENSHOT)


def run(ctx: Context) -> dict[str, Any]:
    n = 300 if ctx.quick else 10_000
    with tempfile.TemporaryDirectory(dir=ctx.work) as tmp:
        work = Path(tmp)
        lines = real_outputs(work).read_text(encoding="utf-8").splitlines(keepends=True)
        ctx.log(f"{NAME}: {len(lines)} real extractions; repeating them to {n} documents")
        if not ctx.quick:
            screenshot(lines, work)
        batch = work / "batch.jsonl"
        with batch.open("w", encoding="utf-8") as out:
            for i in range(n):
                out.write(lines[i % len(lines)])
        page = work / "batch.html"
        started = time.perf_counter()
        _cli("export", str(batch), "--format", "html", "-o", str(page))
        export_seconds = time.perf_counter() - started
        ready, last, paging = [], [], []
        with _browser() as browser:
            for _ in range(3):
                ready.append(browser.open(page, timeout=300))
                started = time.perf_counter()
                browser.js(f"location.hash = 'doc={n - 1}'")
                browser.wait(f"document.querySelector('#doc-list li.current') && document.querySelector('#doc-list li.current').dataset.doc === '{n - 1}'", 60)
                last.append(time.perf_counter() - started)
                started = time.perf_counter()
                browser.click("#prev")
                browser.wait("document.getElementById('page').textContent.startsWith(" + json.dumps(f"{(n - 1) // 100} /") + ")", 60)
                paging.append(time.perf_counter() - started)
        return {
            "documents": n, "distinct_extractions": len(lines), "input_mb": round(batch.stat().st_size / 1e6, 1),
            "page_mb": round(page.stat().st_size / 1e6, 1), "export_seconds": round(export_seconds, 2),
            "ready_seconds": [round(x, 3) for x in ready], "open_last_seconds": [round(x, 3) for x in last],
            "page_turn_seconds": [round(x, 3) for x in paging], "screenshot": None if ctx.quick else str(SCREENSHOT.relative_to(REPO)),
        }  # fmt: skip


def render(r: dict[str, Any]) -> str:
    med = statistics.median
    return "\n".join([
        f"{r['documents']:,} documents (the eval set's {r['distinct_extractions']} real extractions of the embedded model, "
        f"repeated; each with its article text): {r['input_mb']} MB of JSONL became a {r['page_mb']} MB page.",
        "",
        "| step | median | runs |",
        "|---|---|---|",
        f"| `extractor export --format html` (whole batch, one process) | {fmt(r['export_seconds'])} s | 1 |",
        f"| Chromium: open the page until the list and first document are shown | {fmt(med(r['ready_seconds']))} s | "
        + ", ".join(fmt(x) for x in r["ready_seconds"]) + " |",
        f"| open the last document (its JSON parsed and rendered on demand) | {fmt(med(r['open_last_seconds']), 3)} s | "
        + ", ".join(fmt(x, 3) for x in r["open_last_seconds"]) + " |",
        f"| turn a page of the document list (100 per page) | {fmt(med(r['page_turn_seconds']), 3)} s | "
        + ", ".join(fmt(x, 3) for x in r["page_turn_seconds"]) + " |",
        "",
        "Times are wall clock in headless Chromium on this machine (no GPU), measured through the DevTools",
        "protocol from navigation to the page's ready flag; the page renders one document at a time and parses",
        "only the index up front, so opening time grows with the number of documents only through the HTML",
        "parser reading the file.",
    ])  # fmt: skip
