"""`python -m extractor.cli ...` is the same as the `extractor` command."""

from extractor.cli.app import app

app(prog_name="extractor")
