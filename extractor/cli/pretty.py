"""`--pretty`: a readable terminal view of one extraction (rich tables).

Every value comes from an article or a model, so each is shown as plain text: control
characters (ANSI escapes) escaped, and brackets never read as rich markup."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from extractor.cli.common import printable
from extractor.schemas import Extraction


def _t(value: object) -> str:
    """A value as inert text for a table cell."""
    return escape(printable(str(value)))


def _quote(record) -> str:
    if record.evidence is None:
        return "[red]ungrounded[/red]"
    quote = record.evidence.quote
    return _t(quote[:90] + "…" if len(quote) > 90 else quote) + f" [dim]@{record.evidence.start}[/dim]"


def render_extraction(extraction: Extraction, console: Console) -> None:
    """An extraction as rich tables (actors, events, sanctions, warnings)."""
    meta = extraction.meta
    console.rule(f"[bold]{_t(extraction.source or 'input')}[/bold]")
    actors = Table("id", "name", "kind", "aliases", "evidence", title="actors", title_justify="left")
    for a in extraction.actors:
        actors.add_row(_t(a.id), _t(a.name), a.kind, _t(", ".join(a.aliases)), _quote(a))
    console.print(actors)
    events = Table("id", "type", "perpetrators → targets", "where", "date", "killed", "evidence", title="events",
                   title_justify="left")
    for e in extraction.events:
        where = ", ".join(x for x in (e.location, e.admin1, e.country) if x)
        events.add_row(_t(e.id), e.type, _t(f"{', '.join(e.perpetrators)} → {', '.join(e.targets)}"), _t(where),
                       _t(e.date or e.date_text or ""), "" if e.fatalities is None else str(e.fatalities), _quote(e))
    console.print(events)
    sanctions = Table("id", "target", "authority", "measure", "status", "amount", "evidence", title="sanctions",
                      title_justify="left")
    for s in extraction.sanctions:
        amount = "" if s.amount is None else f"{s.amount:,.0f} {s.currency or ''}".strip()
        sanctions.add_row(_t(s.id), _t(s.target), _t(s.authority or ""), s.measure, s.status, _t(amount), _quote(s))
    console.print(sanctions)
    console.print(
        f"[dim]{_t(meta.model)} · prompt {meta.prompt_version} · {meta.usage.prompt_tokens}+{meta.usage.completion_tokens} "
        f"tokens · {meta.seconds:.1f}s · cache {'hit' if meta.cache_hit else 'miss'} · re-asks {meta.reasks}[/dim]"
    )
    for warning in meta.warnings:
        console.print(f"[yellow]warning:[/yellow] {_t(warning)}", highlight=False)
