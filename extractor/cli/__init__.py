"""The `extractor` command (Typer): `app` is the entry point."""

from extractor.cli.app import app

__all__ = ["app"]
