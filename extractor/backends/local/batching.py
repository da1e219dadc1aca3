"""Evaluate every prompt in the same llama.cpp batches, whatever the context held before.

llama.cpp's results depend slightly on how a prompt's rows are split into batches, and at
temperature 0 a slight difference can flip a token and change an answer. llama-cpp-python
reuses the longest token prefix the new prompt shares with the previous one and evaluates
the rest in `n_batch` batches starting *there*, so the same messages were batched one way in
a fresh process and another way after some other call: an eval case answered differently
run alone (the CI subset) than in the middle of the whole set.

Here a prompt's batches are a function of the prompt alone (its *plan*): a batch starts at
the end of every message but the last (the *anchors*) and every `n_batch` tokens after the
start and after each anchor. Before a prompt, the cached context is kept only up to the last
batch start that its own plan and the new one have in common (within the tokens they share),
and the rest is evaluated segment by segment. Nothing else is reused, not even the tokens a
previous answer generated (they were evaluated one at a time). What calls share is reused
in whole messages: the system prompt always; the article only where it is a message of its
own (the v4 layout), else up to its last whole batch (v3: article and task in one message).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any


def content_ends(pieces: Sequence[bytes], contents: Sequence[str]) -> list[int]:
    """Anchors: for each content, in order, the index of the token that completes its first
    occurrence after the previous one (that token is left out: it could merge with what
    follows). A content that is not found ends the list (a chat template that rewrites it)."""
    ends = [0]
    for piece in pieces:
        ends.append(ends[-1] + len(piece))  # ends[i + 1]: bytes up to and including token i
    text = b"".join(pieces)
    anchors: list[int] = []
    offset, token = 0, 0
    for content in contents:
        target = content.strip().encode("utf-8")
        found = text.find(target, offset) if target else -1
        if found < 0:
            break
        offset = found + len(target)
        while ends[token + 1] < offset:  # the token holding the content's last byte
            token += 1
        if token > (anchors[-1] if anchors else 0):
            anchors.append(token)
    return anchors


def batch_starts(length: int, anchors: Sequence[int], n_batch: int) -> list[int]:
    """Where the batches of a `length`-token prompt start: from 0 and from each anchor, every
    `n_batch` tokens up to the next anchor (the module docstring's plan)."""
    edges = [0, *(a for a in anchors if 0 < a < length), length]
    return [start for a, b in zip(edges, edges[1:]) for start in range(a, b, n_batch)]


def reusable(cached_starts: Sequence[int], cached_length: int, starts: Sequence[int], shared: int) -> int:
    """How many cached tokens a prompt whose plan is `starts` can keep: the last batch start
    both plans agree on up to there, within the `shared` tokens. The cached prompt's end
    counts as a start of its own (its last batch ended there)."""
    keep = 0
    for old, new in zip([*cached_starts, cached_length], starts):
        if old != new or new > shared:
            break
        keep = new
    return keep


def shared_prefix(cached: Sequence[int], tokens: Sequence[int]) -> int:
    """How many leading tokens the cached context and the new prompt have in common."""
    n = 0
    for a, b in zip(cached, tokens):
        if a != b:
            break
        n += 1
    return n


def anchors_of(piece: Callable[[int], bytes], tokens: Sequence[int], contents: Sequence[str]) -> list[int]:
    """`content_ends` of a token list, given the model's text (bytes) of one token."""
    return content_ends([piece(t) for t in tokens], contents)


@lru_cache(maxsize=1)
def canonical_llama_class() -> type:
    """`llama_cpp.Llama` with the batching plan applied before each prompt (imported lazily,
    like the rest of llama-cpp-python)."""
    from llama_cpp import Llama

    class CanonicalBatchLlama(Llama):
        """A `Llama` whose prompts are batched the same way in any history (module docstring).
        The backend sets `anchor_texts` (every message's content but the last) before a call."""

        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.anchor_texts: list[str] = []
            self._pieces: dict[int, bytes] = {}  # token -> its text: detokenizing costs a C call
            self._plan: tuple[list[int], list[int]] = ([], [])  # (batch starts, prompt tokens)

        def cached_plan(self) -> tuple[list[int], int]:
            """The plan and length of the prompt the context holds. Anything else (a reset, a
            restored state: `prefix_state` saves one evaluated from 0 in `n_batch` batches up
            to its end, which was an anchor) counts as batched from 0 up to `n_tokens`."""
            starts, prompt = self._plan
            if prompt and len(prompt) <= self.n_tokens and self.input_ids[: len(prompt)].tolist() == prompt:
                return starts, len(prompt)
            return list(range(0, self.n_tokens, self.n_batch)), self.n_tokens

        def piece(self, token: int) -> bytes:
            """The text of one token (special tokens included), remembered."""
            if token not in self._pieces:
                self._pieces[token] = self.detokenize([token], special=True)
            return self._pieces[token]

        def generate(self, tokens: Sequence[int], *args: Any, **kwargs: Any) -> Any:
            """`Llama.generate`, after keeping only a reusable prefix and evaluating the
            prompt's anchored segments in its own batches."""
            tokens = [int(t) for t in tokens]
            anchors = [a for a in anchors_of(self.piece, tokens, self.anchor_texts) if a < len(tokens)]
            starts = batch_starts(len(tokens), anchors, self.n_batch)
            old_starts, old_length = self.cached_plan()
            shared = shared_prefix(self.input_ids[:old_length].tolist(), tokens)
            self.n_tokens = reusable(old_starts, old_length, starts, shared)
            for anchor in anchors:  # segments before the last anchor; generate batches the rest
                if self.n_tokens < anchor:
                    self.eval(tokens[self.n_tokens : anchor])
            self._plan = (starts, tokens)
            return super().generate(tokens, *args, **kwargs)

    return CanonicalBatchLlama
