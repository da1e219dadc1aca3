"""OpenAI and OpenAI-compatible servers (vLLM, Ollama, `python -m llama_cpp.server`)."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import instructor
import openai
from openai._constants import DEFAULT_CONNECTION_LIMITS
from pydantic import BaseModel

from extractor.backends.base import Capabilities, GenerationParams
from extractor.backends.instructor_calls import InstructorBackend, current_call, schema_model
from extractor.backends.remote.bounded import BoundedTransport
from extractor.backends.remote.retry import RetryPolicy, with_retries
from extractor.errors import BadReply, ConfigError
from extractor.secrets import redact, redact_url

OPENAI_BASE_URL = "https://api.openai.com/v1"
OLLAMA_BASE_URL = "http://localhost:11434/v1"

# The instructor mode that actually constrains each server kind:
# - OpenAI: TOOLS (forced function call, schema-checked server side).
# - llama_cpp.server: TOOLS (a forced tool call is decoded under a grammar built from the
#   schema; the server rejects response_format=json_schema).
# - vLLM: TOOLS (named tool choice uses guided decoding).
# - Ollama: JSON (format=json; tool calling depends on the model).
DEFAULT_MODES = {
    "openai": instructor.Mode.TOOLS,
    "llamacpp": instructor.Mode.TOOLS,
    "vllm": instructor.Mode.TOOLS,
    "compatible": instructor.Mode.TOOLS,
    "ollama": instructor.Mode.JSON,
}


def bad_reply(response: Any) -> str | None:
    """Why a 200 reply is not a usable chat completion (None: it is one)."""
    if isinstance(response, (str, bytes)):
        text = response.decode("utf-8", "replace") if isinstance(response, bytes) else response
        return f"the server's reply is not JSON: {' '.join(text.split())[:80]!r}"
    error = (getattr(response, "model_extra", None) or {}).get("error")
    if error is not None and not getattr(response, "choices", None):
        message = error.get("message") if isinstance(error, dict) else error
        return f"the server replied 200 with an error instead of a completion: {str(message)[:200]}"
    if not getattr(response, "choices", None):
        return "the server's reply has no choices"
    return None


def _checked(create: Any) -> Any:
    """Raise BadReply (retried like a 5xx: a proxy or an overloaded server sends these) for a
    200 that is not a completion, instead of letting instructor fail on it or re-ask it."""

    async def create_checked(*args: Any, **kwargs: Any) -> Any:
        try:
            response = await create(*args, **kwargs)
        except openai.APIConnectionError as exc:
            if isinstance(exc.__cause__, BadReply):  # the body bound (bounded.py), wrapped by openai
                raise exc.__cause__ from None
            raise
        problem = bad_reply(response)
        if problem:
            raise BadReply(problem)
        return response

    return create_checked


class OpenAIBackend(InstructorBackend):
    """OpenAI or any OpenAI-compatible chat-completions server, through instructor."""

    capabilities = Capabilities(prefix_reuse=False, max_concurrency=8)

    def __init__(
        self,
        provider: str,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        mode: instructor.Mode | None = None,
        params: GenerationParams | None = None,
        max_reasks: int = 2,
        retry: RetryPolicy | None = None,
        timeout: float = 120.0,
        context_window: int = 32768,
    ):
        super().__init__(params, max_reasks)
        self.provider = provider
        self.model = model
        if provider == "openai" and not base_url:
            base_url = os.environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL
            api_key = api_key or os.environ.get("OPENAI_API_KEY")
            if not api_key:
                raise ConfigError("openai/* models need an API key: set OPENAI_API_KEY (or pass --base-url for a local server)")
        if provider == "ollama" and not base_url:
            base_url = OLLAMA_BASE_URL
        if not base_url:
            raise ConfigError(f"{provider}/{model} needs --base-url (the server's OpenAI-compatible /v1 URL)")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"--base-url {redact_url(base_url)!r} is not an http(s) URL")
        try:
            parts.port
        except ValueError as exc:  # else it would surface later, from identity, as a bare ValueError
            raise ConfigError(f"--base-url {redact_url(base_url)!r} has a bad port: {exc}") from None
        self.base_url = base_url
        # OPENAI_API_KEY goes only to openai/* endpoints; other servers get --api-key or
        # EXTRACTOR_API_KEY, so an OpenAI key is never sent to a third-party server by accident.
        env_key = "OPENAI_API_KEY" if provider == "openai" else "EXTRACTOR_API_KEY"
        self._api_key = api_key or os.environ.get(env_key) or "not-needed"
        self._mode = mode or DEFAULT_MODES.get(provider, instructor.Mode.TOOLS)
        self.instructor_mode = self._mode
        self.mode = self._mode.name.lower()
        self.retry = retry or RetryPolicy(attempt_timeout=timeout)
        self.timeout = timeout
        self.context_window = context_window
        self._client: openai.AsyncOpenAI | None = None
        self._patched: Any = None

    @property
    def identity(self) -> str:
        # No key material: the endpoint (credentials stripped), the model and the mode.
        """provider:model@endpoint#mode, credentials stripped: part of cache keys."""
        return f"{self.provider}:{self.model}@{redact_url(self.base_url)}#{self.mode}"

    async def _create(self) -> Any:
        if self._patched is None:
            # openai's own retries are off: tenacity below owns transport retries.
            self._client = openai.AsyncOpenAI(
                api_key=self._api_key, base_url=self.base_url, timeout=self.timeout, max_retries=0,
                # openai's own pool limits: a custom transport does not inherit the client's
                http_client=openai.DefaultAsyncHttpxClient(
                    transport=BoundedTransport(limits=DEFAULT_CONNECTION_LIMITS), timeout=self.timeout
                ),
            )
            raw_create = with_retries(
                self._mark_cut_off(_checked(self._client.chat.completions.create)),
                self.retry,
                self._count_retry,
                self._count_request,
            )
            self._patched = instructor.patch(create=raw_create, mode=self._mode)
        return self._patched

    def _mark_cut_off(self, create: Any) -> Any:
        """llama_cpp.server reports finish_reason "tool_calls" even when a forced tool call
        stopped at max_tokens; mark such answers "length" so instructor fails them as
        incomplete instead of re-asking a truncated JSON at full cost."""

        async def create_marking_cut_off(*args: Any, **kwargs: Any) -> Any:
            response = await create(*args, **kwargs)
            self.mark_cut_off(response)
            return response

        return create_marking_cut_off

    def request_body(self, response_model: type[BaseModel], messages: list[dict[str, str]]) -> dict[str, Any]:
        """The body `complete` POSTs for this call, built by instructor's own request
        preparation (tools, tool_choice or response_format for this backend's mode)."""
        from instructor.processing import handle_response_model

        _, body = handle_response_model(
            schema_model(response_model), mode=self._mode, messages=messages, **self.request_params()
        )
        return body

    @staticmethod
    def _count_retry(_exc: BaseException) -> None:
        call = current_call()
        if call is not None:
            call.retries += 1

    @staticmethod
    def _count_request() -> None:
        call = current_call()
        if call is not None:
            call.requests += 1

    def scrub(self, text: str) -> str:
        """The key in use removed, whatever its shape."""
        return redact(text, extra=[self._api_key if self._api_key != "not-needed" else None])

    @property
    def call_deadline(self) -> float:
        """Upper bound for one structured call, re-asks included (each re-ask is a new
        request with its own transport retries, so the retry budget alone does not bound it)."""
        return self.retry.total_seconds * (self.max_reasks + 1)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.close()
            self._client = None
            self._patched = None
