"""Every error the extractor raises on purpose, under one base class.

Callers catch `ExtractorError` for "the extractor refused or failed, with a message meant for a
person"; anything else is a bug. The classes keep the built-in bases they had before (a
`ConfigError` is still a `ValueError`) so code that caught those goes on working. The CLI maps
them to exit codes: `ConfigError` (and its subclasses) and `CacheError` on a cache command are
usage errors (2); a failed document is 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from extractor.schemas import Usage


class ExtractorError(Exception):
    """Base class of every error the extractor raises deliberately."""


class ConfigError(ExtractorError, ValueError):
    """A usage problem (bad --model string, missing API key, bad option value)."""


class ModelNotAvailable(ConfigError):
    """The embedded model's packages are missing or incomplete."""


class InputError(ExtractorError, ValueError):
    """A document that cannot be read; the message names the file and the problem."""


class OutputBusy(ExtractorError):
    """Another process holds the lock on this output file."""


class OutputError(ExtractorError):
    """The output cannot be written (disk full, device gone): the run stops there, and every
    line written before stays (a torn last line is cut off by the next run)."""


class CacheError(ExtractorError):
    """The response cache cannot be opened, or a cache export file is malformed."""


class GoldError(ExtractorError, ValueError):
    """A gold.json that cannot be read or does not follow the eval-set contract."""


BackendErrorKind = Literal["transport", "timeout", "invalid_output", "truncated", "other"]


class BackendError(ExtractorError):
    """A model call that failed after transport retries and re-asks.

    `kind` says why, so the pipeline never has to inspect a provider's exception types:
    "truncated" (the answer hit max_tokens), "invalid_output" (it never validated),
    "transport" / "timeout" (no usable reply) or "other". `partial` is the last raw answer
    text the model produced, if any (a truncated or invalid answer can still be salvaged).
    """

    def __init__(
        self,
        message: str,
        *,
        kind: BackendErrorKind = "other",
        attempts: int = 0,
        usage: Usage | None = None,
        partial: str | None = None,
    ):
        super().__init__(message)
        from extractor.schemas import Usage as _Usage

        self.kind: BackendErrorKind = kind
        self.attempts = attempts
        self.usage = usage or _Usage()
        self.partial = partial


class BadReply(ExtractorError):
    """A server's 200 reply that is not a chat completion: an error object instead of
    `choices`, an empty `choices` list, or a body that is not JSON (a proxy's error page)."""


class AttemptTimeout(ExtractorError, TimeoutError):
    """One HTTP request got no complete reply within the per-attempt deadline."""


class ExtractionError(ExtractorError, RuntimeError):
    """A document could not be extracted (a pass failed after retries and re-asks)."""

    def __init__(self, message: str, *, attempts: int = 0):
        super().__init__(message)
        self.attempts = attempts


def first_line(exc: BaseException, limit: int | None = None) -> str:
    """The first line of an exception's message (its class name when the message is empty)."""
    text = str(exc).strip() or type(exc).__name__
    line = text.splitlines()[0]
    return line[:limit] if limit else line


def root_cause(exc: BaseException) -> BaseException:
    """The innermost `__cause__` of an exception chain (cycles are cut)."""
    seen = set()
    while exc.__cause__ is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc = exc.__cause__
    return exc
