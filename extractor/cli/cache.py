"""`extractor cache stats | clear | export | import`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from extractor.cache import ResponseCache, default_cache_dir
from extractor.cli.common import CacheDirOpt, fail_usage
from extractor.errors import CacheError

ExportPath = Annotated[Path, typer.Argument(help="JSONL file to write (one reviewable entry per line).")]
ImportPath = Annotated[Path, typer.Argument(help="JSONL file written by `extractor cache export`.")]
cache_app = typer.Typer(help="Inspect, clear, export or import the response cache.", no_args_is_help=True)


@contextmanager
def _opened(cache_dir: Optional[Path]) -> Iterator[ResponseCache]:
    """The response cache, closed afterwards; one line and exit 2 when it cannot be opened."""
    try:
        cache = ResponseCache(cache_dir)
    except CacheError as exc:
        fail_usage(f"{cache_dir or default_cache_dir()}: response cache cannot be opened ({exc})")
    try:
        yield cache
    finally:
        cache.close()


@cache_app.command("stats")
def cache_stats(cache_dir: CacheDirOpt = None) -> None:
    """Entries and size of the response cache."""
    with _opened(cache_dir) as cache:
        stats = cache.stats()
    for label, value in (("directory", stats.directory), ("entries", stats.entries), ("bytes", stats.bytes_on_disk)):
        typer.echo(f"{label}: {value}")


@cache_app.command("clear")
def cache_clear(cache_dir: CacheDirOpt = None) -> None:
    """Delete every cached response."""
    with _opened(cache_dir) as cache:
        typer.echo(f"removed {cache.clear()} entries from {cache.directory}")


@cache_app.command("export")
def cache_export(path: ExportPath, cache_dir: CacheDirOpt = None) -> None:
    """Export the cache as sorted JSONL, for review and zero-call replay elsewhere."""
    if path.is_dir():
        fail_usage(f"{path}: is a directory, not a JSONL file")
    with _opened(cache_dir) as cache:
        try:
            count = cache.export_jsonl(path)
        except OSError as exc:
            fail_usage(f"{path}: cannot write ({exc.strerror or exc})")
        typer.echo(f"exported {count} entries to {path}")


@cache_app.command("import")
def cache_import(path: ImportPath, cache_dir: CacheDirOpt = None) -> None:
    """Import an exported cache (entries are keyed, so only identical requests will hit)."""
    if not path.is_file():
        fail_usage(f"{path}: no such file")
    with _opened(cache_dir) as cache:
        try:
            count = cache.import_jsonl(path)
        except CacheError as exc:
            fail_usage(str(exc))
        typer.echo(f"imported {count} entries into {cache.directory}")
