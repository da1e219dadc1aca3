"""A size bound on every reply body from an HTTP model server.

A chat completion is kilobytes; a server that answers with hundreds of megabytes (broken, or
hostile) would otherwise be read whole into memory, then parsed. The bound is applied while
the body streams in, so memory stays bounded whatever the server sends, and a reply over it
is a `BadReply`: retried like any unusable 200, then one clear line.
"""

from __future__ import annotations

from typing import Any

try:  # openai >= 3 speaks httpx2, openai 2.x httpx: the transport must be the client's own
    import httpx2 as httpx
except ImportError:  # pragma: no cover - openai 2.x
    import httpx  # type: ignore[no-redef]

from extractor.errors import BadReply

#: bytes of one reply body; a completion of the longest answer we allow is far below it
MAX_REPLY_BYTES = 8 * 1024 * 1024


def _too_large(limit: int) -> BadReply:
    return BadReply(f"the server's reply is over {limit:,} bytes; refused")


class _BoundedStream(httpx.AsyncByteStream):
    def __init__(self, inner: Any, limit: int):
        self._inner = inner
        self._limit = limit

    async def __aiter__(self):
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                raise _too_large(self._limit)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class BoundedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, with every response body cut off (as a BadReply) past `limit` bytes."""

    def __init__(self, limit: int = MAX_REPLY_BYTES, **kwargs: Any):
        super().__init__(**kwargs)
        self.limit = limit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request; refuse a declared length over the limit, bound the rest as it streams."""
        response = await super().handle_async_request(request)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await response.aclose()
            raise _too_large(self.limit)
        response.stream = _BoundedStream(response.stream, self.limit)
        return response
