"""Framework overhead against a zero-latency loopback OpenAI-compatible server.

Side by side in one process: `Extractor.aextract` on a short article (cache off) vs the raw
`openai.AsyncOpenAI.chat.completions.create` calls it makes, replayed with the identical
request bodies captured from the server (messages, tools, tool_choice, params), gathered the
same way (the three passes of one document run concurrently). Blocks rotate the arms so that
drifting background load hits them alike; the median block is reported. A third arm runs the
pipeline without `schema_model` (instructor's default per-call schema build) for comparison.
The server runs in a child process, so its CPU time is not in the client's CPU figures.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import time
from collections import defaultdict
from typing import Any

from benchmarks.common import SHORT_CASE, Context, LoopbackServer, eval_cases, fmt, median

NAME = "overhead_http"
TARGET_MS = 2.0


async def _timed(block: Any, iterations: int) -> tuple[float, float]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(iterations):
        await block()
    return time.perf_counter() - wall0, time.process_time() - cpu0


def _profile_groups(profile: cProfile.Profile) -> dict[str, float]:
    """Own (tottime) seconds grouped by top-level package."""
    stats = pstats.Stats(profile)
    groups: dict[str, float] = defaultdict(float)
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        path = filename.replace("\\", "/")
        if "instructor/v2/validation/async_validators.py" in path:
            group = "instructor: async-validator scan (reject_async_validators)"
        elif "site-packages/" in path:
            group = path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
        elif "/extractor/" in path:
            group = "extractor"
        elif path.startswith("~") or path.startswith("<"):
            group = "builtins (C)" if function.startswith("<") or path == "~" else "python internals"
        else:
            group = "stdlib"
            for name in ("asyncio", "json", "ssl", "socket", "selectors", "http", "email", "re", "copy", "typing", "inspect"):
                if f"/{name}/" in path or path.endswith(f"/{name}.py"):
                    group = f"stdlib:{name}"
                    break
        groups[group] += tottime
    return dict(sorted(groups.items(), key=lambda kv: -kv[1]))


def run(ctx: Context) -> dict[str, Any]:
    return asyncio.run(_run(ctx))


async def _run(ctx: Context) -> dict[str, Any]:
    import instructor
    import openai

    from extractor.backends import instructor_calls as backend_base
    from extractor.records import ANSWER_MODELS
    from extractor.pipeline import Extractor

    iterations, blocks = (10, 3) if ctx.quick else (60, 9)
    case = eval_cases([SHORT_CASE])[0]
    with LoopbackServer(0.0, ctx.server) as server:
        extractor = Extractor(model="fake", base_url=server.url, api_key="bench", cache=False)
        raw_client = openai.AsyncOpenAI(api_key="bench", base_url=server.url, timeout=120.0, max_retries=0)

        async def pipeline_once() -> None:
            await extractor.aextract(case.text, source=case.id, published=case.published)

        # Capture the exact requests one extraction makes.
        for _ in range(3):
            await pipeline_once()
        server.clear()
        result = await extractor.aextract(case.text, source=case.id, published=case.published)
        bodies = server.request_bodies()
        calls = len(bodies)
        assert calls == result.meta.model_calls, (calls, result.meta.model_calls)

        async def unwrapped_once() -> None:
            # The same extraction without extractor.backends.base.schema_model (instructor's default
            # path: a fresh ResponseSchema class and JSON schema on every call), for comparison.
            original = backend_base.schema_model
            backend_base.schema_model = lambda model: model
            try:
                await pipeline_once()
            finally:
                backend_base.schema_model = original

        async def raw_once() -> None:
            await asyncio.gather(*(raw_client.chat.completions.create(**body) for body in bodies))

        # The same calls through instructor alone (no extractor code around it): which part of
        # the overhead is instructor's own request building, parsing and validation.
        patched = instructor.patch(create=raw_client.chat.completions.create, mode=instructor.Mode.TOOLS)
        by_tool = {backend_base.schema_model(m).openai_schema["name"]: m for m in ANSWER_MODELS.values()}
        instructor_calls = [
            {
                "response_model": backend_base.schema_model(by_tool[body["tools"][0]["function"]["name"]]),
                "messages": body["messages"],
                "max_retries": extractor.backend.max_reasks,
                **extractor.backend.request_params(),
            }
            for body in bodies
        ]

        async def instructor_once() -> None:
            await asyncio.gather(*(patched(**kwargs) for kwargs in instructor_calls))

        for _ in range(3):
            await raw_once()
        rows: list[dict[str, float]] = []
        for block in range(blocks):
            order = (
                ("raw", raw_once), ("instructor", instructor_once), ("pipeline", pipeline_once), ("unwrapped", unwrapped_once)
            )
            order = order[block % 4 :] + order[: block % 4]
            row: dict[str, float] = {}
            for label, fn in order:
                server.clear()
                wall, cpu = await _timed(fn, iterations)
                row[f"{label}_wall_ms_per_call"] = wall / (iterations * calls) * 1000
                row[f"{label}_cpu_ms_per_call"] = cpu / (iterations * calls) * 1000
            rows.append(row)

        profile = cProfile.Profile()
        profile.enable()
        for _ in range(iterations):
            await pipeline_once()
        profile.disable()
        groups = _profile_groups(profile)
        await raw_client.close()
        await extractor.backend.aclose()

    def med(key: str) -> float:
        return median([r[key] for r in rows])

    raw_wall, pipe_wall = med("raw_wall_ms_per_call"), med("pipeline_wall_ms_per_call")
    raw_cpu, pipe_cpu = med("raw_cpu_ms_per_call"), med("pipeline_cpu_ms_per_call")
    overhead_blocks = [r["pipeline_wall_ms_per_call"] - r["raw_wall_ms_per_call"] for r in rows]
    profiled_calls = iterations * calls
    return {
        "case": case.id,
        "article_chars": len(case.text),
        "calls_per_extract": calls,
        "iterations_per_block": iterations,
        "blocks": blocks,
        "raw_wall_ms_per_call": raw_wall,
        "pipeline_wall_ms_per_call": pipe_wall,
        "overhead_wall_ms_per_call": median(overhead_blocks),
        "overhead_wall_ms_per_call_min": min(overhead_blocks),
        "overhead_wall_ms_per_call_max": max(overhead_blocks),
        "raw_cpu_ms_per_call": raw_cpu,
        "pipeline_cpu_ms_per_call": pipe_cpu,
        "overhead_cpu_ms_per_call": pipe_cpu - raw_cpu,
        "instructor_wall_ms_per_call": med("instructor_wall_ms_per_call"),
        "instructor_cpu_ms_per_call": med("instructor_cpu_ms_per_call"),
        "instructor_overhead_wall_ms_per_call": median(
            [r["instructor_wall_ms_per_call"] - r["raw_wall_ms_per_call"] for r in rows]
        ),
        "unwrapped_overhead_wall_ms_per_call": med("unwrapped_wall_ms_per_call") - raw_wall,
        "unwrapped_overhead_cpu_ms_per_call": med("unwrapped_cpu_ms_per_call") - raw_cpu,
        "target_ms": TARGET_MS,
        "meets_target": median(overhead_blocks) <= TARGET_MS,
        "profile_ms_per_call": {k: v / profiled_calls * 1000 for k, v in list(groups.items())[:10]},
        "blocks_detail": rows,
    }


def render(r: dict[str, Any]) -> str:
    verdict = "meets" if r["meets_target"] else "misses"
    lines = [
        f"Article `{r['case']}` ({r['article_chars']} chars), {r['calls_per_extract']} calls per `aextract`, cache off, "
        f"{r['blocks']} blocks × {r['iterations_per_block']} extractions per arm, arms rotated "
        "between blocks; medians over blocks.",
        "",
        "| per model call | raw openai | instructor alone | extractor | overhead (extractor − raw) | of which instructor |",
        "|---|---|---|---|---|---|",
        f"| wall ms | {fmt(r['raw_wall_ms_per_call'])} | {fmt(r['instructor_wall_ms_per_call'])} | "
        f"{fmt(r['pipeline_wall_ms_per_call'])} | "
        f"**{fmt(r['overhead_wall_ms_per_call'])}** (blocks: {fmt(r['overhead_wall_ms_per_call_min'])}–"
        f"{fmt(r['overhead_wall_ms_per_call_max'])}) | {fmt(r['instructor_overhead_wall_ms_per_call'])} |",
        f"| client CPU ms | {fmt(r['raw_cpu_ms_per_call'])} | {fmt(r['instructor_cpu_ms_per_call'])} | "
        f"{fmt(r['pipeline_cpu_ms_per_call'])} | {fmt(r['overhead_cpu_ms_per_call'])} | "
        f"{fmt(r['instructor_cpu_ms_per_call'] - r['raw_cpu_ms_per_call'])} |",
        "",
        "*Instructor alone* = the same request bodies through `instructor.patch(create=openai...create, "
        "mode=TOOLS)` with the same answer models, re-ask limit and parameters, and no extractor code "
        "(no chunking, prompts, cache keys, grounding context, retries wrapper, assembly).",
        "",
        f"Same run, without the per-model schema reuse (`extractor.backends.base.schema_model`, instructor's "
        f"default path): overhead {fmt(r['unwrapped_overhead_wall_ms_per_call'])} ms wall, "
        f"{fmt(r['unwrapped_overhead_cpu_ms_per_call'])} ms client CPU per call.",
        "",
        f"Target ≤ {fmt(r['target_ms'], 1)} ms per call: **{verdict}**.",
        "",
        "Where the extractor's client time goes (cProfile own time per call, top groups; profiling inflates it):",
        "",
        "| group | ms/call |",
        "|---|---|",
    ]
    lines += [f"| {k} | {fmt(v, 3)} |" for k, v in r["profile_ms_per_call"].items()]
    return "\n".join(lines)
