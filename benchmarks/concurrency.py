"""Concurrency scaling against a loopback OpenAI-compatible server with fixed latency.

`Extractor.aextract_many(documents, concurrency=N)` over 4·N copies of a short article (cache
off) against the fake server answering every request after `latency_ms`. One document is
three model calls run concurrently, so the ideal is N documents per `latency_ms`.
Scaling = throughput(N) / throughput(1); target ≥ 0.8 × N up to N = 16. The server is a
child process with a thread per connection, so it is not the bottleneck until N × 3
requests in flight exhaust the client's CPU.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks.common import SHORT_CASE, Context, LoopbackServer, eval_cases, fmt

NAME = "concurrency"
LATENCY_MS = 200.0
TARGET = 0.8


async def _measure(extractor: Any, case: Any, n: int, documents: int) -> dict[str, Any]:
    docs = [(f"{case.id}#{i}", case.text, case.published) for i in range(documents)]
    seen: list[str] = []
    failures = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    async for source, result in extractor.aextract_many(docs, concurrency=n):
        seen.append(source)
        if isinstance(result, BaseException):
            failures += 1
        elif result.source != source:
            raise AssertionError(f"record for {source} carries source {result.source}")
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if sorted(seen) != sorted(d[0] for d in docs):
        raise AssertionError("aextract_many lost or duplicated documents")
    return {
        "n": n,
        "documents": documents,
        "seconds": wall,
        "docs_per_second": documents / wall,
        "client_cpu_share": cpu / wall,
        "failures": failures,
        "in_input_order": seen == [d[0] for d in docs],
    }


def run(ctx: Context, levels: tuple[int, ...] | None = None, latency_ms: float | None = None) -> dict[str, Any]:
    return asyncio.run(_run(ctx, levels, latency_ms))


async def _run(ctx: Context, levels: tuple[int, ...] | None, latency_ms: float | None) -> dict[str, Any]:
    from extractor.pipeline import Extractor

    levels = levels or ((1, 4, 16) if ctx.quick else (1, 4, 16, 64))
    latency = latency_ms if latency_ms is not None else (50.0 if ctx.quick else LATENCY_MS)
    case = eval_cases([SHORT_CASE])[0]
    rows = []
    with LoopbackServer(latency, ctx.server) as server:
        extractor = Extractor(model="fake", base_url=server.url, api_key="bench", cache=False)
        default_n = extractor.backend.default_concurrency
        await _measure(extractor, case, 2, 4)  # warm-up: connections, imports
        for n in levels:
            server.clear()
            rows.append(await _measure(extractor, case, n, max(4, 4 * n)))
            ctx.log(f"concurrency N={n}: {rows[-1]['docs_per_second']:.2f} docs/s")
        await extractor.backend.aclose()
    base = rows[0]["docs_per_second"] / rows[0]["n"]
    ideal_per_doc = latency / 1000
    for row in rows:
        row["scaling"] = row["docs_per_second"] / base
        row["efficiency"] = row["scaling"] / row["n"]
        row["vs_ideal"] = row["docs_per_second"] * ideal_per_doc / row["n"]
        row["meets_target"] = row["n"] > 16 or row["efficiency"] >= TARGET
    return {
        "latency_ms": latency,
        "case": case.id,
        "default_concurrency_http": default_n,
        "rows": rows,
        "meets_target": all(r["meets_target"] for r in rows),
    }


def render(r: dict[str, Any]) -> str:
    lines = [
        f"Server latency {fmt(r['latency_ms'], 0)} ms per request; 4·N documents (`{r['case']}`, three concurrent "
        f"calls each) through `aextract_many(concurrency=N)`, cache off. Ideal: N documents per "
        f"{fmt(r['latency_ms'], 0)} ms. Default concurrency for HTTP backends: {r['default_concurrency_http']}.",
        "",
        "| N | documents | seconds | docs/s | scaling vs N=1 | efficiency (scaling/N) | of ideal | client CPU busy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        lines.append(
            f"| {row['n']} | {row['documents']} | {fmt(row['seconds'])} | {fmt(row['docs_per_second'])} | "
            f"{fmt(row['scaling'])}× | {fmt(row['efficiency'])} | {fmt(row['vs_ideal'])} | "
            f"{fmt(row['client_cpu_share'] * 100, 0)} % |"
        )
    lines += ["", f"Target efficiency ≥ {TARGET} up to N = 16: **{'meets' if r['meets_target'] else 'misses'}**."]
    return "\n".join(lines)
