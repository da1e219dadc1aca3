"""Transport retries (tenacity) for HTTP backends.

Retried: timeouts, connection errors (resets included), 408/409/429 and 5xx answers, and a
200 that is not a completion (`BadReply`: an error body, no choices, an HTML page).
Waits grow exponentially with jitter; a `Retry-After` header (seconds or HTTP date) is
honoured up to `max_wait`. Attempts and the total time are both bounded (no retry starts
when its wait would end past `total_seconds`), and every attempt has its own deadline
(`attempt_timeout`, enforced with asyncio.timeout around the whole request, body
included) so a reply that never ends, or trickles bytes forever, cannot hang the run.
Validation problems are not retried here: instructor re-asks the model for those.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    stop_before_delay,
    wait_exponential_jitter,
)

from extractor.errors import AttemptTimeout, BadReply

#: HTTP statuses worth another attempt
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of the transport retries of one request."""

    attempts: int = 4
    total_seconds: float = 120.0
    attempt_timeout: float = 120.0
    initial_wait: float = 0.5
    max_wait: float = 20.0


def is_transient(exc: BaseException) -> bool:
    """True for the failures another attempt may cure (timeouts, resets, 408/409/429/5xx,
    a 200 that is not a completion)."""
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, asyncio.TimeoutError, TimeoutError, BadReply)):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRY_STATUS
    return False


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """The wait a server asked for (Retry-After, retry-after-ms), in seconds, if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # unparsable ("soon-ish"): as if absent
        return None
    return max(0.0, parsed.timestamp() - time.time())


class _Wait:
    def __init__(self, policy: RetryPolicy):
        self.policy = policy
        self.backoff = wait_exponential_jitter(initial=policy.initial_wait, max=policy.max_wait, jitter=policy.initial_wait)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = retry_after_seconds(exc)
        if hinted is not None:
            return min(hinted, self.policy.max_wait)
        return self.backoff(state)


def with_retries(
    create: Callable[..., Awaitable[Any]],
    policy: RetryPolicy,
    on_retry: Callable[[BaseException], None] | None = None,
    on_attempt: Callable[[], None] | None = None,
) -> Callable[..., Awaitable[Any]]:
    """Wrap an async `create(**kwargs)` with bounded, jittered transport retries.

    `on_retry(exc)` runs before each retry's wait; `on_attempt()` before every request.
    """

    def _before_sleep(state: RetryCallState) -> None:
        if on_retry and state.outcome is not None:
            on_retry(state.outcome.exception())

    async def create_with_retries(*args: Any, **kwargs: Any) -> Any:
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient),
            stop=(
                stop_after_attempt(max(1, policy.attempts))
                | stop_after_delay(policy.total_seconds)
                | stop_before_delay(policy.total_seconds)
            ),
            wait=_Wait(policy),
            before_sleep=_before_sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if on_attempt:
                    on_attempt()
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
                # that races with the reply (Ctrl-C was then ignored and the batch ran on).
                try:
                    async with asyncio.timeout(policy.attempt_timeout):
                        return await create(*args, **kwargs)
                except TimeoutError:
                    raise AttemptTimeout(f"no complete reply within {policy.attempt_timeout:g} s (--timeout)") from None
        raise AssertionError("unreachable")  # pragma: no cover

    return create_with_retries
