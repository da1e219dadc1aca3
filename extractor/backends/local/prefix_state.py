"""Keep the system prompt's llama.cpp state on disk, so a new process does not re-evaluate it.

Every pass of every document starts with the same system prompt (rules and the worked
examples, over a thousand tokens). Inside one process llama-cpp-python reuses it from the KV
cache by token prefix; a new process (one `extractor extract article.txt`) used to evaluate
it again before the article itself. After the first call of a process this module saves the
context with llama.cpp's own session file (`llama_state_save_file`), recording the tokens of
the system prompt's shared prefix, which ends at a batch boundary of every prompt
(`batching`); the next process loads it before its first call and evaluates only what
follows, in the batches a fresh context uses, so the answers are the same. The file is keyed
by the model identity, context size, llama-cpp-python version and the system prompt's text:
any change makes a new file. A file that does not load is ignored (the prompt is evaluated
as before) and replaced after the call. A system prompt shorter than one batch is not saved
(too little to gain). Only the newest `KEEP` files of a directory are kept.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
from pathlib import Path
from typing import Any

from extractor.backends.local.batching import anchors_of

#: bump to orphan files written by an incompatible earlier layout
FORMAT = "prefix-state-3"  # 3: up to the batching anchor (2 held whole n_batch batches)
#: state files kept per directory (one per model x system prompt; their size is in README);
#: older ones are deleted when a new one is saved
KEEP = 8


def state_file(directory: Path, identity: str, n_ctx: int, system: str) -> Path:
    """Where the saved state of one (model, context, system prompt) lives."""
    import llama_cpp

    key = "\n".join([FORMAT, identity, str(n_ctx), llama_cpp.__version__, system])
    return directory / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}.llama-state"


def system_prefix_tokens(llama: Any, tokens: list[int], system: str) -> int:
    """How many leading `tokens` every prompt with this system text shares: its first
    batching anchor (`batching.content_ends`). 0 when the text is not found (a chat template
    that rewrites the system message)."""
    anchors = anchors_of(llama.piece, tokens, [system])  # the batching plan's own token texts
    return anchors[0] if anchors else 0


def restore(llama: Any, path: Path) -> int:
    """Load a saved prefix into a fresh context; the number of tokens restored (0: nothing)."""
    import llama_cpp

    if llama.n_tokens or not path.is_file():
        return 0
    capacity = llama.n_ctx()
    tokens = (llama_cpp.llama_token * capacity)()
    count = ctypes.c_size_t(0)
    loaded = llama_cpp.llama_state_load_file(llama.ctx, os.fsencode(path), tokens, capacity, ctypes.byref(count))
    n = int(count.value) if loaded else 0
    if n <= 0:
        llama.reset()  # n_tokens = 0: the next call evaluates from the start and clears the cache
        return 0
    llama.input_ids[:n] = tokens[:n]
    llama.n_tokens = n
    return n


def save(llama: Any, path: Path, system: str) -> int:
    """Save the context with the tokens of its system-prompt prefix; the number of tokens saved."""
    import llama_cpp

    evaluated = [int(t) for t in llama.input_ids[: llama.n_tokens]]
    # The whole shared prefix: `batching` starts a batch at its end in every prompt, so the
    # next process evaluates the rest exactly as a fresh context does.
    n = system_prefix_tokens(llama, evaluated, system)
    if n < llama.n_batch:  # nothing, or too little to gain
        return 0
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tokens = (llama_cpp.llama_token * n)(*evaluated[:n])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # a read-only cache only loses the speed-up
        if not llama_cpp.llama_state_save_file(llama.ctx, os.fsencode(tmp), tokens, n):
            return 0
        os.replace(tmp, path)  # atomic: a concurrent process reads the old file or the new one
    except OSError:
        return 0
    finally:
        tmp.unlink(missing_ok=True)
    _prune(path.parent)
    return n


def _prune(directory: Path) -> None:
    def mtime(file: Path) -> float:
        try:
            return file.stat().st_mtime
        except OSError:
            return 0.0

    files = sorted(directory.glob("*.llama-state"), key=mtime, reverse=True)
    for old in files[KEEP:]:
        old.unlink(missing_ok=True)
