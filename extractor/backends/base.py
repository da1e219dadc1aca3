"""What every backend offers the pipeline: one structured call, an identity, and capabilities.

Stages import this module only (through `extractor.backends`); concrete backends are created
by `extractor.backends.factory.create_backend` and live in `remote/` and `local/`. A backend
reports failure as `extractor.errors.BackendError` with a `kind`, so the pipeline never sees
instructor's, openai's or llama.cpp's exception types.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from extractor.errors import ConfigError
from extractor.schemas import Usage


@dataclass
class GenerationParams:
    """Decoding parameters sent with every call (part of each cache key)."""

    temperature: float = 0.0
    seed: int = 1234
    max_tokens: int = 1024

    def as_dict(self) -> dict[str, Any]:
        """The parameters as the request (and the cache key) carries them."""
        return {"temperature": self.temperature, "seed": self.seed, "max_tokens": self.max_tokens}


@dataclass(frozen=True)
class Capabilities:
    """How the pipeline should schedule calls on a backend.

    `prefix_reuse`: the backend keeps the evaluated prompt between calls (llama.cpp in
    process), so a document's passes run one after another in chunk order, and one document
    at a time, to share the article prefix. `max_concurrency`: the default number of calls in
    flight (HTTP servers take many; one in-process model runs one at a time).
    """

    prefix_reuse: bool = False
    max_concurrency: int = 8


@dataclass
class CallResult:
    """A validated answer with what it cost."""

    parsed: BaseModel
    usage: Usage = field(default_factory=Usage)
    reasks: int = 0
    transport_retries: int = 0


class Backend(ABC):
    """A configured model endpoint that returns validated structured answers."""

    #: provider name: local, openai, ollama, vllm, llamacpp, compatible
    provider: str
    #: model name as the provider knows it
    model: str
    #: instructor mode name actually used
    mode: str
    capabilities: Capabilities = Capabilities()
    #: tokens the model can attend to (prompt + completion)
    context_window: int = 8192

    def __init__(self, params: GenerationParams | None = None, max_reasks: int = 1):
        self.params = params or GenerationParams()
        self.max_reasks = max_reasks

    @property
    @abstractmethod
    def identity(self) -> str:
        """Stable id of the model behind this backend (no secrets): part of cache keys."""

    @property
    def label(self) -> str:
        """provider/model, for people."""
        return f"{self.provider}/{self.model}"

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` for this model (an estimate where the tokenizer is remote)."""
        return max(1, (len(text) + 3) // 4)

    @abstractmethod
    async def complete(self, response_model: type[BaseModel], messages: list[dict[str, str]]) -> CallResult:
        """One structured call (with re-asks); raise `BackendError` when it fails for good."""

    def request_body(self, response_model: type[BaseModel], messages: list[dict[str, str]]) -> dict[str, Any]:
        """The JSON body `complete` would POST for this call (an OpenAI Batch API request)."""
        raise ConfigError(f"{self.label} cannot take part in a Batch API job: use an OpenAI-compatible model (openai/..., vllm/..., --base-url)")

    def parse_completion(self, response_model: type[BaseModel], completion: dict[str, Any]) -> CallResult:
        """Validate a chat completion that arrived out of band (a Batch API result) as
        `complete` validates a live reply; raise `BackendError` when it does not hold."""
        raise ConfigError(f"{self.label} cannot take part in a Batch API job")

    async def aclose(self) -> None:  # pragma: no cover - overridden where needed
        """Release connections or other resources."""
        return None
