"""The instructor call every backend shares: re-asks, usage and failure kinds.

Concrete backends only supply `_create()` (an instructor-patched async create function);
`InstructorBackend.complete` makes the call, counts usage through instructor's hooks, and
turns every failure into one `BackendError` whose `kind` the pipeline can act on. Transport
retries happen below instructor (tenacity, in `remote/`) and are counted per call in a
ContextVar, because a document's passes run concurrently on one backend.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any

import instructor
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from instructor.core.exceptions import ValidationError as InstructorValidationError
from instructor.core.hooks import Hooks
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from extractor.backends.base import Backend, CallResult
from extractor.errors import BackendError, BadReply, first_line
from extractor.schemas import Usage

#: longest error text kept from a provider's message
MESSAGE_LIMIT = 300


@dataclass
class CallTransport:
    """HTTP requests and transport retries of one `complete` call."""

    requests: int = 0
    retries: int = 0


_CALL: contextvars.ContextVar[CallTransport | None] = contextvars.ContextVar("extractor_call_transport", default=None)


def current_call() -> CallTransport | None:
    """The transport counters of the call running in this task (None outside a call)."""
    return _CALL.get()


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
    schema generation never hits and every call rebuilds the JSON schema
    (benchmarks/overhead_http.py measures it). A pre-wrapped model is used as is.
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


def _failure(exc: BaseException, counters: _CallCounters, *, parsing: bool = False) -> BackendError:
    """One BackendError for whatever instructor (or the transport below it) raised.
    `parsing`: the exception came from parsing a reply directly (no re-ask wrapper)."""
    cause = exc.__cause__ or exc if isinstance(exc, InstructorRetryException) else exc
    if (parsing or isinstance(exc, InstructorRetryException)) and isinstance(
        cause, (PydanticValidationError, json.JSONDecodeError, InstructorValidationError)
    ):
        message = f"invalid output after {counters.responses} attempt(s): {first_line(cause, MESSAGE_LIMIT)}"
        kind = "invalid_output"
    else:
        message = f"{type(cause).__name__}: {first_line(cause, MESSAGE_LIMIT)}"
        kind = "truncated" if isinstance(cause, IncompleteOutputException) else "other"
        if isinstance(cause, TimeoutError):
            kind = "timeout"
        elif isinstance(cause, BadReply):
            kind = "transport"  # no usable reply arrived
            message = first_line(cause, MESSAGE_LIMIT)
    error = BackendError(
        message, kind=kind, attempts=counters.responses, usage=counters.usage, partial=counters.last_text
    )
    error.__cause__ = cause
    return error


class InstructorBackend(Backend):
    """A backend whose calls go through an instructor-patched create function."""

    @abstractmethod
    async def _create(self) -> Any:
        """Return the instructor-patched async create function."""

    def request_params(self) -> dict[str, Any]:
        """Keyword arguments of every request besides the messages and the schema."""
        return {"model": self.model, **self.params.as_dict()}

    #: the instructor mode of this backend's calls
    instructor_mode: instructor.Mode = instructor.Mode.TOOLS

    def parse_completion(self, response_model: type[BaseModel], completion: dict[str, Any]) -> CallResult:
        """Validate a chat completion that arrived out of band (a Batch API result) with
        instructor's own response processing, the schema model and mode of a live call, and
        the same failure kinds; there is no re-ask (the request already ran)."""
        from instructor.processing import process_response
        from openai.types.chat import ChatCompletion

        counters = _CallCounters()
        try:
            response = ChatCompletion.model_validate(completion)
        except PydanticValidationError as exc:
            raise BackendError(f"not a chat completion: {first_line(exc, MESSAGE_LIMIT)}", kind="transport") from exc
        self.mark_cut_off(response)
        counters._on_response(response)
        try:
            parsed = process_response(
                response, response_model=schema_model(response_model), stream=False, mode=self.instructor_mode
            )
        except Exception as exc:  # noqa: BLE001 - every parse failure becomes one BackendError
            error = _failure(exc, counters, parsing=True)
            error.attempts = 1
            raise error from error.__cause__
        return CallResult(parsed=parsed, usage=counters.usage)

    def mark_cut_off(self, response: Any) -> None:
        """Mark a reply that used all of max_tokens as cut off (finish_reason "length"):
        some servers report a forced tool call that stopped there as complete."""
        usage = getattr(response, "usage", None)
        choices = getattr(response, "choices", None) or []
        if usage is not None and choices and (usage.completion_tokens or 0) >= self.params.max_tokens:
            choices[0].finish_reason = "length"

    @property
    def call_deadline(self) -> float | None:
        """Upper bound in seconds for one whole call, re-asks and retries included (None: none)."""
        return None

    def scrub(self, text: str) -> str:
        """Remove this backend's secrets from an error message or answer text."""
        return text

    async def complete(self, response_model: type[BaseModel], messages: list[dict[str, str]]) -> CallResult:
        """One structured call with instructor re-asks; transport retries happen below it."""
        create = await self._create()
        counters = _CallCounters()
        call = CallTransport()
        token = _CALL.set(call)
        deadline = self.call_deadline
        try:
            # asyncio.timeout, not wait_for: no extra task per call, and on Python 3.11 wait_for
            # can swallow a cancellation that races with the result.
            async with asyncio.timeout(deadline):
                try:
                    parsed = await create(
                        response_model=schema_model(response_model),
                        messages=messages,
                        max_retries=self.max_reasks,
                        hooks=counters.hooks(),
                        **self.request_params(),
                    )
                except Exception as exc:  # validation after re-asks, IncompleteOutput, transport after retries
                    error = _failure(exc, counters)
                    # No answer arrived (a transport failure): count the HTTP requests made, so
                    # an error record never says 0 attempts.
                    error.attempts = error.attempts or call.requests
                    # Some servers echo the key in error bodies ("Incorrect API key provided: sk-...").
                    error.args = (self.scrub(str(error)),)
                    error.partial = self.scrub(error.partial) if error.partial else error.partial
                    raise error from error.__cause__
        except TimeoutError as exc:  # the whole-call deadline (a BackendError is no TimeoutError)
            raise BackendError(
                f"no result within {deadline:g} s (retries and re-asks included)", kind="timeout", attempts=call.requests
            ) from exc
        finally:
            _CALL.reset(token)
        return CallResult(
            parsed=parsed, usage=counters.usage, reasks=counters.parse_errors, transport_retries=call.retries
        )
