"""Calls answered later: the pipeline's side of the OpenAI Batch API.

A batch job splits a document's extraction in time: first every model call is written down
as a request, hours later the answers come back in a file. Rather than a second pipeline,
the ordinary one runs twice with an answer book instead of a live model. A cache miss
whose answer is not in the book becomes a `PendingCall` (the request to write), and one that
is in the book is validated by the backend exactly as a live reply would be, then cached. A
document with pending calls raises `CallsPending` instead of being assembled; a document
whose calls are all answered assembles as it would online. Pipelines whose later calls
depend on earlier answers therefore run in rounds without any special case: each ingest
leaves the next round's calls pending.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PendingCall:
    """A model call that no cache entry and no answer holds yet."""

    #: the response-cache key of the call: also the request's custom_id
    key: str
    pass_name: str
    chunk: int
    messages: list[dict[str, str]]
    answer_model: type


class CallsPending(Exception):
    """A document's extraction needs these calls answered first."""

    def __init__(self, calls: list[PendingCall]):
        super().__init__(f"{len(calls)} model call(s) not answered yet")
        self.calls = calls


@dataclass
class AnswerBook:
    """Completions by custom_id (the results file of a batch job), and what went wrong with each.

    `failed` collects the ids whose answer did not validate (after the same salvage as a live
    call), so the caller can write them to a retry file.
    """

    #: custom_id -> the chat completion (a dict, as the results file holds it); any mapping
    #: (ingest keeps a large results file on disk)
    completions: MutableMapping[str, Any] = field(default_factory=dict)
    #: custom_id -> the error the batch service reported instead of a completion
    errors: dict[str, str] = field(default_factory=dict)
    #: custom_id -> one-line reason its answer was refused (filled while documents run)
    failed: dict[str, str] = field(default_factory=dict)

    def __contains__(self, key: str) -> bool:
        return key in self.completions or key in self.errors
