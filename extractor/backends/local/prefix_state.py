"""Keep the system prompt's llama.cpp state on disk, so a new process does not re-evaluate it.

Every pass of every document starts with the same system prompt (rules and the worked
example, ~1,200 tokens). Inside one process llama-cpp-python reuses it from the KV cache by
token prefix; a new process (one `extractor extract article.txt`) used to evaluate it again,
~35 s on 2 cores before the article itself. After the first call of a process this module
saves the context with llama.cpp's own session file (`llama_state_save_file`), recording the
tokens of the system prompt's whole `n_batch` batches (1,024 of its ~1,220 tokens for the
embedded model); the next process loads it before its first call, and llama-cpp-python's
prefix match then evaluates only what follows, batched exactly as without the saved state, so
the answers are the same. The file is keyed by the model identity, context size,
llama-cpp-python version and the system prompt's text: any change makes a new file. A file
that does not load is ignored (the prompt is evaluated as before) and replaced after the
call. Only the newest `KEEP` files of a directory are kept.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
from pathlib import Path
from typing import Any

#: bump to orphan files written by an incompatible earlier layout
FORMAT = "prefix-state-2"  # 2: whole n_batch batches only
#: state files kept per directory (one per model x system prompt; their size is in README);
#: older ones are deleted when a new one is saved
KEEP = 8


def state_file(directory: Path, identity: str, n_ctx: int, system: str) -> Path:
    """Where the saved state of one (model, context, system prompt) lives."""
    import llama_cpp

    key = "\n".join([FORMAT, identity, str(n_ctx), llama_cpp.__version__, system])
    return directory / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}.llama-state"


def system_prefix_tokens(llama: Any, tokens: list[int], system: str) -> int:
    """How many leading `tokens` every prompt with this system text shares: up to, not
    including, the token that completes `system` (it could merge with what follows). 0 when
    the text is not found (a chat template that rewrites the system message)."""
    target = system.strip().encode("utf-8")
    if not target:
        return 0

    def contains(k: int) -> bool:
        return target in llama.detokenize(tokens[:k], special=True)

    if not contains(len(tokens)):
        return 0
    low, high = 1, len(tokens)
    while low < high:  # smallest k whose text contains the system prompt
        middle = (low + high) // 2
        if contains(middle):
            high = middle
        else:
            low = middle + 1
    return max(0, low - 1)


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
    # Whole batches only: the next process then evaluates the rest in the same n_batch-token
    # batches, at the same positions, as a process that starts from nothing. Restoring the
    # exact system-prompt prefix instead (batches starting mid-way) changed the greedy output
    # of an eval case: llama.cpp's results depend slightly on how rows are batched.
    n = system_prefix_tokens(llama, evaluated, system) // llama.n_batch * llama.n_batch
    if n <= 0:
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
