"""What every backend offers the pipeline, and the instructor call they share.

Stages import this module only; concrete backends (llama.cpp in-process, OpenAI and
OpenAI-compatible servers) are created by `extractor.backends.create_backend`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import instructor
from instructor.core.exceptions import InstructorRetryException, ValidationError as InstructorValidationError
from instructor.core.hooks import Hooks
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from extractor.schemas import Usage


class ConfigError(ValueError):
    """A usage problem (bad --model string, missing API key, bad option): exit code 2."""


class BackendError(RuntimeError):
    """A model call that failed after retries and re-asks."""

    def __init__(self, message: str, *, attempts: int = 0, usage: Usage | None = None, last_output: str | None = None):
        super().__init__(message)
        self.attempts = attempts
        self.usage = usage or Usage()
        self.last_output = last_output


@dataclass
class GenerationParams:
    temperature: float = 0.0
    seed: int = 1234
    max_tokens: int = 1024

    def as_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "seed": self.seed, "max_tokens": self.max_tokens}


@dataclass
class CallResult:
    parsed: BaseModel
    usage: Usage = field(default_factory=Usage)
    reasks: int = 0
    transport_retries: int = 0


@dataclass
class _CallCounters:
    usage: Usage = field(default_factory=Usage)
    parse_errors: int = 0
    responses: int = 0
    last_text: str | None = None

    def hooks(self) -> Hooks:
        hooks = Hooks()
        hooks.on("completion:response", self._on_response)
        hooks.on("parse:error", self._on_parse_error)
        return hooks

    def _on_response(self, response: Any, **_: Any) -> None:
        self.responses += 1
        usage = getattr(response, "usage", None)
        if usage is not None:
            self.usage.add(
                Usage(
                    prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                    completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                )
            )
        self.last_text = response_text(response)

    def _on_parse_error(self, error: Exception, **_: Any) -> None:
        self.parse_errors += 1


_SCHEMA_MODELS: dict[type[BaseModel], type[BaseModel]] = {}


def schema_model(response_model: type[BaseModel]) -> type[BaseModel]:
    """`response_model` wrapped once in instructor's ResponseSchema, then reused.

    instructor 1.17 wraps a plain model in a *new* class on every call, so its lru-cached
    schema generation never hits and every call rebuilds the JSON schema (measured ~4 ms of
    client CPU per call, benchmarks/overhead_http.py). A pre-wrapped model is used as is.
    The wrapper subclasses the model: parsed answers keep its fields, validators and methods.
    """
    wrapped = _SCHEMA_MODELS.get(response_model)
    if wrapped is None:
        wrapped = _SCHEMA_MODELS[response_model] = instructor.openai_schema(response_model)
    return wrapped


def response_text(response: Any) -> str | None:
    """The JSON text of a chat completion: tool-call arguments or message content."""
    try:
        message = response.choices[0].message
    except (AttributeError, IndexError, TypeError):
        return None
    tool_calls = getattr(message, "tool_calls", None)
    if tool_calls:
        return tool_calls[0].function.arguments
    return getattr(message, "content", None)


class Backend(ABC):
    """A configured model endpoint that returns validated instructor responses."""

    #: provider name: local, openai, ollama, vllm, llamacpp, compatible
    provider: str
    #: model name as the provider knows it
    model: str
    #: instructor mode name actually used
    mode: str
    #: default number of concurrent documents for batch runs
    default_concurrency: int = 1
    #: tokens the model can attend to (prompt + completion)
    context_window: int = 8192

    def __init__(self, params: GenerationParams | None = None, max_reasks: int = 1):
        self.params = params or GenerationParams()
        self.max_reasks = max_reasks
        self.transport_retries = 0

    @property
    @abstractmethod
    def identity(self) -> str:
        """Stable id of the model behind this backend (no secrets): part of cache keys."""

    @property
    def label(self) -> str:
        return f"{self.provider}/{self.model}"

    def count_tokens(self, text: str) -> int:
        return max(1, (len(text) + 3) // 4)

    @abstractmethod
    async def _create(self) -> Any:
        """Return the instructor-patched async create function."""

    async def complete(self, response_model: type[BaseModel], messages: list[dict[str, str]]) -> CallResult:
        """One structured call with instructor re-asks; transport retries happen below it."""
        create = await self._create()
        counters = _CallCounters()
        retries_before = self.transport_retries
        try:
            parsed = await create(
                response_model=schema_model(response_model),
                messages=messages,
                max_retries=self.max_reasks,
                hooks=counters.hooks(),
                **self.request_params(),
            )
        except InstructorRetryException as exc:
            cause = exc.__cause__ or exc
            if isinstance(cause, (PydanticValidationError, json.JSONDecodeError, InstructorValidationError)):
                message = f"invalid output after {counters.responses} attempt(s): {_first_line(cause)}"
            else:
                message = f"{type(cause).__name__}: {_first_line(cause)}"
            raise BackendError(
                message, attempts=counters.responses, usage=counters.usage, last_output=counters.last_text
            ) from cause
        except Exception as exc:  # IncompleteOutputException, token budget, transport after retries
            raise BackendError(
                f"{type(exc).__name__}: {_first_line(exc)}",
                attempts=counters.responses,
                usage=counters.usage,
                last_output=counters.last_text,
            ) from exc
        return CallResult(
            parsed=parsed,
            usage=counters.usage,
            reasks=counters.parse_errors,
            transport_retries=self.transport_retries - retries_before,
        )

    def request_params(self) -> dict[str, Any]:
        return {"model": self.model, **self.params.as_dict()}

    async def aclose(self) -> None:  # pragma: no cover - overridden where needed
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
