"""The exports' input side: our JSONL read back line by line, and the article re-read only
when it is the very file that was extracted; the review page's span cutting."""

from __future__ import annotations

import hashlib
from pathlib import Path

from extractor.export.html import segments
from extractor.export.reader import BadLine, Loaded, read_extractions, source_text
from extractor.schemas import Extraction, Meta


def _extraction(source: str, data: bytes, encoding: str = "utf-8") -> Extraction:
    meta = Meta(model="m", backend="b", prompt_version="p", schema_hash="h",
                input_sha256=hashlib.sha256(data).hexdigest(), input_encoding=encoding)  # fmt: skip
    return Extraction(source=source, meta=meta)


def test_the_article_is_used_only_while_it_is_the_extracted_file(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_bytes("Caf\xe9 bombing".encode("cp1252"))
    extraction = _extraction("a.txt", article.read_bytes(), encoding="cp1252")
    assert source_text(extraction, tmp_path).text == "Caf\xe9 bombing"  # decoded as extract decoded it
    article.write_text("Cafe bombing, updated", encoding="utf-8")
    changed = source_text(extraction, tmp_path)
    assert changed.text is None and "changed since it was extracted" in changed.problem
    article.unlink()
    gone = source_text(extraction, tmp_path)
    assert gone.text is None and "cannot read the article" in gone.problem
    stdin = source_text(_extraction("-", b"x"))
    assert stdin.text is None and "stdin" in stdin.problem


def test_every_line_is_read_and_bad_ones_are_named(tmp_path: Path) -> None:
    good = _extraction("a.txt", b"x").model_dump_json()
    path = tmp_path / "out.jsonl"
    path.write_text("\n".join([good, "[1, 2]", "", "{broken", good]) + "\n", encoding="utf-8")
    items = list(read_extractions(path))
    assert [type(i) for i in items] == [Loaded, BadLine, BadLine, Loaded]
    assert [i.line for i in items] == [1, 2, 4, 5]
    assert items[1].message == f"{path}:2: not an extraction record (a JSON list, not an extraction object); skipped"


def test_spans_are_cut_at_every_boundary_innermost_first() -> None:
    text = "The army shelled Homs."
    spans = [(0, 22, "e1"), (4, 8, "a1"), (17, 21, "a2"), (4, 16, "s1")]
    cut = segments(text, spans)
    assert "".join(chunk for chunk, _ in cut) == text
    assert cut == [
        ["The ", ["e1"]], ["army", ["a1", "s1", "e1"]], [" shelled", ["s1", "e1"]], [" ", ["e1"]],
        ["Homs", ["a2", "e1"]], [".", ["e1"]],
    ]  # fmt: skip
    assert segments("plain", []) == [["plain", []]]
