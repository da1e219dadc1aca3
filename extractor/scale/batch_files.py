"""The files of a Batch API job: requests, the document manifest beside them, and results.

`requests.jsonl` is exactly the OpenAI Batch API input format (one line per model call:
`custom_id`, `method`, `url`, `body`), so it can be uploaded as is or run by `vllm run-batch`.
The custom_id is the call's response-cache key. Nothing else may go in that file, so what
ingest needs besides the answers (the configuration that fixes every cache key, and which
documents the calls belong to) is written to `<requests>.documents.jsonl`: a header line,
then one line per document. Results are read into a temporary disk-backed table, so ingest
holds neither the results nor the corpus in memory.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from extractor.config import ExtractorConfig
from extractor.errors import ConfigError, InputError, first_line
from extractor.secrets import redact_url

#: format of the documents manifest (its header's `extractor_batch`)
MANIFEST_VERSION = 1
CHAT_URL = "/v1/chat/completions"
#: configuration fields that depend on this machine, not on the requests' content
_LOCAL_FIELDS = ("api_key", "cache", "cache_dir", "replay")


def manifest_path(requests: Path) -> Path:
    """Where the document manifest of a requests file lives."""
    return requests.with_name(requests.name.removesuffix(".jsonl") + ".documents.jsonl")


def request_line(custom_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """One Batch API input line."""
    return {"custom_id": custom_id, "method": "POST", "url": CHAT_URL, "body": body}


def manifest_header(config: ExtractorConfig, backend: str, prompt: str) -> dict[str, Any]:
    """The manifest's first line: the configuration that fixes every cache key (no secrets)."""
    fields = {k: v for k, v in dataclasses.asdict(config).items() if k not in _LOCAL_FIELDS}
    fields["base_url"] = redact_url(config.base_url) if config.base_url else None
    fields["passes"] = list(config.passes or ())
    return {"extractor_batch": MANIFEST_VERSION, "backend": backend, "prompt": prompt, "config": fields}


def read_manifest(path: Path) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """The manifest's header and an iterator over its document lines."""
    if not path.is_file():
        raise InputError(f"{path}: no document manifest (written by `extractor batch prepare` beside its requests file)")
    handle = path.open(encoding="utf-8")
    try:
        header = json.loads(handle.readline() or "null")
    except ValueError as exc:
        handle.close()
        raise InputError(f"{path}: line 1 is not JSON ({first_line(exc)})") from None
    if not isinstance(header, dict) or header.get("extractor_batch") != MANIFEST_VERSION:
        handle.close()
        raise InputError(f"{path}: not a batch manifest of this version (line 1 has no extractor_batch: {MANIFEST_VERSION})")

    def documents() -> Iterator[dict[str, Any]]:
        with handle:
            for number, line in enumerate(handle, start=2):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    raise InputError(f"{path}: line {number} is not JSON") from None
                if not isinstance(record, dict) or not isinstance(record.get("source"), str):
                    raise InputError(f"{path}: line {number} is not a document line (no source)")
                yield record

    return header, documents()


def config_of(header: dict[str, Any], **local: Any) -> ExtractorConfig:
    """The ExtractorConfig a manifest was prepared with, plus this machine's `local` fields."""
    fields = dict(header.get("config") or {})
    fields["passes"] = tuple(fields.get("passes") or ()) or None
    try:
        return ExtractorConfig(**fields, **local)
    except (TypeError, ConfigError) as exc:
        raise InputError(f"the batch manifest's configuration is not usable here: {first_line(exc)}") from None


def result_answer(line: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str | None]:
    """(custom_id, the chat completion, None) or (custom_id, None, the error) of one result line."""
    custom_id = line.get("custom_id")
    if not isinstance(custom_id, str):
        raise ValueError("no custom_id")
    response = line.get("response") if isinstance(line.get("response"), dict) else None
    error = line.get("error")
    if response is not None and response.get("status_code") == 200 and isinstance(response.get("body"), dict):
        return custom_id, response["body"], None
    if response is not None and isinstance(response.get("body"), dict) and response["body"].get("error"):
        error = response["body"]["error"]
    if isinstance(error, dict):
        error = error.get("message") or error.get("code") or json.dumps(error)[:200]
    status = f"HTTP {response.get('status_code')}: " if response is not None else ""
    return custom_id, None, f"batch result {status}{error or 'no completion'}"


def is_requests_file(path: Path) -> bool:
    """True when `path` starts like a requests file this tool wrote (safe to replace)."""
    try:
        with path.open("rb") as handle:
            return handle.read(14) == b'{"custom_id": '
    except OSError:
        return False
