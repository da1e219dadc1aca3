"""`batch submit | status | fetch`: a requests file through the Batch API of an OpenAI endpoint.

Thin on purpose: the openai SDK's files and batches endpoints do the work; this module only
picks the endpoint and key the way the online backend does (OPENAI_API_KEY for OpenAI itself,
EXTRACTOR_API_KEY or --api-key for any other server, so one provider's key never reaches
another) and turns SDK errors into one line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import openai

from extractor.errors import ConfigError, ExtractorError, first_line
from extractor.scale.batch_files import CHAT_URL

OPENAI_BASE_URL = "https://api.openai.com/v1"


class BatchServiceError(ExtractorError):
    """The Batch API endpoint refused or failed a request."""


@dataclass
class BatchState:
    """What `status` shows of a batch."""

    id: str
    status: str
    total: int
    completed: int
    failed: int
    output_file_id: str | None
    error_file_id: str | None


def client(base_url: str | None, api_key: str | None) -> openai.OpenAI:
    """A synchronous client for OpenAI (no base URL) or another server's /v1 URL."""
    if base_url:
        key = api_key or os.environ.get("EXTRACTOR_API_KEY") or "not-needed"
    else:
        base_url = os.environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            raise ConfigError("the OpenAI Batch API needs an API key: set OPENAI_API_KEY (or pass --base-url)")
    return openai.OpenAI(base_url=base_url, api_key=key, max_retries=2)


def _calling(what: str):
    def wrap(function):
        def call(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except openai.OpenAIError as exc:
                raise BatchServiceError(f"{what}: {type(exc).__name__}: {first_line(exc, 200)}") from exc

        return call

    return wrap


@_calling("submit")
def submit(api: openai.OpenAI, requests: Path, *, window: str = "24h") -> str:
    """Upload the requests file and create a batch over it; the batch id."""
    with requests.open("rb") as handle:
        uploaded = api.files.create(file=handle, purpose="batch")
    job = api.batches.create(input_file_id=uploaded.id, endpoint=CHAT_URL, completion_window=window)
    return job.id


@_calling("status")
def status(api: openai.OpenAI, batch_id: str) -> BatchState:
    """The batch's state and request counts."""
    job = api.batches.retrieve(batch_id)
    counts = job.request_counts
    return BatchState(job.id, job.status, getattr(counts, "total", 0) or 0, getattr(counts, "completed", 0) or 0,
                      getattr(counts, "failed", 0) or 0, job.output_file_id, job.error_file_id)  # fmt: skip


@_calling("fetch")
def fetch(api: openai.OpenAI, batch_id: str, target: Path) -> int:
    """Write the batch's results (answers, then the error file's lines) to `target`; lines written."""
    job = api.batches.retrieve(batch_id)
    if job.status != "completed" and not job.output_file_id:
        raise BatchServiceError(f"fetch: batch {batch_id} is {job.status}; nothing to fetch yet")
    lines = 0
    partial = target.with_name(target.name + ".part")
    with partial.open("wb") as out:
        for file_id in (job.output_file_id, job.error_file_id):
            if file_id:
                content = api.files.content(file_id).content
                if content and not content.endswith(b"\n"):
                    content += b"\n"
                out.write(content)
                lines += content.count(b"\n")
    partial.replace(target)
    return lines
