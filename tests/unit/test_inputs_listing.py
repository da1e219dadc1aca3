"""Listing inputs fast without changing what is listed: the files inside a directory, the
links that leave it, and which inputs an output path could be."""

from __future__ import annotations

import os
from pathlib import Path

from extractor.batch import inputs


def test_listing_skips_links_that_leave_the_directory_and_keeps_those_inside(tmp_path: Path):
    corpus, outside = tmp_path / "corpus", tmp_path / "secret.txt"
    (corpus / "a-b").mkdir(parents=True)
    (corpus / "a").mkdir()
    for name in ("a-b/x.txt", "a/b.txt", "a.txt"):
        (corpus / name).write_text("x", encoding="utf-8")
    outside.write_text("key", encoding="utf-8")
    os.symlink(outside, corpus / "leak.txt")
    os.symlink(corpus / "a.txt", corpus / "in.txt")
    os.symlink(tmp_path, corpus / "up")  # a folder link out of the corpus
    found, problems = inputs.discover([str(corpus)])
    names = [os.path.relpath(f, corpus) for f in found]
    assert names == ["a/b.txt", "a-b/x.txt", "a.txt", "in.txt"]  # pathlib order: component by component
    skipped = sorted(os.path.relpath(p.source, corpus) for p in problems if p.skipped)
    assert "leak.txt" in skipped and all(s.startswith(("leak.txt", "up")) for s in skipped)
    followed, _ = inputs.discover([str(corpus)], follow_symlinks=True)
    assert str(corpus / "leak.txt") in followed


def test_real_paths_resolves_only_the_inputs_that_could_be_the_target(tmp_path: Path):
    files = [tmp_path / f"d{n}.txt" for n in range(3)]
    for file in files:
        file.write_text("x", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    target.write_text("", encoding="utf-8")
    os.symlink(target, tmp_path / "alias.txt")  # an input that is the output under another name
    sources = [str(f) for f in files] + [str(tmp_path / "alias.txt")]
    assert inputs.real_paths(sources, (target,)) == {os.path.realpath(target)}
    assert inputs.real_paths(sources, (files[1], None)) == {os.path.realpath(files[1]), os.path.realpath(target)}
    assert inputs.real_paths(sources) == {os.path.realpath(s) for s in sources}
