"""Test helpers shipped with the package (no runtime dependency of the extractor itself).

`extractor.testing.fake_server.FakeOpenAIServer` is a fault-injecting, OpenAI-compatible
chat-completions server on loopback, for reliability tests and benchmarks:

    python -m extractor.testing.fake_server --port 8765 --latency-ms 200

`cli_env` and `run_cli` run the real `extractor` CLI in a subprocess, isolated from the
user's home and cache, with a hard timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["FAULT_KINDS", "Fault", "FakeOpenAIServer", "RecordedRequest", "cli_env", "cli_command", "run_cli"]

DUMMY_KEY = "sk-test-SECRET123"


def __getattr__(name: str) -> Any:
    # Lazy, so `python -m extractor.testing.fake_server` does not import the module twice.
    if name in ("FAULT_KINDS", "Fault", "FakeOpenAIServer", "RecordedRequest"):
        from extractor.testing import fake_server

        return getattr(fake_server, name)
    raise AttributeError(name)


def cli_env(home: Path, api_key: str | None = DUMMY_KEY, **extra: str) -> dict[str, str]:
    """Environment for a CLI subprocess: HOME, caches and model store under `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "EXTRACTOR_"))}
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
    return [sys.executable, "-m", "extractor.cli", *args]


def run_cli(*args: str, env: dict[str, str], timeout: float = 90, cwd: str | Path | None = None,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `extractor ARGS` and capture its output; never waits longer than `timeout`."""
    return subprocess.run(
        cli_command(*args), env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd, input=input
    )
