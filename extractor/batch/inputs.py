"""Batch input: find documents and read them safely.

Files, directories (recursively `*.txt`) and stdin are expanded once, in a stable order; each
document is decoded as UTF-8 (BOM allowed) or a declared fallback, and refused with a one-line
`InputError` naming the file when it is too large, binary or empty. A bad file never stops
the batch: it becomes an `InputProblem` the batch run records and moves past.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from extractor.errors import InputError

DEFAULT_MAX_BYTES = 2_000_000
STDIN = "-"


@dataclass
class Document:
    """One input document, read and decoded."""

    source: str
    text: str
    sha256: str
    encoding: str = "utf-8"
    #: the resolved path it was read from, printable as `source` is (None for stdin): the
    #: resume key's path
    path: str | None = None
    #: its own publication date (JSONL input), else the run's --published applies
    published: str | None = None


@dataclass
class InputProblem:
    """An input that could not be read, with the one-line reason."""

    source: str
    message: str
    #: not an error: the input was passed over on purpose (a symlink leaving its directory)
    skipped: bool = False


def real_paths(sources: list[str], targets: Iterable[Path | None] = ()) -> set[str]:
    """The resolved paths of the discovered inputs (stdin left out), to test an output against.

    With `targets`, only the inputs that could be one of them are resolved: those with a
    target's real file name, and symbolic links (whose own name says nothing). A corpus of
    100,000 files then costs 100,000 cheap link checks instead of 100,000 resolutions.
    """
    names = {os.path.basename(os.path.realpath(t)) for t in targets if t is not None}
    return {
        os.path.realpath(source) for source in sources
        if source != STDIN and (not names or os.path.basename(source) in names or os.path.islink(source))
    }  # fmt: skip


class _Inside:
    """Whether files found under one root stay inside it once symbolic links are resolved.

    A file that is not itself a link lies where its directory really is, so only each
    directory is resolved (once) and each link: a corpus of 100,000 files in 100 folders costs
    100 resolutions, not 100,000 (docs/BENCHMARKS.md, "Large batches").
    """

    def __init__(self, root: Path):
        self.root = os.path.realpath(root)
        self._below = self.root.rstrip(os.sep) + os.sep
        self._folders: dict[str, str] = {}

    def __call__(self, file: str) -> bool:
        if os.path.islink(file):
            real = os.path.realpath(file)
        else:
            folder, name = os.path.split(file)
            if folder not in self._folders:
                self._folders[folder] = os.path.realpath(folder)
            real = os.path.join(self._folders[folder], name)
        return real == self.root or real.startswith(self._below)


def in_shard(relative: str, shard: tuple[int, int] | None) -> bool:
    """True when a file (its path relative to the root it was found under, or its name when
    given as a file) belongs to shard I of N (1-based): a hash, so every machine that runs
    `--shard I/N` on the same corpus takes the same files, and the N shards cover it once."""
    if shard is None:
        return True
    index, count = shard
    digest = hashlib.sha256(relative.replace(os.sep, "/").encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count == index - 1


def resolved(path: str) -> str:
    """The path a source names, resolved (symlinks, `..`, from the current directory) and
    printable as `source` is; stdin stays `-`. The resume key's path."""
    return path if path == STDIN else display_name(os.path.realpath(path))


def discover(paths: Iterable[str], *, follow_symlinks: bool = False, shard: tuple[int, int] | None = None,
             input_format: str = "text") -> tuple[list[str], list[InputProblem]]:  # fmt: skip
    """Expand paths (files, directories recursively for `*.txt`, or `*.jsonl` with
    `input_format="jsonl"`, '-' for stdin), keeping only the files of `shard` (see
    `in_shard`) when one is given.

    Inside a directory, a file reached through a symbolic link that leads out of that
    directory is skipped (reported, not read) unless `follow_symlinks`: a link in a corpus
    must not send a file from elsewhere (a key file, say) to a model server.
    """
    pattern = "*.jsonl" if input_format == "jsonl" else "*.txt"
    found: list[str] = []
    problems: list[InputProblem] = []
    for raw in paths:
        if raw == STDIN:
            found.append(STDIN)
            continue
        path, shown = Path(raw), display_name(raw)
        if path.is_dir():
            # in path order (component by component), as pathlib sorts them
            files = sorted((str(p) for p in path.rglob(pattern) if p.is_file()), key=lambda f: f.split(os.sep))
            if not files:
                problems.append(InputProblem(shown, f"{shown}: directory has no {pattern[1:]} files"))
            inside, prefix = _Inside(path), len(str(path).rstrip(os.sep)) + 1
            for file in files:
                if not in_shard(file[prefix:], shard):
                    continue
                if follow_symlinks or inside(file):
                    found.append(file)
                else:
                    name = display_name(file)
                    problems.append(InputProblem(
                        name, f"{name}: skipped: a symbolic link that leads out of {shown} (--follow-symlinks reads it)",
                        skipped=True,
                    ))  # fmt: skip
        elif path.is_file():
            if in_shard(path.name, shard):
                found.append(str(path))
        elif path.is_symlink() and not path.exists():
            problems.append(InputProblem(shown, f"{shown}: a symbolic link to nothing (or a loop of links)"))
        elif path.exists():
            problems.append(InputProblem(shown, f"{shown}: not a regular file"))
        else:
            problems.append(InputProblem(shown, f"{shown}: no such file or directory"))
    unique = list(dict.fromkeys(found))
    return unique, problems


_TEXT_CONTROLS = set("\t\n\r\f\v\x1b")
MAX_CONTROL_SHARE = 0.05


def _looks_binary(text: str) -> bool:
    """More than 5% control characters (other than whitespace) in the first 8 KB."""
    sample = text[:8192]
    if not sample:
        return False
    controls = sum(1 for c in sample if c not in _TEXT_CONTROLS and unicodedata.category(c) == "Cc")
    return controls / len(sample) > MAX_CONTROL_SHARE


def check_encoding(name: str | None) -> str | None:
    """Validate a --encoding-fallback name ('' or None = no fallback); ValueError if unknown."""
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError as exc:
        raise ValueError(f"--encoding-fallback {name!r} is not a known encoding") from exc


def decode(data: bytes, source: str, fallback: str | None = "cp1252") -> tuple[str, str]:
    """Decode bytes as UTF-8 (BOM allowed) or UTF-16/32 with a BOM, else the declared fallback;
    refuse binary data."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise InputError(f"{source}: starts with a {codec.upper()} byte-order mark but is not valid {codec.upper()}") from exc
            if _looks_binary(text):
                raise InputError(f"{source}: binary file (control bytes), not text")
            return text, codec
    if b"\x00" in data[:8192]:
        raise InputError(f"{source}: binary file (NUL bytes), not text")
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        if not fallback:
            raise InputError(
                f"{source}: not valid UTF-8 (byte {exc.start}) and no fallback encoding (--encoding-fallback '')"
            ) from exc
        try:
            text, encoding = data.decode(fallback), fallback
        except (UnicodeDecodeError, LookupError) as exc2:
            raise InputError(f"{source}: not valid UTF-8 (byte {exc.start}) nor {fallback}") from exc2
    if _looks_binary(text):
        raise InputError(f"{source}: binary file (control bytes), not text")
    return text, encoding


def display_name(path: str) -> str:
    """A file name that can be printed and written as UTF-8: undecodable bytes of a file
    system name (kept by Python as surrogate escapes) are shown as \\xNN."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")


def read_document(
    path: str, *, max_bytes: int = DEFAULT_MAX_BYTES, fallback: str | None = "cp1252", stdin: TextIO | None = None
) -> Document:
    """Read and decode one input (a path or - for stdin); InputError names the problem.
    The document's `source` is the path as `display_name` shows it."""
    source = display_name(path)
    if path == STDIN:
        stream = stdin or sys.stdin
        data = stream.buffer.read(max_bytes + 1) if hasattr(stream, "buffer") else stream.read().encode()
    else:
        try:
            size = os.path.getsize(path)
            if size > max_bytes:
                raise InputError(f"{source}: {size:,} bytes is over the {max_bytes:,}-byte limit (--max-bytes)")
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"{source}: cannot read ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:
        raise InputError(f"{source}: over the {max_bytes:,}-byte limit (--max-bytes)")
    text, encoding = decode(data, source, fallback)
    if not text.strip():
        raise InputError(f"{source}: empty or whitespace-only")
    return Document(source=source, text=text, sha256=hashlib.sha256(data).hexdigest(), encoding=encoding,
                    path=None if path == STDIN else resolved(path))

def iter_documents(
    sources: list[str], *, max_bytes: int, fallback: str | None, input_format: str = "text"
) -> Iterator[Document | InputProblem]:
    """Each source read in turn: a Document, or an InputProblem when it cannot be read
    (`input_format="jsonl"`: every line of each file is a document, `jsonl_inputs`)."""
    if input_format == "jsonl":
        from extractor.batch.jsonl_inputs import iter_jsonl_documents

        yield from iter_jsonl_documents(sources, max_bytes=max_bytes)
        return
    for source in sources:
        try:
            yield read_document(source, max_bytes=max_bytes, fallback=fallback)
        except InputError as exc:
            yield InputProblem(display_name(source), str(exc))
