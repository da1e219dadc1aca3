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
    if "compare" in report:
        c = report["compare"]
        lo, hi = c["ci95"]
        console.print(
            f"against {c['base'].get('prompt_version')}: micro-F1 {c['micro_f1_delta']:+.3f} "
            f"(95% interval [{lo:+.3f}, {hi:+.3f}], {c['paired_cases']} paired cases) · "
            f"{len(c['regressions'])} record(s) became wrong, {len(c['improvements'])} became right"
        )
    if "repeats" in report:
        r = report["repeats"]
        console.print(f"{r['k']} runs: micro-F1 mean {_fmt(r['mean']['overall_f1'])} ± {_fmt(r['std']['overall_f1'])} · pass^{r['k']} {_fmt(r['pass_k'])}")


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
    lines += _cost_lines(report) + _analysis_lines(report.get("analysis"))
    if "repeats" in report:
        lines += _repeat_lines(report["repeats"])
    body = "\n".join(lines) + "\n"
    return (compare_markdown(report["compare"]) + "\n" + body) if "compare" in report else body


def _cost_lines(report: dict[str, Any]) -> list[str]:
    lines = ["", "## Cost per case", "", "| case | prompt tokens | completion tokens | model calls | cache hits | seconds |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for case in report["cases"]:
        usage = case.get("usage") or {}
        lines.append(
            f"| {case['id']} | {usage.get('prompt_tokens', '-')} | {usage.get('completion_tokens', '-')} | "
            f"{case.get('model_calls', '-')} | {case.get('cache_hits', '-')} | {_fmt(case.get('seconds'))} |"
        )
    return lines


def _analysis_lines(analysis: dict[str, Any] | None) -> list[str]:
    if not analysis:
        return []
    lines = ["", "## Error analysis"]
    for kind, label in (("events", "event types"), ("sanctions", "sanction measures")):
        lines += ["", f"Confusion of {label} (gold -> predicted, pairs matched with the type ignored):", ""]
        lines += [f"- {row['gold']} -> {row['predicted']}: {row['count']}" for row in analysis["confusion"][kind]] or ["- none"]
    lines += ["", "Field accuracy (correct / matched pairs):", ""]
    for kind, fields in analysis["field_counts"].items():
        shown = ", ".join(f"{name} {v['correct']}/{v['total']}" for name, v in fields.items())
        lines.append(f"- {kind}: {shown or 'none'}")
    for key, label in (("top_false_positives", "Most frequent false positives"), ("top_false_negatives", "Most frequent false negatives")):
        lines += ["", f"{label}:", ""]
        lines += [f"- {row['count']} × {row['pattern']} (e.g. {row['example']['case']})" for row in analysis[key]] or ["- none"]
    return lines


def _repeat_lines(repeats: dict[str, Any]) -> list[str]:
    lines = ["", f"## {repeats['k']} runs (seeds {', '.join(str(s) for s in repeats['seeds'])})", "",
             "| figure | mean | std |", "|---|---|---|"]  # fmt: skip
    lines += [f"| {name} | {_fmt(repeats['mean'][name])} | {_fmt(repeats['std'][name])} |" for name in repeats["mean"]]
    return lines + ["", f"pass^{repeats['k']}: {_fmt(repeats['pass_k'])} (share of gates passed by every run)"]


def _record_line(item: dict[str, Any]) -> str:
    gold = item["gold"]
    label = gold.get("name") or gold.get("type") or f"{gold.get('target')} / {gold.get('measure')}"
    side = item["before"] if item["before"] is not None else item["after"]
    quote = (side or {}).get("quote") or (side or {}).get("name") or ""
    return f"- `{item['case']}` {item['type']}: **{label}** — {'was' if item['before'] else 'now'} matched by: {quote[:140]}"


def compare_markdown(c: dict[str, Any]) -> str:
    """The comparison with a baseline report, as a pull-request comment."""
    lo, hi = c["ci95"]
    lines = [
        f"## Eval against baseline (`{c['base'].get('prompt_version')}`)",
        "",
        f"micro-F1 **{c['overall']['base_f1']:.3f} → {c['overall']['new_f1']:.3f}** "
        f"({c['micro_f1_delta']:+.3f}; paired bootstrap 95% interval [{lo:+.3f}, {hi:+.3f}] over {c['paired_cases']} cases)",
        "",
        "| type | base F1 | new F1 | delta | 95% interval |",
        "|---|---|---|---|---|",
    ]
    for kind, block in (("overall", c["overall"]), *c["types"].items()):
        lines.append(f"| {kind} | {block['base_f1']:.3f} | {block['new_f1']:.3f} | {block['f1_delta']:+.3f} | "
                     f"[{block['ci95'][0]:+.3f}, {block['ci95'][1]:+.3f}] |")  # fmt: skip
    changed = [row for row in c["cases"] if any(row[s]["f1"] for s in ("overall", *TYPES))]
    lines += ["", f"Cases whose F1 changed: {len(changed)} of {c['paired_cases']}", ""]
    lines += [f"- `{row['id']}`: overall {row['overall']['f1']:+.3f} (" + ", ".join(f"{k} {row[k]['f1']:+.3f}" for k in TYPES) + ")"
              for row in changed]  # fmt: skip
    if not c.get("records_compared", True):
        lines += ["", "Records not compared: the baseline report predates the per-record lists (re-run it)."]
    for key, label in (("regressions", "Became wrong"), ("improvements", "Became right")):
        lines += ["", f"{label} ({len(c[key])}):", ""] + ([_record_line(i) for i in c[key][:20]] or ["- none"])
    for key, label in (("new_false_positives", "New false positives"), ("removed_false_positives", "False positives removed")):
        items = c.get(key, [])
        lines += ["", f"{label} ({len(items)}):", ""] + (
            [f"- `{i['case']}` {i['type']}: {(i['predicted'].get('quote') or i['predicted'].get('name') or '')[:140]}" for i in items[:20]]
            or ["- none"]
        )
    if c["only_in_base"] or c["only_in_new"]:
        lines += ["", f"Not paired: only in base {c['only_in_base'] or '-'}, only in this run {c['only_in_new'] or '-'}"]
    cost = c["cost"]
    lines += ["", f"Cost: tokens {cost['tokens']['base']} → {cost['tokens']['new']}, model calls "
              f"{cost['model_calls']['base']} → {cost['model_calls']['new']}"]  # fmt: skip
    return "\n".join(lines) + "\n"
