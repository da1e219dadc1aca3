"""`extractor export`: our JSONL as a review page, an ACLED table, FtM entities or flat CSV.

The output is written to a temporary file beside the target and moved into place when the
whole input has been read, so an interrupted export never leaves half a file where a good one
stood. A malformed input line is reported (file and line number) and skipped; the rest is
exported and the exit code is 1.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Optional

import typer

from extractor.cli.common import PriceInOpt, PriceOutOpt, atomic_target, err, fail_usage, prices_from, require_input_not_output, say_error
from extractor.errors import ConfigError, first_line


class Format(StrEnum):
    """The export formats (`--format`)."""

    html = "html"
    acled = "acled"
    ftm = "ftm"
    csv = "csv"


def export_command(
    input_path: Annotated[Path, typer.Argument(metavar="IN.jsonl", help="JSONL written by `extractor extract -o`.")],
    format: Annotated[Format, typer.Option("--format", "-f", help="html (review page) | acled (CSV) | ftm (FollowTheMoney JSON lines) | csv (flat records).")],
    output: Annotated[str, typer.Option("--output", "-o", help="File to write, or - for stdout.")],
    texts_root: Annotated[
        Optional[Path],
        typer.Option("--texts-root", help="Directory the documents' relative source paths start from (html; default: the current directory)."),
    ] = None,
    merge: Annotated[
        bool,
        typer.Option("--merge", help="acled: one row per incident across documents (`extractor merge`'s rules), the lowest reported toll as fatalities."),
    ] = False,
    price_in: PriceInOpt = None,
    price_out: PriceOutOpt = None,
) -> None:
    """Export extractions to the formats analysts use (streaming; malformed lines are reported and skipped)."""
    prices = prices_from(price_in, price_out)
    if merge and format is not Format.acled:
        fail_usage("--merge applies to --format acled (use `extractor merge` for every record type)")
    require_input_not_output(input_path, output, "export")
    if output != "-" and Path(output).is_dir():
        fail_usage(f"-o {output}: is a directory")
    try:
        status = _export(input_path, format, output, texts_root, prices, merge)
    except ConfigError as exc:
        fail_usage(first_line(exc))
    except OSError as exc:
        say_error(str(exc))
        raise typer.Exit(1) from None
    raise typer.Exit(status)


def _writer(format: Format, handle, texts_root: Path | None, prices, merge: bool):
    if format is Format.html:
        from extractor.export.html import HtmlWriter

        return HtmlWriter(handle, texts_root=texts_root, prices=prices)
    if format is Format.acled:
        from extractor.export.acled import AcledWriter

        return AcledWriter(handle, merge=merge)
    if format is Format.ftm:
        from extractor.export.ftm import FtmWriter

        return FtmWriter(handle)
    from extractor.export.tables import TableWriter

    return TableWriter(handle)


def _export(input_path: Path, format: Format, output: str, texts_root: Path | None, prices, merge: bool) -> int:
    from extractor.export.reader import BadLine, read_extractions
    from extractor.summary import Summary

    summary = Summary()
    bad = 0
    with atomic_target(output) as handle:
        writer = _writer(format, handle, texts_root, prices, merge)
        for item in read_extractions(input_path):
            if isinstance(item, BadLine):
                bad += 1
                say_error(item.message)
                continue
            writer.add(item.extraction)
            summary.add(item.extraction)
        writer.close(bad_lines=bad, summary=summary)
    where = "stdout" if output == "-" else output
    skipped = f", {bad} malformed line{'s' if bad != 1 else ''} skipped" if bad else ""
    err.print(f"exported {format.value} to {where}{skipped}: {summary.line(prices=prices)}", highlight=False,
              soft_wrap=True, markup=False)  # fmt: skip
    return 1 if bad else 0
