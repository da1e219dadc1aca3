"""`extractor gold from-review`: an analyst's corrections -> eval-set cases `extractor eval` scores.

Each reviewed document becomes `DIR/<case>/article.txt` (the text the extraction was made
from, re-read from its source and used only when its sha256 still matches) and `gold.json`,
which is then loaded by the eval's own gold loader, so a case that would not score is never
left behind. A document that cannot become a case is one error line; the others are written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated, Optional

import typer

from extractor.cli.common import err, fail_usage, say_error
from extractor.errors import GoldError

gold_app = typer.Typer(help="Grow an eval set from reviewed output.", no_args_is_help=True)


@gold_app.command("from-review")
def from_review(
    extractions: Annotated[Path, typer.Argument(metavar="EXTRACTIONS.jsonl", help="The JSONL the review was made on.")],
    corrections: Annotated[Path, typer.Argument(metavar="CORRECTIONS.json", help="The review page's download, or a file written by hand (docs/EXPORT.md).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Eval-set directory to write the cases into.")],
    texts_root: Annotated[Optional[Path], typer.Option("--texts-root", help="Directory relative source paths start from (default: the current directory).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a case directory that already exists.")] = False,
) -> None:
    """Turn reviewed documents into gold cases (article.txt + gold.json) in the eval-set contract."""
    from extractor.eval.from_review import load_corrections
    from extractor.export.reader import BadLine, read_extractions

    if not extractions.is_file():
        fail_usage(f"{extractions}: no such file")
    try:
        reviewed = load_corrections(corrections)
    except GoldError as exc:
        fail_usage(str(exc))
    wanted = {c.document for c in reviewed.documents}
    found = {}
    for item in read_extractions(extractions):
        if isinstance(item, BadLine):
            say_error(item.message)
        elif item.extraction.source in wanted:
            found[item.extraction.source] = item.extraction
    written = failed = 0
    for correction in reviewed.documents:
        problem = _write_case(found.get(correction.document), correction, output, texts_root, force)
        if problem:
            failed += 1
            say_error(f"{correction.document}: {problem}")
        else:
            written += 1
    err.print(f"wrote {written} case(s) to {output}" + (f", {failed} document(s) not written" if failed else ""),
              highlight=False, soft_wrap=True, markup=False)  # fmt: skip
    raise typer.Exit(1 if failed else 0)


def _write_case(extraction, correction, output: Path, texts_root: Path | None, force: bool) -> str | None:
    """Write one case; the problem as one line when it cannot be written."""
    from extractor.eval.from_review import build_gold, case_id
    from extractor.eval.gold import load_gold
    from extractor.export.reader import source_text

    if extraction is None:
        return "not in the extractions file"
    text = source_text(extraction, texts_root)
    if text.text is None:
        return f"article text not available ({text.problem})"
    try:
        gold = build_gold(extraction, correction)
    except GoldError as exc:
        return str(exc).removeprefix(f"{correction.document}: ")
    case = output / (correction.case or case_id(correction.document))
    if case.exists() and not force:
        return f"{case} exists (--force replaces it)"
    staging = output / f".{case.name}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        (staging / "article.txt").write_text(text.text, encoding="utf-8")
        (staging / "gold.json").write_text(json.dumps(gold, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        load_gold(staging / "gold.json")
        shutil.rmtree(case, ignore_errors=True)
        staging.rename(case)
    except GoldError as exc:
        return f"the corrected gold does not follow the contract: {str(exc).split(': ', 1)[-1]}"
    except OSError as exc:
        return f"cannot write {case}: {exc.strerror or exc}"
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return None
