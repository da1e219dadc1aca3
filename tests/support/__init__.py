"""Test helpers that are not part of the installed package: the fake OpenAI-compatible server
and the CLI subprocess runner."""
