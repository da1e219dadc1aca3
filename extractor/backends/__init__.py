"""Backends: the protocol the pipeline sees (`base`), the instructor plumbing every backend
shares (`instructor_calls`), the factory that reads a --model string (`factory`), and the
concrete backends at the edge: `remote/` (OpenAI-compatible HTTP) and `local/` (llama.cpp
in process). Stages import this package only; they never import `remote` or `local`.
"""

from extractor.backends.base import Backend, CallResult, Capabilities, GenerationParams
from extractor.backends.factory import BackendSpec, create_backend, parse_model
from extractor.errors import BackendError, ConfigError

__all__ = [
    "Backend",
    "BackendError",
    "BackendSpec",
    "CallResult",
    "Capabilities",
    "ConfigError",
    "GenerationParams",
    "create_backend",
    "parse_model",
]
