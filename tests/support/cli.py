"""Run the real `extractor` CLI in a subprocess, isolated from the user's home and cache.

`cli_env` builds the environment (HOME, caches and the model store under a temporary folder,
a dummy OpenAI key), `run_cli` runs `python -m extractor.cli ARGS` with a hard timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["DUMMY_KEY", "cli_command", "cli_env", "run_cli"]

#: shaped like an OpenAI key so the pattern redaction is exercised too
DUMMY_KEY = "sk-test-SECRET123"


def cli_env(home: Path, api_key: str | None = DUMMY_KEY, **extra: str) -> dict[str, str]:
    """Environment for a CLI subprocess: HOME, caches and model store under `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "EXTRACTOR_"))}
    if os.environ.get("EXTRACTOR_PROMPT_VERSION"):  # the integration tests' pinned default (their conftest)
        env["EXTRACTOR_PROMPT_VERSION"] = os.environ["EXTRACTOR_PROMPT_VERSION"]
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        EXTRACTOR_HOME=str(home / "extractor"),
        XDG_CACHE_HOME=str(home / ".cache"),
        PYTHONUNBUFFERED="1",
        COLUMNS="200",
        NO_COLOR="1",
    )
    if api_key is not None:
        env["OPENAI_API_KEY"] = api_key
    env.update(extra)
    return env


def cli_command(*args: str) -> list[str]:
    """The argv of `extractor ARGS` run by this interpreter."""
    return [sys.executable, "-m", "extractor.cli", *args]


def run_cli(*args: str, env: dict[str, str], timeout: float = 90, cwd: str | Path | None = None,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `extractor ARGS` and capture its output; never waits longer than `timeout`."""
    return subprocess.run(
        cli_command(*args), env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd, input=input
    )
