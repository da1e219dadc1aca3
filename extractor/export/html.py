"""`--format html`: one self-contained review page for a whole batch.

Analysts judge an LLM's records by looking at the words they stand on, so the page shows each
article with every record's evidence highlighted, and links span and record both ways. It is
one file with inline CSS and JS and a Content-Security-Policy that forbids any network use, so
it opens offline and from an e-mail attachment. Each document is its own JSON block, parsed
only when opened, and the list is paged, so a batch of thousands opens quickly; the page is
written while the input streams, with only the small index held until the end.

An analyst can mark records wrong, fix their gold fields and add missed records on the page;
the corrections are kept in the browser's storage (per batch) and downloaded as the file
`extractor gold from-review` turns into eval cases (docs/EXPORT.md).

Escaping: the article and every value go into JSON blocks with `<` written as `\\u003c` (no
`</script>` can end a block early) and reach the DOM through `textContent`, never as HTML.
Spans are cut here, in Python, so offsets (code points) never meet JavaScript's UTF-16 indices.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import TextIO

from extractor.export.reader import source_text
from extractor.schemas import EventType, Extraction, Record
from extractor.summary import Prices, Summary

_ASSETS = resources.files("extractor.export") / "review"


def _json_block(element_id: str, data: object) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return f'<script type="application/json" id="{element_id}">{text}</script>\n'


def segments(text: str, spans: list[tuple[int, int, str]]) -> list[list]:
    """The text cut at every span boundary: [[chunk, [keys of the spans covering it]], ...],
    the keys shortest span first (the page colours a chunk by its innermost record)."""
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    out: list[list] = []
    for left, right in zip(cuts, cuts[1:]):
        covering = sorted((end - start, key) for start, end, key in spans if start <= left and right <= end)
        out.append([text[left:right], [key for _, key in covering]])
    return out


def _record(kind: str, record: Record, label: str, names: list[str], highlighted: set[str], **extra) -> dict:
    evidence = record.evidence
    fields = record.model_dump(mode="json", exclude={"id", "evidence", "grounded"})
    return {
        "key": record.id, "type": kind, "label": label, "fields": fields,
        "quote": evidence.quote if evidence else None, "grounded": record.grounded,
        "highlighted": record.id in highlighted, "actors": names, **extra,
    }  # fmt: skip


def document_data(extraction: Extraction, text: str | None, text_problem: str | None) -> dict:
    """What the page needs of one document: meta, records and the text cut into spans."""
    canonical = {a.name.casefold(): a.name for a in extraction.actors}
    for actor in extraction.actors:
        for alias in actor.aliases:
            canonical.setdefault(alias.casefold(), actor.name)

    def named(names: list[str]) -> list[str]:
        return [canonical.get(n.casefold(), n) for n in names]

    spans = [
        (r.evidence.start, r.evidence.end, r.id)
        for r in extraction.records() if text is not None and r.evidence is not None and r.evidence.holds_in(text)
    ]  # fmt: skip
    shown = {key for _, _, key in spans}
    records = [_record("actor", a, f"{a.name} ({a.kind.value})", [a.name], shown) for a in extraction.actors]
    for e in extraction.events:
        place = ", ".join(x for x in (e.location, e.admin1, e.country) if x)
        label = e.type.value + (f" · {place}" if place else "") + (f" · {e.date}" if e.date else "")
        records.append(_record("event", e, label, named(e.perpetrators + e.targets), shown, event_type=e.type.value))
    for s in extraction.sanctions:
        label = f"{s.target} ← {s.measure.value} ({s.authority or s.authority_text or 'authority unknown'}, {s.status.value})"
        records.append(_record("sanction", s, label, named([s.target]), shown))
    meta = extraction.meta
    return {
        "source": extraction.source or "input",
        "meta": {
            "model": meta.model, "prompt_version": meta.prompt_version, "prompt_tokens": meta.usage.prompt_tokens,
            "completion_tokens": meta.usage.completion_tokens, "seconds": meta.seconds, "cache_hit": meta.cache_hit,
            "model_calls": meta.model_calls, "reasks": meta.reasks, "warnings": meta.warnings, "published": meta.published,
        },  # fmt: skip
        "text_problem": text_problem,
        "segments": segments(text, spans) if text is not None else None,
        "records": records,
    }


class HtmlWriter:
    """Writes the page as documents arrive; the index and the script go last."""

    def __init__(self, out: TextIO, *, texts_root: Path | None = None, prices: Prices | None = None):
        self._out = out
        self._root = texts_root
        self._prices = prices
        self._index: list[dict] = []
        # Which batch this page shows: the key its corrections are kept under in the browser.
        self._batch = hashlib.sha256()
        page = (_ASSETS / "page.html").read_text(encoding="utf-8")
        css = (_ASSETS / "review.css").read_text(encoding="utf-8")
        out.write(page.replace("/*CSS*/", css))

    def add(self, extraction: Extraction) -> None:
        """Write the document's JSON block and remember its line of the index."""
        source = source_text(extraction, self._root)
        number = len(self._index)
        self._batch.update(f"{extraction.source}\0{extraction.meta.input_sha256}\0{extraction.meta.prompt_version}\n".encode())
        self._out.write(_json_block(f"doc-{number}", document_data(extraction, source.text, source.problem)))
        self._index.append({
            "source": extraction.source or "input",
            "counts": {"actors": len(extraction.actors), "events": len(extraction.events), "sanctions": len(extraction.sanctions)},
            "warnings": len(extraction.meta.warnings) + (source.problem is not None),
            "flagged": sum(1 for r in extraction.records() if not r.grounded or r.checks),
        })  # fmt: skip

    def close(self, *, bad_lines: int = 0, summary: Summary | None = None) -> None:
        """Write the index, the export's summary (its header) and the page's script."""
        index = {
            "documents": self._index, "summary": (summary or Summary()).as_dict(prices=self._prices),
            "event_types": [t.value for t in EventType], "bad_lines": bad_lines, "batch_id": self._batch.hexdigest()[:16],
        }  # fmt: skip
        self._out.write(_json_block("index", index))
        script = (_ASSETS / "review.js").read_text(encoding="utf-8")
        self._out.write(f"<script>{script}</script>\n</body>\n</html>\n")
