"""Careless paths (reliability round 2): `-o` on a file that is not ours, on an input, through a
symlink or onto a device; file names that are not UTF-8; symlinks out of an input directory.
Black-box CLI runs against the loopback fake server."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from tests.support.cli import cli_env, run_cli
from tests.support.fake_server import FakeOpenAIServer

GOOD = "Soldiers of the Malian Army clashed with the Wagner Group near Gao on Sunday. Reuters reported it.\n"


@pytest.fixture
def server():
    with FakeOpenAIServer(max_stall=30) as fake:
        yield fake


def extract(server: FakeOpenAIServer, tmp_path: Path, *args: str):
    return run_cli("extract", *args, "--model", "openai/fake", "--base-url", server.url, "--timeout", "5",
                   "--cache-dir", str(tmp_path / "cache"), env=cli_env(tmp_path / "home"), timeout=90)  # fmt: skip


def test_output_that_is_one_of_the_inputs_is_refused_and_left_intact(server, tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(GOOD, encoding="utf-8")
    proc = extract(server, tmp_path, str(article), "-o", str(article))
    assert proc.returncode == 2
    assert "is one of the inputs" in proc.stderr
    assert article.read_text(encoding="utf-8") == GOOD


def test_an_existing_file_that_is_not_our_jsonl_is_never_cut_or_appended_to(server, tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(GOOD, encoding="utf-8")
    notes = tmp_path / "notes.md"
    notes.write_text("# my notes\nline two without a newline", encoding="utf-8")
    before = notes.read_bytes()
    proc = extract(server, tmp_path, str(article), "-o", str(notes))
    assert proc.returncode == 2
    assert "is not a JSONL file written by extractor" in proc.stderr
    assert notes.read_bytes() == before
    # the errors file is guarded the same way
    other = tmp_path / "errors.txt"
    other.write_text("keep me\n", encoding="utf-8")
    proc = extract(server, tmp_path, str(article), "-o", str(tmp_path / "out.jsonl"), "--errors", str(other))
    assert proc.returncode == 2 and other.read_text(encoding="utf-8") == "keep me\n"


def test_the_end_of_run_rewrite_keeps_permissions_and_symlinks(server, tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(GOOD, encoding="utf-8")
    target = tmp_path / "real" / "out.jsonl"
    target.parent.mkdir()
    link = tmp_path / "out.jsonl"
    assert extract(server, tmp_path, str(article), "-o", str(target)).returncode == 0
    os.chmod(target, 0o644)
    link.symlink_to(target)
    # --force makes a second line for the same source, so the run ends with a rewrite
    proc = extract(server, tmp_path, str(article), "-o", str(link), "--force")
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert len(target.read_text(encoding="utf-8").splitlines()) == 1


def test_output_to_a_device_is_written_not_read(server, tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(GOOD, encoding="utf-8")
    proc = extract(server, tmp_path, str(article), "-o", "/dev/stdout")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout.splitlines()[-1])
    assert record["source"] == str(article)


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems refuse non-UTF-8 names")
def test_a_file_name_that_is_not_utf8_is_escaped_and_the_batch_goes_on(server, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    odd = os.path.join(os.fsencode(corpus), b"caf\xe9.txt")
    with open(odd, "wb") as handle:
        handle.write(GOOD.encode())
    (corpus / "plain.txt").write_text(GOOD, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    for attempt in range(2):  # the rerun resumes instead of failing again
        proc = extract(server, tmp_path, str(corpus), "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
    sources = sorted(json.loads(line)["source"] for line in out.read_text(encoding="utf-8").splitlines())
    assert sources == sorted([str(corpus / "caf\\xe9.txt"), str(corpus / "plain.txt")])
    assert "0 ok, 2 skipped" in proc.stderr


def test_symlinks_out_of_an_input_directory_are_passed_over_unless_asked(server, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "env.txt"
    secret.parent.mkdir()
    secret.write_text("OPENAI_API_KEY=sk-live-should-never-leave-this-machine\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(GOOD, encoding="utf-8")
    (corpus / "innocent.txt").symlink_to(secret)
    (corpus / "inside.txt").symlink_to(corpus / "good.txt")  # stays in the tree: read
    proc = extract(server, tmp_path, str(corpus))
    assert proc.returncode == 0, proc.stderr
    assert "innocent.txt: skipped: a symbolic link that leads out of" in proc.stderr
    assert "1 passed over" in proc.stderr
    sent = json.dumps([r.body for r in server.completions()])
    assert "should-never-leave" not in sent
    assert len(proc.stdout.splitlines()) == 2  # good.txt and inside.txt
    followed = extract(server, tmp_path, str(corpus), "--follow-symlinks", "--no-cache")
    assert followed.returncode == 0 and len(followed.stdout.splitlines()) == 3


def test_a_symlink_loop_is_named_as_such(server, tmp_path: Path) -> None:
    loop = tmp_path / "loop.txt"
    loop.symlink_to(tmp_path / "loop.txt")
    proc = extract(server, tmp_path, str(loop))
    assert proc.returncode == 2
    assert "a symbolic link to nothing (or a loop of links)" in proc.stderr
