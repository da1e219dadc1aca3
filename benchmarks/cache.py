"""Response cache: cold vs warm rerun of the whole eval set, and per-hit latency.

1. Framework + cache (always): every evals/ case through one `Extractor` against the
   zero-latency loopback server with an empty cache (cold), then again with a new
   `Extractor` on the same cache directory (warm). The cold run here costs only the
   framework and the loopback HTTP, so the ratio is a lower bound of what a cache saves.
2. Embedded model (when `--cache-dir` names a cache an `extractor eval` run filled, and
   `--eval-report` that run's JSON report): warm rerun of the eval set with the local
   model's configuration against that cache, with model calls forbidden (a miss raises
   instead of running the 1.5B model), vs the cold time the eval report measured.

Warm runs must make zero model calls: `meta.model_calls == 0` is checked for every case.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import Context, LoopbackServer, eval_cases, fmt, median, percentile

NAME = "cache"
TARGET_RATIO = 1000.0


class CacheMiss(RuntimeError):
    """A warm run needed the model: the cache does not hold this request."""


async def _run_all(extractor: Any, cases: list[Any]) -> tuple[float, dict[str, Any]]:
    documents = [(c.id, c.text, c.published) for c in cases]
    results: dict[str, Any] = {}
    started = time.perf_counter()
    async for source, result in extractor.aextract_many(documents):
        results[source] = result
    return time.perf_counter() - started, results


def _hit_stats(results: dict[str, Any]) -> dict[str, Any]:
    hits = [p.seconds for r in results.values() if not isinstance(r, BaseException) for p in r.meta.passes if p.cache_hit]
    docs = [r.meta.seconds for r in results.values() if not isinstance(r, BaseException)]
    return {
        "pass_hits": len(hits),
        "pass_hit_ms_median": median(hits) * 1000 if hits else None,
        "pass_hit_ms_p95": percentile(hits, 95) * 1000 if hits else None,
        "doc_ms_median": median(docs) * 1000 if docs else None,
    }


def _get_latency(cache_dir: Path, limit: int = 2000) -> dict[str, Any]:
    """`ResponseCache.get` on existing keys: microseconds per hit (read + JSON decode)."""
    from extractor.cache import ResponseCache

    cache = ResponseCache(cache_dir)
    keys = list(cache._cache.iterkeys())[:limit]
    timings = []
    for _ in range(3):
        for key in keys:
            started = time.perf_counter()
            cache.get(key)
            timings.append(time.perf_counter() - started)
    cache.close()
    return {"entries": len(keys), "get_us_median": median(timings) * 1e6 if timings else None,
            "get_us_p95": percentile(timings, 95) * 1e6 if timings else None}


def run(ctx: Context) -> dict[str, Any]:
    result: dict[str, Any] = {"fake_server": asyncio.run(_fake_server(ctx))}
    if not ctx.quick:
        result["local_warm"] = asyncio.run(_local_warm_path(ctx))
    if ctx.cache_dir is not None and not ctx.quick:
        result["local"] = asyncio.run(_local(ctx))
    return result


async def _local_warm_path(ctx: Context) -> dict[str, Any]:
    """The embedded model's warm path without an eval cache: fill a temporary cache under the
    local backend's real identity and keys with synthetic answers (the fake server's grounded
    answers, no model), then time a warm rerun of the eval set with the real tokenizer loaded."""
    from extractor.backends.base import CallResult
    from extractor.records import ANSWER_MODELS
    from extractor.pipeline import Extractor
    from tests.support.fake_server import article_of, build_answer

    pass_of = {model: name for name, model in ANSWER_MODELS.items()}
    cases = eval_cases()
    with tempfile.TemporaryDirectory(dir=ctx.work) as tmp:
        filler = Extractor(model="local", cache_dir=tmp)
        started = time.perf_counter()
        filler.backend.count_tokens("load")  # loads the model: its tokenizer chunks the text
        load_seconds = time.perf_counter() - started

        async def synthetic(response_model: Any, messages: list[dict[str, str]]) -> CallResult:
            answer = build_answer(pass_of[response_model], article_of(messages))
            return CallResult(parsed=response_model.model_validate(answer))

        filler.backend.complete = synthetic  # type: ignore[method-assign]
        fill_seconds, filled = await _run_all(filler, cases)
        filler.cache.close()
        assert not [r for r in filled.values() if isinstance(r, BaseException)]

        warm_ex = Extractor(model="local", cache_dir=tmp)  # same process: shares the loaded model
        warm_ex.backend.count_tokens("warm up")

        async def forbidden(*_: Any, **__: Any) -> Any:
            raise CacheMiss("cache miss: the warm run would call the model")

        warm_ex.backend.complete = forbidden  # type: ignore[method-assign]
        warm_seconds, warm = await _run_all(warm_ex, cases)
        warm_ex.cache.close()
        failures = [cid for cid, r in warm.items() if isinstance(r, BaseException)]
        assert not failures, failures
        calls = sum(r.meta.model_calls for r in warm.values())
        assert calls == 0, calls
        passes = sum(len(r.meta.passes) for r in warm.values())
    return {
        "cases": len(cases),
        "passes": passes,
        "chunks": sum(r.meta.chunks for r in warm.values()),
        "warm_seconds": warm_seconds,
        "warm_model_calls": calls,
        "model_load_seconds": load_seconds,
        **_hit_stats(warm),
    }


async def _fake_server(ctx: Context) -> dict[str, Any]:
    from extractor.pipeline import Extractor

    cases = eval_cases()
    with LoopbackServer(0.0, ctx.server) as server, tempfile.TemporaryDirectory(dir=ctx.work) as tmp:
        cold_ex = Extractor(model="fake", base_url=server.url, api_key="bench", cache_dir=tmp)
        cold_seconds, cold = await _run_all(cold_ex, cases)
        await cold_ex.backend.aclose()
        cold_ex.cache.close()
        calls_cold = sum(r.meta.model_calls for r in cold.values() if not isinstance(r, BaseException))
        server.clear()

        warm_ex = Extractor(model="fake", base_url=server.url, api_key="bench", cache_dir=tmp)
        warm_seconds, warm = await _run_all(warm_ex, cases)
        await warm_ex.backend.aclose()
        warm_ex.cache.close()
        failures = [cid for cid, r in warm.items() if isinstance(r, BaseException)]
        calls_warm = sum(r.meta.model_calls for r in warm.values() if not isinstance(r, BaseException))
        requests_warm = len(server.request_bodies())
        assert not failures, f"warm run failed for {failures}"
        assert calls_warm == 0 and requests_warm == 0, (calls_warm, requests_warm)
        latency = _get_latency(Path(tmp))
    return {
        "cases": len(cases),
        "cold_seconds": cold_seconds,
        "cold_model_calls": calls_cold,
        "warm_seconds": warm_seconds,
        "warm_model_calls": calls_warm,
        "ratio": cold_seconds / warm_seconds,
        **_hit_stats(warm),
        **latency,
    }


async def _local(ctx: Context) -> dict[str, Any]:
    from extractor.pipeline import Extractor

    assert ctx.cache_dir is not None
    report = None
    if ctx.eval_report is not None:
        report = json.loads(Path(ctx.eval_report).read_text(encoding="utf-8"))
    cases = eval_cases()
    extractor = Extractor(model="local", cache_dir=str(ctx.cache_dir))
    loaded = time.perf_counter()
    extractor.backend.count_tokens("warm up")  # loads the model (the tokenizer is needed to chunk)
    load_seconds = time.perf_counter() - loaded

    async def forbidden(*_: Any, **__: Any) -> Any:
        raise CacheMiss("cache miss: the warm run would call the model")

    extractor.backend.complete = forbidden  # type: ignore[method-assign]
    warm_seconds, warm = await _run_all(extractor, cases)
    extractor.cache.close()
    misses = sorted(cid for cid, r in warm.items() if isinstance(r, BaseException))
    calls = sum(r.meta.model_calls for r in warm.values() if not isinstance(r, BaseException))
    assert calls == 0, calls
    out: dict[str, Any] = {
        "cache_dir": str(ctx.cache_dir),
        "prompt_version": extractor.prompts.id,
        "cases": len(cases),
        "cases_all_hit": len(cases) - len(misses),
        "missed_cases": misses,
        "warm_seconds": warm_seconds,
        "warm_model_calls": calls,
        "model_load_seconds": load_seconds,
        **_hit_stats({k: v for k, v in warm.items() if not isinstance(v, BaseException)}),
        **_get_latency(Path(ctx.cache_dir)),
    }
    if report is not None:
        out["eval_report"] = str(ctx.eval_report)
        out["report_prompt_version"] = report.get("prompt_version")
        out["cold_seconds"] = report.get("seconds")
        out["cold_model_calls"] = report.get("model_calls")
        out["cold_cache_hits"] = report.get("cache_hits")
        out["report_cases"] = report.get("n_cases")
        if report.get("seconds") and not misses:
            out["ratio"] = report["seconds"] / warm_seconds
            out["meets_target"] = out["ratio"] >= TARGET_RATIO
    # Keep the warm results for the token benchmark (usage per article and pass, from the cache).
    out["_usage"] = {
        cid: [
            {"pass": p.name, "chunk": p.chunk, "prompt_tokens": p.usage.prompt_tokens,
             "completion_tokens": p.usage.completion_tokens}
            for p in r.meta.passes
        ]
        for cid, r in warm.items()
        if not isinstance(r, BaseException)
    }
    return out


def render(r: dict[str, Any]) -> str:
    f = r["fake_server"]
    lines = [
        f"**Framework + cache** (zero-latency loopback server, all {f['cases']} eval articles, default concurrency):",
        "",
        "| run | seconds | model calls | per article |",
        "|---|---|---|---|",
        f"| cold (empty cache) | {fmt(f['cold_seconds'], 3)} | {f['cold_model_calls']} | "
        f"{fmt(f['cold_seconds'] / f['cases'] * 1000, 1)} ms |",
        f"| warm (same cache dir, new Extractor) | {fmt(f['warm_seconds'], 3)} | {f['warm_model_calls']} | "
        f"{fmt(f['warm_seconds'] / f['cases'] * 1000, 1)} ms |",
        "",
        f"Cold/warm = {fmt(f['ratio'], 1)}× — a lower bound: this cold run pays no model time at all. "
        f"Per cached pass inside the pipeline: median {fmt(f['pass_hit_ms_median'], 2)} ms "
        f"(p95 {fmt(f['pass_hit_ms_p95'], 2)} ms); `ResponseCache.get` alone: median "
        f"{fmt(f['get_us_median'], 0)} µs (p95 {fmt(f['get_us_p95'], 0)} µs) over {f['entries']} entries.",
    ]
    lw = r.get("local_warm")
    if lw:
        lines += [
            "",
            f"**Embedded-model warm path** (local backend's identity, keys and tokenizer; the cache filled with "
            f"synthetic grounded answers instead of model output): warm rerun of all {lw['cases']} articles "
            f"({lw['chunks']} chunks, {lw['passes']} cached passes) **{fmt(lw['warm_seconds'], 3)} s**, "
            f"{lw['warm_model_calls']} model calls; median {fmt(lw['doc_ms_median'], 1)} ms per article (tokenizing "
            f"for chunking included), {fmt(lw['pass_hit_ms_median'], 2)} ms per cached pass. Loading the model "
            f"first (its tokenizer chunks the text): {fmt(lw['model_load_seconds'], 2)} s once per process "
            "(page cache warm), not included.",
        ]
        if r.get("_cold_one_article_seconds"):
            cold = r["_cold_one_article_seconds"]
            lines.append(
                f"One article cold on the embedded model (the local benchmark's pipeline run, {fmt(cold, 1)} s; see "
                "that section's date and load) "
                f"against all {lw['cases']} articles warm: **{fmt(cold / lw['warm_seconds'], 0)}×** — a lower bound "
                "for the eval set's cold/warm ratio, which `--eval-report` replaces with the measured one."
            )
    local = r.get("local")
    if local:
        lines += [
            "",
            f"**Embedded model** (warm rerun against `{local['cache_dir']}`, model calls forbidden):",
            "",
            f"- cases fully served from the cache: {local['cases_all_hit']}/{local['cases']}"
            + (f" (missing: {', '.join(local['missed_cases'])})" if local["missed_cases"] else ""),
            f"- warm rerun of the eval set: **{fmt(local['warm_seconds'], 3)} s**, {local['warm_model_calls']} model "
            f"calls; per cached pass median {fmt(local['pass_hit_ms_median'], 2)} ms; "
            f"`ResponseCache.get` median {fmt(local['get_us_median'], 0)} µs",
            f"- loading the model first (needed for its tokenizer when chunking): {fmt(local['model_load_seconds'], 2)} s",
        ]
        if local.get("cold_seconds"):
            lines.append(
                f"- cold: the eval run's own measured time, {fmt(local['cold_seconds'], 1)} s for "
                f"{local.get('report_cases')} cases, {local.get('cold_model_calls')} model calls "
                f"({local.get('cold_cache_hits')} cache hits) — `{local.get('eval_report')}`, prompt "
                f"`{local.get('report_prompt_version')}` (current: `{local['prompt_version']}`)"
            )
        if local.get("ratio"):
            verdict = "meets" if local.get("meets_target") else "misses"
            lines.append(f"- **cold/warm = {fmt(local['ratio'], 0)}×** (target ≥ {fmt(TARGET_RATIO, 0)}×: **{verdict}**)")
    return "\n".join(lines)
