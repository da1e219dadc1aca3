"""Eval reports for people: a rich table on the terminal and Markdown for a pull request."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from extractor.records import RECORD_TYPES as TYPES


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def print_report(report: dict[str, Any], console: Console) -> None:
    """Scores per type and per case, as tables."""
    table = Table(title=f"eval: {report['model']} · prompt {report['prompt_version']}")
    for column in ("type", "precision", "recall", "F1", "tp", "fp", "fn", "field accuracy"):
        table.add_column(column, justify="right" if column not in ("type", "field accuracy") else "left")
    for kind in TYPES:
        row = report[kind]
        fields = ", ".join(f"{k} {_fmt(v)}" for k, v in row.get("field_accuracy", {}).items())
        table.add_row(kind, *(_fmt(row[k]) for k in ("precision", "recall", "f1", "tp", "fp", "fn")), fields)
    overall = report["overall"]
    table.add_row("overall (micro)", *(_fmt(overall[k]) for k in ("precision", "recall", "f1", "tp", "fp", "fn")), "")
    console.print(table)

    cases = Table(title="per case (F1)")
    for column in ("case", "actors", "events", "sanctions", "grounding", "error"):
        cases.add_column(column)
    for case in report["cases"]:
        if case.get("unscorable"):
            cases.add_row(case["id"], "-", "-", "-", "-", case["error"])
            continue
        cases.add_row(
            case["id"], *(_fmt(case[k]["f1"]) for k in TYPES), _fmt(case.get("grounding")), case.get("error", "")
        )
    console.print(cases)
    console.print(
        f"grounding {_fmt(report.get('grounding'))} · tokens {report['usage']['total_tokens']} · "
        f"model calls {report['model_calls']} · cache hits {report['cache_hits']} · {report['seconds']:.1f}s"
    )


def markdown_report(report: dict[str, Any]) -> str:
    """The report as Markdown."""
    lines = [
        f"# Eval report: {report['model']}",
        "",
        f"- prompt version: `{report['prompt_version']}`",
        f"- backend: `{report['backend']}`",
        f"- cases: {report['n_cases']} (failed: {', '.join(report['failed_cases']) or 'none'})",
        f"- micro-F1: **{_fmt(report['overall']['f1'])}** · grounding: {_fmt(report.get('grounding'))}",
        f"- tokens: {report['usage']['total_tokens']} · model calls: {report['model_calls']} · "
        f"seconds: {report['seconds']:.1f}",
        "",
        "| type | precision | recall | F1 | tp | fp | fn | field accuracy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind in (*TYPES, "overall"):
        row = report[kind]
        fields = ", ".join(f"{k} {_fmt(v)}" for k, v in row.get("field_accuracy", {}).items())
        lines.append(
            f"| {kind} | " + " | ".join(_fmt(row[k]) for k in ("precision", "recall", "f1", "tp", "fp", "fn")) + f" | {fields} |"
        )
    lines += ["", "| case | actors F1 | events F1 | sanctions F1 | grounding | error |", "|---|---|---|---|---|---|"]
    for case in report["cases"]:
        if case.get("unscorable"):
            lines.append(f"| {case['id']} | - | - | - | - | {case['error']} |")
        else:
            lines.append(
                f"| {case['id']} | "
                + " | ".join(_fmt(case[k]["f1"]) for k in TYPES)
                + f" | {_fmt(case.get('grounding'))} | {case.get('error', '')} |"
            )
    return "\n".join(lines) + "\n"
