"""Re-score an eval run's cache with post-processing switched on and off (zero model calls).

Post-processing (consistency checks, sanctions authorities as jurisdictions, participants
promoted to actors, ungrounded records dropped or flagged) runs after the model, so its effect
can be measured on the *same* real model outputs; so can the second look's absence (the first
round's answers are the same with or without it): fill a cache with
`extractor eval --cache-dir DIR`, then

    python -m benchmarks.ablate_postprocessing --cache-dir DIR [--fixtures evals] [--cases-file evals/ci-cases.txt]
        [--prompt-version V]

Every variant runs in replay mode: a pass missing from the cache fails its case instead of
calling the model. Each variant is compared with "as shipped" on the same outputs
(`extractor.eval.compare`: micro-F1 delta with its paired bootstrap 95 % interval, and how many
gold records became right or wrong); `--reports DIR` keeps every variant's JSON report, which
`extractor eval --baseline` reads.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from extractor.eval.compare import compare
from extractor.eval.runner import discover_cases, run_eval
from extractor.pipeline import Extractor

VARIANTS = {
    "as shipped": {},
    "without the second look (its recorded answers unused; extractor/pipeline/second_look.py)": {"second_look": False},
    "without consistency checks (extractor/postprocess/consistency.py)": {"consistency_checks": False},
    "without authority canonicalisation": {"canonical_authorities": False},
    "without method types and background (extractor/postprocess/event_types.py)": {"method_types": False},
    "without one incident per place and day (extractor/postprocess/incidents.py)": {"one_incident_per_place_and_day": False},
    "without places are not actors (extractor/postprocess/places.py)": {"places_are_not_actors": False},
    "without event sides (extractor/postprocess/sides.py)": {"event_sides": False},
    "without people (extractor/postprocess/people.py)": {"people": False},
    "without listed names kept apart (extractor/postprocess/listed.py)": {"listed_are_distinct": False},
    "without names as written (extractor/postprocess/actors.py)": {"names_as_written": False},
    "without status as stated (extractor/postprocess/status.py)": {"status_as_stated": False},
    "without both": {"consistency_checks": False, "canonical_authorities": False},
    "without participants-as-actors": {"participants_as_actors": False},
    "ungrounded flagged instead of dropped": {"ungrounded": "flag"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", required=True)
    parser.add_argument("--fixtures", default="evals")
    parser.add_argument("--prompt-version", help="the prompt set whose answers the cache holds (default: prompts/CURRENT)")
    parser.add_argument("--cases-file", help="only the case ids listed in this file (e.g. evals/ci-cases.txt)")
    parser.add_argument("--json", help="write the table as JSON here")
    parser.add_argument("--reports", help="write each variant's eval report (JSON) into this directory")
    args = parser.parse_args()
    only = Path(args.cases_file).read_text().split() if args.cases_file else None
    cases = discover_cases(Path(args.fixtures), only=only)
    rows = []
    shipped = None
    for number, (name, options) in enumerate(VARIANTS.items()):
        with Extractor(cache_dir=args.cache_dir, replay=True, prompt_version=args.prompt_version, **options) as extractor:
            report = run_eval(extractor, cases, console=Console(stderr=True, quiet=True))
        shipped = shipped or report
        versus = compare(shipped, report)
        if args.reports:
            Path(args.reports).mkdir(parents=True, exist_ok=True)
            (Path(args.reports) / f"variant-{number}.json").write_text(json.dumps(report, indent=1) + "\n")
        rows.append(
            {
                "variant": name,
                "micro_f1": report["overall"]["f1"],
                **{f"{k}_f1": report[k]["f1"] for k in ("actors", "events", "sanctions")},
                "grounding": report["grounding"],
                "failed_cases": len(report["failed_cases"]),
                "delta": versus["micro_f1_delta"],
                "ci95": versus["ci95"],
                "became_wrong": len(versus["regressions"]),
                "became_right": len(versus["improvements"]),
            }
        )
    print("| variant | micro-F1 | actors F1 | events F1 | sanctions F1 | grounding | cases not in the cache "
          "| delta vs shipped [95% interval] | gold records became right / wrong |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        values = [row["micro_f1"], row["actors_f1"], row["events_f1"], row["sanctions_f1"], row["grounding"]]
        cells = " | ".join("-" if v is None else f"{v:.3f}" for v in values)
        lo, hi = row["ci95"]
        print(f"| {row['variant']} | {cells} | {row['failed_cases']} | {row['delta']:+.3f} [{lo:+.3f}, {hi:+.3f}] "
              f"| {row['became_right']} / {row['became_wrong']} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
