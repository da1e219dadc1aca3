"""llama.cpp in-process (llama-cpp-python) with the embedded GGUF or any GGUF file.

instructor's JSON_SCHEMA mode sends `response_format={"type": "json_schema", ...}`, which
llama-cpp-python ignores in-process (no grammar, free text). The create shim below rewrites
it to `{"type": "json_object", "schema": ...}`, which llama-cpp-python turns into a grammar,
so decoding is constrained to the (flat) draft schema. Re-asks stay instructor's.
Every call also carries `loop_guard.LoopGuard`, which closes an answer's list when the model
starts repeating an item. Every prompt is evaluated in the same batches whatever the context
held before (`batching`), so an answer does not depend on the calls that preceded it, and the
system prompt's evaluated state is kept on disk across processes (`prefix_state`).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path
from typing import Any

import instructor

from extractor.backends.base import Capabilities, GenerationParams
from extractor.backends.instructor_calls import InstructorBackend
from extractor.backends.local import batching, loop_guard, prefix_state
from extractor.backends.local.model_store import (
    EMBEDDED_NAME,
    EMBEDDED_SHA256,
    cache_root,
    embedded_model_path,
    sha256_file,
)
from extractor.errors import ConfigError

_MODELS: dict[tuple[str, int, int], Any] = {}
_MODELS_LOCK = threading.Lock()
#: one lock per loaded model: backends sharing a `Llama` must not call it at the same time
_CALL_LOCKS: dict[int, threading.Lock] = {}


def _load_llama(path: Path, n_ctx: int, n_threads: int, seed: int) -> Any:
    """Load a GGUF once per process and share it (loading costs seconds and ~1.5 GB)."""
    key = (str(path), n_ctx, n_threads)
    with _MODELS_LOCK:
        if key not in _MODELS:
            try:
                llama_class = batching.canonical_llama_class()
            except ImportError as exc:  # pragma: no cover - dependency of the project
                raise ConfigError("llama-cpp-python is not installed; run: pip install -e .") from exc
            _MODELS[key] = llama_class(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_batch=512,
                seed=seed,
                verbose=False,
            )
            _CALL_LOCKS[id(_MODELS[key])] = threading.Lock()
        return _MODELS[key]


def _file_sha256(path: Path) -> str:
    """sha256 of a GGUF, remembered by path, size and mtime so it is hashed once."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    index_path = cache_root() / "models" / "hashes.json"
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError):
        index = {}
    if key not in index:
        index[key] = sha256_file(path)
        index_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = index_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(index, indent=1))
        os.replace(tmp, index_path)
    return index[key]


class LocalLlamaBackend(InstructorBackend):
    """A GGUF run in this process by llama.cpp, decoding under the draft schema's grammar."""

    provider = "local"
    mode = "json_schema"  # rewritten to llama.cpp json_object + schema by _raw_create
    instructor_mode = instructor.Mode.JSON_SCHEMA
    # One in-process model runs one call at a time and keeps the evaluated prompt between calls.
    capabilities = Capabilities(prefix_reuse=True, max_concurrency=1)

    def __init__(
        self,
        path: str | None = None,
        *,
        params: GenerationParams | None = None,
        max_reasks: int = 1,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        persist_prefix: bool = True,
    ):
        super().__init__(params, max_reasks)
        if path:
            gguf = Path(path).expanduser()
            if not gguf.is_file():
                raise ConfigError(f"local model file not found: {gguf}")
            self.model = gguf.name
        else:
            gguf = None
            self.model = EMBEDDED_NAME
        self._path = gguf
        self._embedded = gguf is None
        self.context_window = n_ctx
        self.n_threads = n_threads or max(1, os.cpu_count() or 1)
        self._llama: Any = None
        self._patched: Any = None
        #: keep the system prompt's evaluated state on disk for the next process (prefix_state)
        self.persist_prefix = persist_prefix
        #: where the state files go (default: <cache root>/kv-state)
        self.prefix_dir: Path | None = None
        #: prompt tokens this backend's first call took from a saved state instead of evaluating
        self.prefix_tokens_restored = 0
        self._prefix_checked: set[str] = set()  # system prompts whose saved state was handled

    @property
    def path(self) -> Path:
        """The GGUF file (the embedded model is assembled on first use)."""
        if self._path is None:
            self._path = embedded_model_path()
        return self._path

    @property
    def identity(self) -> str:
        # The embedded GGUF's sha256 is verified when it is assembled; any other file is hashed once.
        """GGUF sha256 + context size + loop-guard version: what the cache key needs."""
        sha = EMBEDDED_SHA256 if self._embedded else _file_sha256(self.path)
        return f"local:gguf-sha256:{sha}:ctx{self.context_window}:{loop_guard.VERSION}"

    @property
    def llama(self) -> Any:
        """The loaded `llama_cpp.Llama` (loaded once per process and shared)."""
        if self._llama is None:
            self._llama = _load_llama(self.path, self.context_window, self.n_threads, self.params.seed)
        return self._llama

    def count_tokens(self, text: str) -> int:
        """Exact token count with the model's own tokenizer."""
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _raw_create(self, **kwargs: Any) -> Any:
        response_format = kwargs.pop("response_format", None)
        if response_format and response_format.get("type") == "json_schema":
            kwargs["response_format"] = {"type": "json_object", "schema": response_format["json_schema"]["schema"]}
        elif response_format:
            kwargs["response_format"] = response_format
        kwargs.pop("model", None)
        from llama_cpp import LogitsProcessorList

        messages = kwargs.get("messages") or []
        system = messages[0].get("content") if messages and messages[0].get("role") == "system" else None
        llama = self.llama
        with _CALL_LOCKS[id(llama)]:  # a llama.cpp context is not thread-safe
            save_to = self._restore_prefix(llama, system) if self.persist_prefix and isinstance(system, str) else None
            kwargs["logits_processor"] = LogitsProcessorList([loop_guard.LoopGuard(llama)])
            # Every message but the last ends a batch, in any history (batching).
            llama.anchor_texts = [m["content"] for m in messages[:-1] if isinstance(m.get("content"), str)]
            response = llama.create_chat_completion_openai_v1(**kwargs)
            if save_to is not None:
                prefix_state.save(llama, save_to, system)
            return response

    def _restore_prefix(self, llama: Any, system: str) -> Path | None:
        """Before this backend's first call with this system prompt: load its saved state into a
        fresh context. Returns the file to save after the call when there was none (or it did
        not load)."""
        if system in self._prefix_checked:  # checked before the file name is hashed: once per prompt
            return None
        self._prefix_checked.add(system)
        directory = self.prefix_dir or cache_root() / "kv-state"
        path = prefix_state.state_file(directory, self.identity, self.context_window, system)
        if llama.n_tokens:  # this process already evaluated a prompt: llama.cpp reuses it in memory
            return None if path.is_file() else path
        self.prefix_tokens_restored = prefix_state.restore(llama, path)
        return None if self.prefix_tokens_restored else path

    async def _create(self) -> Any:
        if self._patched is None:
            patched = instructor.patch(create=self._raw_create, mode=instructor.Mode.JSON_SCHEMA)

            async def create_in_thread(**kwargs: Any) -> Any:
                # to_thread copies contextvars, so the grounding text reaches the validators.
                return await asyncio.to_thread(patched, **kwargs)

            self._patched = create_in_thread
        return self._patched
