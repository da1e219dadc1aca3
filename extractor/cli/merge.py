"""`extractor merge`: one batch's extractions -> actors, incidents and sanctions across documents.

The whole batch is held in memory (an incident can be reported by the first and the last
article), so a very large corpus is merged per slice a team already has (a month, a country:
`--shard` output files). The output is JSONL, one merged record a line, written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from extractor.cli.common import atomic_target, err, fail_usage, require_input_not_output, say_error


def merge_command(
    input_path: Annotated[Path, typer.Argument(metavar="IN.jsonl", help="JSONL written by `extractor extract -o`.")],
    output: Annotated[str, typer.Option("--output", "-o", help="File to write (JSONL, one merged record a line), or - for stdout.")],
    gold: Annotated[
        Optional[Path],
        typer.Option("--gold", help="Score the event merge against gold incident clusters (clusters.json; docs/EVALS.md, merge eval)."),
    ] = None,
    report_json: Annotated[Optional[Path], typer.Option("--report-json", help="With --gold: write the merge score here.")] = None,
) -> None:
    """Merge a batch across documents: one actor under its many names, one incident with all its reports
    (fatality figures kept per source), one sanctions fact per target x authority x measure; each merge says why."""
    from extractor.corpus import merge_extractions
    from extractor.export.reader import BadLine, read_extractions

    require_input_not_output(input_path, output, "merge")
    incidents = None
    if gold is not None:
        from extractor.eval.merging import load_clusters

        try:
            incidents = load_clusters(gold)
        except ValueError as exc:
            fail_usage(str(exc))
    loaded, bad = [], 0
    try:
        for item in read_extractions(input_path):
            if isinstance(item, BadLine):
                bad += 1
                say_error(item.message)
            else:
                loaded.append((item.line, item.extraction))
        result = merge_extractions(loaded)
        with atomic_target(output) as handle:
            for row in result.rows():
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    except OSError as exc:
        say_error(str(exc))
        raise typer.Exit(1) from None
    skipped = f", {bad} malformed line{'s' if bad != 1 else ''} skipped" if bad else ""
    where = "stdout" if output == "-" else output
    err.print(f"merged to {where}{skipped}: {result.summary()}", highlight=False, soft_wrap=True, markup=False)
    if incidents is not None:
        _score(result.events, incidents, report_json)
    raise typer.Exit(1 if bad else 0)


def _score(events: list[dict], incidents: dict[str, list[str]], report_json: Path | None) -> None:
    from extractor.eval.merging import score_merge

    score = score_merge(events, incidents)
    pairs = score["pairs"]
    err.print(
        f"merge vs gold: pairwise precision {score['precision']:.3f} recall {score['recall']:.3f} "
        f"F1 {score['f1']:.3f} (tp {pairs['tp']}, fp {pairs['fp']}, fn {pairs['fn']})",
        highlight=False, soft_wrap=True, markup=False,
    )  # fmt: skip
    for pair in score["wrong_pairs"]:
        what = "merged, but gold keeps apart" if pair["merged"] else "gold together, not merged"
        err.print(f"  {' + '.join(pair['documents'])}: {what}", highlight=False, soft_wrap=True, markup=False)
    if report_json is not None:
        report_json.parent.mkdir(parents=True, exist_ok=True)
        report_json.write_text(json.dumps(score, indent=1) + "\n", encoding="utf-8")
