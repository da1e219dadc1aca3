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

from extractor.llm.partial_json import ItemTracker

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


class LoopGuard:
    """A llama-cpp-python logits processor (see the module docstring). One per call."""

    def __init__(self, llama: Any):
        self._llama = llama
        self._tracker = ItemTracker()
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
