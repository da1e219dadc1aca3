"""Stop a small model's repetition loop while it decodes (llama.cpp in-process).

The embedded 1.5B model often falls into a loop in the actors pass: it repeats the same
item until the grammar's maxItems cap (measured on evals/: 5 of 11 actor answers ended at
the cap of 20 items, 9 to 17 of them exact repeats, 200-300 wasted tokens each, ~40 s of
decoding on 2 cores). Every answer schema is one object holding one list of flat items.

`LoopGuard` is a llama-cpp-python logits processor. It follows the generated JSON, and when
the item being written has become an exact copy of an earlier item (everything but its
closing brace written), it allows only tokens that close the item *and* the list ("}]...").
The grammar then finishes the object. The answer stays valid JSON and keeps every distinct
item; the one repeated item it still contains is removed by the pipeline's de-duplication.
Where nothing repeats it returns the scores untouched, so the output is the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: part of the local backend's identity (and so of cache keys): answers decoded with a
#: different guard are different answers
VERSION = "loopguard1"

_CLOSING_PREFIX = b"}]"
_CLOSERS: dict[int, np.ndarray] = {}


def closing_tokens(llama: Any) -> np.ndarray:
    """Ids of the tokens whose text starts with "}]" (computed once per loaded model)."""
    key = id(llama)
    if key not in _CLOSERS:
        ids = [i for i in range(llama.n_vocab()) if llama.detokenize([i]).startswith(_CLOSING_PREFIX)]
        _CLOSERS[key] = np.array(ids, dtype=np.intc)
    return _CLOSERS[key]


class _ItemTracker:
    """Follows the bytes of `{"key":[ item, item, ... ]}` and the items inside the list."""

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False
        self.escape = False
        self.current = bytearray()  # the item being written (depth >= 3), from its "{"
        self.items: set[bytes] = set()  # complete items, closing brace included
        self.prefixes: set[bytes] = set()  # the same without their closing brace

    def feed(self, data: bytes) -> None:
        for byte in data:
            char = chr(byte)
            if self.depth >= 3 or (self.depth == 2 and char == "{" and not self.in_string):
                self.current.append(byte)
            if self.in_string:
                if self.escape:
                    self.escape = False
                elif char == "\\":
                    self.escape = True
                elif char == '"':
                    self.in_string = False
                continue
            if char == '"':
                self.in_string = True
            elif char in "{[":
                self.depth += 1
            elif char in "}]":
                self.depth -= 1
                if self.depth == 2 and char == "}":
                    item = bytes(self.current)
                    self.items.add(item)
                    self.prefixes.add(item[:-1])
                    self.current.clear()

    def repeating(self) -> bool:
        """True when the item being written equals an earlier item but for its closing brace."""
        return self.depth == 3 and not self.in_string and bytes(self.current) in self.prefixes


class LoopGuard:
    """A llama-cpp-python logits processor (see the module docstring). One per call."""

    def __init__(self, llama: Any):
        self._llama = llama
        self._tracker = _ItemTracker()
        self._seen: int | None = None  # tokens in the context when the last call returned
        self.closed = False

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        count = len(input_ids)
        if self._seen is None:
            self._seen = count  # the first call sees the prompt only
        elif count > self._seen:
            self._tracker.feed(self._llama.detokenize(input_ids[self._seen : count].tolist()))
            self._seen = count
        if not self.closed and self._tracker.repeating():
            closers = closing_tokens(self._llama)
            if len(closers):
                self.closed = True
                forced = np.full_like(scores, -np.inf)
                forced[closers] = scores[closers]
                return forced
        return scores
