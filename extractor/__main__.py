"""`python -m extractor ...` is the same as the `extractor` command."""

from extractor.cli import app

app(prog_name="extractor")
