"""Run the benchmarks and write docs/BENCHMARKS.md + benchmarks/results.json.

    python -m benchmarks.run                       # everything (≈ 10 min on 2 cores, one local-model article)
    python -m benchmarks.run --quick               # CI smoke: small N, no local model, writes nothing
    python -m benchmarks.run --only overhead_http concurrency
    python -m benchmarks.run --cache-dir out/eval-cache --eval-report out/eval-report.json

A partial run (--only) updates its sections in benchmarks/results.json and re-renders the
whole document from it, so sections measured at different times each carry their own date
and load average.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, Context, busy_processes, fmt, loadavg, machine

BENCHMARKS = ("overhead_http", "concurrency", "cache", "tokens", "local", "review_page", "streaming", "ray_engine")
QUICK_SKIPS = ("local", "review_page", "streaming", "ray_engine")
TITLES = {
    "overhead_http": "Framework overhead: HTTP (zero-latency loopback server)",
    "concurrency": "Concurrency scaling (loopback server, fixed latency)",
    "cache": "Cache: cold vs warm",
    "tokens": "Tokens per article, per record type, per prompt version",
    "local": "Embedded model (llama.cpp in-process, 2 cores)",
    "review_page": "Review page at batch size (export --format html, headless Chromium)",
    "streaming": "Large batches: first output and peak memory at 1k / 10k / 100k inputs (fake server)",
    "ray_engine": "Ray engine: documents/s at 1 and 2 workers vs the local engine (fixed-latency fake server)",
}
DOC = REPO / "docs" / "BENCHMARKS.md"
RESULTS = REPO / "benchmarks" / "results.json"
FINDINGS = REPO / "benchmarks" / "FINDINGS.md"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke: small N, no local model; writes nothing unless --write")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, metavar="NAME", help=f"run only these: {', '.join(BENCHMARKS)}")
    parser.add_argument("--no-write", action="store_true", help="print the report instead of writing docs/ and results.json")
    parser.add_argument("--write", action="store_true", help="write even in --quick mode")
    parser.add_argument("--cache-dir", type=Path, help="response cache filled by an `extractor eval` run (local-model cache/tokens)")
    parser.add_argument("--eval-report", type=Path, help="`extractor eval --report-json` file (cold time, articles/minute)")
    parser.add_argument("--local-case", default=None, help="eval case for the local-model benchmark (default: a short one)")
    parser.add_argument("--local-repeats", type=int, default=2, help="pipeline/raw pairs on the local model (default 2; fastest of each side compared)")
    parser.add_argument("--server", choices=("process", "thread"), default="process", help="run the fake server as a child process (default) or a thread")
    parser.add_argument("--render-only", action="store_true", help="re-render docs/BENCHMARKS.md from results.json, measure nothing")
    parser.add_argument("--doc", type=Path, default=DOC, help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, default=RESULTS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run_one(name: str, ctx: Context, results: dict[str, Any]) -> dict[str, Any]:
    module = importlib.import_module(f"benchmarks.{name}")
    before = loadavg()
    started = time.perf_counter()
    ctx.log(f"{name}: start (load {before})")
    result = module.run(ctx, results) if name == "tokens" else module.run(ctx)
    result["_meta"] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "seconds": round(time.perf_counter() - started, 1),
        "loadavg_before": before,
        "loadavg_after": loadavg(),
        "quick": ctx.quick,
    }
    ctx.log(f"{name}: done in {result['_meta']['seconds']} s (load {result['_meta']['loadavg_after']})")
    return result


def _public(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not str(k).startswith("_") or k == "_meta"}
    if isinstance(value, list):
        return [_public(v) for v in value]
    return value


def targets(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    oh = results.get("overhead_http")
    if oh:
        rows.append(("HTTP framework overhead per call", "≤ 2 ms",
                     f"{fmt(oh['overhead_wall_ms_per_call'])} ms wall, {fmt(oh['overhead_cpu_ms_per_call'])} ms CPU",
                     "meets" if oh["meets_target"] else "misses"))
    lo = results.get("local")
    if lo:
        rows.append(("Local-model framework overhead", "≤ 5 %",
                     f"{fmt(lo['overhead_in_run_pct'], 3)} % in-run, {fmt(lo['overhead_side_by_side_pct'])} % side by side",
                     "meets (in-run)" if lo["overhead_in_run_pct"] <= lo["target_pct"] else "misses"))
    co = results.get("concurrency")
    if co:
        for arm in (co, co.get("realistic")):
            if not arm:
                continue
            cells = ", ".join(f"N={r['n']}: {fmt(r['efficiency'])}" for r in arm["rows"])
            rows.append((f"Concurrency efficiency (scaling / N; N = requests in flight), {fmt(arm['latency_ms'], 0)} ms per request",
                         "≥ 0.8 up to N = 16", cells, "meets" if arm["meets_target"] else "misses"))
    ca = results.get("cache")
    if ca:
        local = ca.get("local") or {}
        if local.get("ratio"):
            rows.append(("Cache warm vs cold, eval set (embedded model)", "≥ 1000×", f"{fmt(local['ratio'], 0)}×",
                         "meets" if local.get("meets_target") else "misses"))
        lw = ca.get("local_warm")
        if lw and lo and not local.get("ratio"):
            ratio = lo["pipeline_wall"] / lw["warm_seconds"]
            rows.append(("Cache: one article cold vs whole eval set warm (embedded model; lower bound; two runs)", "≥ 1000×",
                         f"{fmt(ratio, 0)}× ({fmt(lo['pipeline_wall'], 1)} s vs {fmt(lw['warm_seconds'], 3)} s)",
                         "meets" if ratio >= 1000 else "misses"))
        f = ca["fake_server"]
        rows.append(("Cache warm vs cold, eval set (zero-latency server: lower bound)", "–", f"{fmt(f['ratio'], 1)}×",
                     "info"))
        rows.append(("Cache per-hit latency", "–",
                     f"{fmt(f['pass_hit_ms_median'], 2)} ms per pass in the pipeline, {fmt(f['get_us_median'], 0)} µs per get",
                     "info"))
    if lo:
        report = lo.get("eval_report") or {}
        value = (f"{fmt(report['articles_per_minute'], 2)}/min on evals/ ({report['cases']} articles)"
                 if report.get("articles_per_minute") else f"{fmt(lo['articles_per_minute_this_article'], 2)}/min (one short article)")
        rows.append(("Embedded model throughput", "–", value, "info"))
    return rows


def render(results: dict[str, Any], info: dict[str, Any]) -> str:
    m = info["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    lines = [
        "# Benchmarks",
        "",
        "Generated by `benchmarks/run.py` from `benchmarks/results.json`; numbers are measured, not estimated,",
        "unless a row says so. Each figure compares two things measured side by side in the same run; the one",
        "row that combines two runs says so.",
        "",
        "## How to run",
        "",
        "```bash",
        'pip install -e ".[test]"        # or: make install-test',
        "python -m benchmarks.run        # all benchmarks (one short article on the embedded model); or: make bench",
        "python -m benchmarks.run --quick --no-write   # CI smoke, < 30 s, no local model",
        "# with an eval run's cache and report, for the embedded model's cold/warm and token figures:",
        "extractor eval --fixtures evals --cache-dir out/eval-cache --report-json out/eval-report.json",
        "python -m benchmarks.run --cache-dir out/eval-cache --eval-report out/eval-report.json",
        "```",
        "",
        "## Machine and run",
        "",
        f"- command: `{info['command']}`" + (f" ({info['command_note']})" if info.get("command_note") else ""),
        f"- machine: {m['nproc']} cores, {m['cpu_model']}, {m['ram_gb']} GB RAM, {m['os']}",
        f"- Python {m['python']}; {versions}",
        f"- date: {m['date']}",
        f"- load average (1/5/15 min) before: {info['loadavg_before']}, after: {info['loadavg_after']}",
    ]
    if info.get("busy"):
        lines.append("- other processes using CPU when the run started:")
        lines += [f"  - {row}" for row in info["busy"]]
    lines += ["", "## Summary", "", "| figure | target | measured | verdict |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in targets(results)]
    cores = m.get("nproc") or 1
    # Other processes' load shows in the 1-minute load average *before* a section starts (after
    # it, the section's own work is in it: the local model alone keeps 2 threads busy).
    loaded = [
        name for name, r in results.items()
        if (((r.get("_meta") or {}).get("loadavg_before")) or [0])[0] > cores / 2
    ]
    if loaded:
        lines += [
            "",
            f"Background load: {', '.join(loaded)} ran while other processes kept the {cores} cores busy (load "
            "averages in each section). Wall-clock verdicts above are from a shared machine and need a quiet rerun; "
            "see the last section.",
        ]
    for name in BENCHMARKS:
        if name not in results:
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        section = dict(results[name])
        if name == "cache" and "local" in results:
            section["_cold_one_article_seconds"] = results["local"]["pipeline_wall"]
        meta = section.get("_meta", {})
        lines += [
            "",
            f"## {TITLES[name]}",
            "",
            f"*Measured {meta.get('date', '?')} in {meta.get('seconds', '?')} s; load average before "
            f"{meta.get('loadavg_before')}, after {meta.get('loadavg_after')}"
            + ("; --quick" if meta.get("quick") else "")
            + (f"; {meta['note']}" if meta.get("note") else "")
            + ".* (`benchmarks/" + name + ".py`)",
            "",
            module.render(section),
        ]
    if FINDINGS.exists():
        lines += ["", FINDINGS.read_text(encoding="utf-8").strip()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render_only:
        data = json.loads(args.results.read_text(encoding="utf-8"))
        args.doc.write_text(render(data["results"], data["info"]), encoding="utf-8")
        print(f"wrote {args.doc} from {args.results}", file=sys.stderr)
        return 0
    write = (not args.quick or args.write) and not args.no_write
    names = [n for n in (args.only or BENCHMARKS) if not (args.quick and n in QUICK_SKIPS and not args.only)]
    command = "python -m benchmarks.run" + (" " + shlex.join(argv if argv is not None else sys.argv[1:]) if (argv or sys.argv[1:]) else "")
    with tempfile.TemporaryDirectory(prefix="extractor-bench-") as work:
        ctx = Context(
            quick=args.quick,
            cache_dir=args.cache_dir,
            eval_report=args.eval_report,
            server=args.server,
            work=Path(work),
        )
        if args.local_case:
            ctx.local_case = args.local_case
        ctx.local_repeats = max(1, args.local_repeats)
        info: dict[str, Any] = {"command": command, "machine": machine(), "loadavg_before": loadavg(), "busy": busy_processes()}
        previous: dict[str, Any] = {}
        if write and args.only and args.results.exists():
            previous = json.loads(args.results.read_text(encoding="utf-8")).get("results", {})
        if args.only and previous:
            info["command_note"] = "other sections from earlier runs, see their dates"
        results: dict[str, Any] = dict(previous)
        for name in names:
            results[name] = run_one(name, ctx, results)
            info["loadavg_after"] = loadavg()
            if write:  # after every benchmark, so an interrupted run keeps what it measured
                save(args, info, results)
    if write:
        print(f"wrote {args.doc} and {args.results}", file=sys.stderr)
    else:
        print(render(_public(results), info))
    return 0


def save(args: argparse.Namespace, info: dict[str, Any], results: dict[str, Any]) -> None:
    public = _public(results)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps({"info": info, "results": public}, indent=1, default=str) + "\n", encoding="utf-8")
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    args.doc.write_text(render(public, info), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
