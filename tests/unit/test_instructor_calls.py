"""The instructor plumbing every backend shares: per-call transport retry counts and failure kinds.

The retry count used to be the difference of one backend-wide counter before and after a call,
which is wrong as soon as two calls overlap (a document's passes run concurrently): each call
was charged the other's retries. It is now counted per call, in the call's own context.
"""

from __future__ import annotations

import asyncio
from typing import Any

from extractor.backends.base import GenerationParams
from extractor.backends.instructor_calls import InstructorBackend, current_call
from extractor.errors import BackendError
from extractor.llm.drafts import ActorsAnswer


class _Scripted(InstructorBackend):
    """Each call "retries" as often as its first message says, sleeping between attempts so
    concurrent calls interleave, then answers with an empty actor list."""

    provider, model, mode = "fake", "scripted", "json"

    def __init__(self, fail_with: BaseException | None = None):
        super().__init__(GenerationParams(), max_reasks=0)
        self.fail_with = fail_with

    @property
    def identity(self) -> str:
        return "fake:scripted"

    async def _create(self) -> Any:
        async def create(*, response_model, messages, **_: Any):
            for _ in range(int(messages[0]["content"])):
                await asyncio.sleep(0.01)
                current_call().retries += 1
                current_call().requests += 1
            await asyncio.sleep(0.01)
            if self.fail_with is not None:
                raise self.fail_with
            return response_model(actors=[])

        return create


def test_concurrent_calls_each_report_their_own_transport_retries() -> None:
    backend = _Scripted()

    async def both():
        return await asyncio.gather(
            backend.complete(ActorsAnswer, [{"role": "user", "content": "3"}]),
            backend.complete(ActorsAnswer, [{"role": "user", "content": "0"}]),
            backend.complete(ActorsAnswer, [{"role": "user", "content": "1"}]),
        )

    results = asyncio.run(both())
    assert [r.transport_retries for r in results] == [3, 0, 1]
    assert current_call() is None  # the counter never leaks out of a call


def test_a_transport_failure_is_a_backend_error_with_its_requests_as_attempts() -> None:
    backend = _Scripted(fail_with=ConnectionError("connection reset by peer"))
    try:
        asyncio.run(backend.complete(ActorsAnswer, [{"role": "user", "content": "2"}]))
    except BackendError as exc:
        assert exc.attempts == 2  # no answer arrived: the HTTP requests made
        assert exc.kind == "other" and exc.partial is None
        assert "ConnectionError: connection reset by peer" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected a BackendError")


def test_a_timeout_is_a_backend_error_of_kind_timeout() -> None:
    backend = _Scripted(fail_with=TimeoutError("no complete reply"))
    try:
        asyncio.run(backend.complete(ActorsAnswer, [{"role": "user", "content": "0"}]))
    except BackendError as exc:
        assert exc.kind == "timeout"
    else:  # pragma: no cover
        raise AssertionError("expected a BackendError")
