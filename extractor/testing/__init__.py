"""Test helpers shipped with the package (no runtime dependency of the extractor itself).

`extractor.testing.fake_server.FakeOpenAIServer` is a fault-injecting, OpenAI-compatible
chat-completions server on loopback, for reliability tests and benchmarks:

    python -m extractor.testing.fake_server --port 8765 --latency-ms 200
"""

from __future__ import annotations

from typing import Any

__all__ = ["FAULT_KINDS", "Fault", "FakeOpenAIServer", "RecordedRequest"]


def __getattr__(name: str) -> Any:
    # Lazy, so `python -m extractor.testing.fake_server` does not import the module twice.
    if name in __all__:
        from extractor.testing import fake_server

        return getattr(fake_server, name)
    raise AttributeError(name)
