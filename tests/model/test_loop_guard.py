"""The decoding loop guard: unit tests of its JSON tracking, and a real llama.cpp run
(SmolLM2-135M) dictated a repeating answer, with and without the guard."""

from __future__ import annotations

import json

import numpy as np
import pytest

from extractor.backends.local.loop_guard import LoopGuard
from extractor.llm.partial_json import ItemTracker as _ItemTracker

A = {"name": "Katiba Serma", "kind": "armed_group", "aliases": ["KS]}"]}  # brackets inside a string
B = {"name": "Amadou Kone", "kind": "person", "aliases": []}


def _compact(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def test_tracker_sees_a_repeat_before_its_closing_brace() -> None:
    tracker = _ItemTracker()
    tracker.feed(b'{"actors":[' + _compact(A) + b"," + _compact(B) + b",")
    assert not tracker.repeating() and len(tracker.items) == 2
    tracker.feed(_compact(A)[:-1])
    assert tracker.repeating()


def test_tracker_ignores_a_new_item_and_an_unfinished_copy() -> None:
    tracker = _ItemTracker()
    tracker.feed(b'{"actors":[' + _compact(A) + b"," + _compact(B)[:-5])
    assert not tracker.repeating()
    tracker.feed(_compact(B)[-5:] + b"," + _compact(A)[:-3])
    assert not tracker.repeating()


def test_tracker_sees_the_same_cited_incident_from_another_sentence_as_a_repeat() -> None:
    first = b'{"sentence":2,"type":"battle","perpetrators":["Kora Front"],"fatalities":6}'
    tracker = _ItemTracker()
    tracker.feed(b'{"events":[' + first + b",")
    tracker.feed(first.replace(b'"sentence":2', b'"sentence":5')[:-1])
    assert tracker.repeating()
    other = _ItemTracker()
    other.feed(b'{"events":[' + first + b"," + first.replace(b'"sentence":2', b'"sentence":5').replace(b"6", b"7")[:-1])
    assert not other.repeating()  # another toll: a different incident


class _Vocab:
    """Stands in for a llama.cpp model: token i is the i-th byte string of a tiny vocabulary."""

    pieces = [b'{"actors":[', _compact(A)[:-1], b"}", b",", b"}]", b"]}", b"}],"]

    def n_vocab(self) -> int:
        return len(self.pieces)

    def detokenize(self, tokens) -> bytes:
        return b"".join(self.pieces[int(t)] for t in tokens)


def test_guard_allows_only_closing_tokens_once_an_item_repeats() -> None:
    vocab, guard = _Vocab(), LoopGuard(_Vocab())
    scores = np.arange(len(vocab.pieces), dtype=np.float32)
    prompt = [0] * 5  # stands for the prompt: the first call sees only it
    assert guard(np.array(prompt), scores) is scores
    generated = [0, 1, 2, 3]  # {"actors":[ A , -> no repeat yet
    assert guard(np.array(prompt + generated), scores) is scores
    out = guard(np.array(prompt + generated + [1]), scores)  # the copy of A, before its "}"
    assert guard.closed
    allowed = [i for i, v in enumerate(out) if np.isfinite(v)]
    assert [vocab.pieces[i] for i in allowed] == [b"}]", b"}],"]  # the grammar then keeps "}]"


# ------------------------------------------------------------------ a real model


@pytest.mark.slow
def test_guard_stops_a_dictated_loop_on_a_real_model(tmp_path, monkeypatch) -> None:
    import asyncio

    from extractor.backends import GenerationParams, create_backend
    from extractor.backends.local import llama as local
    from extractor.llm.drafts import ActorsAnswer
    from tests.support.gguf import DICTATING_SYSTEM, smollm2_gguf

    monkeypatch.setenv("EXTRACTOR_HOME", str(tmp_path / "home"))
    backend = create_backend(f"local:{smollm2_gguf()}", n_ctx=2048, params=GenerationParams(max_tokens=400))
    items = [
        {"name": "Katiba Serma", "kind": "armed_group", "aliases": []},
        {"name": "Amadou Kone", "kind": "person", "aliases": []},
        {"name": "Reuters", "kind": "media", "aliases": []},
    ]
    messages = [
        {"role": "system", "content": DICTATING_SYSTEM},
        {"role": "user", "content": f"Answer with exactly this JSON: {json.dumps({'actors': items * 3})}"},
    ]
    guarded = asyncio.run(backend.complete(ActorsAnswer, messages))
    # Closed at the first repeated item: every distinct item kept, the loop cut.
    assert [a.name for a in guarded.parsed.actors] == ["Katiba Serma", "Amadou Kone", "Reuters", "Katiba Serma"]

    monkeypatch.setattr(local.loop_guard, "LoopGuard", lambda llama: (lambda ids, scores: scores))
    unguarded = asyncio.run(backend.complete(ActorsAnswer, messages))
    assert len(unguarded.parsed.actors) > 4  # the same prompt without the guard goes on repeating
    assert unguarded.usage.completion_tokens > guarded.usage.completion_tokens
