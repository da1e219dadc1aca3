"""extractor.backends.prefix_state without a model: file naming, prefix length, pruning.
(Save and restore on a real GGUF are in tests/test_backend_local.py.)"""

from __future__ import annotations

import os

from extractor.backends.local import prefix_state


class CharLlama:
    """A stand-in tokenizer: one token per character."""

    def piece(self, token):  # as CanonicalBatchLlama.piece: the text of one token
        return chr(token).encode("utf-8")


def tokens(text: str) -> list[int]:
    return [ord(c) for c in text]


def test_prefix_stops_one_token_before_the_end_of_the_system_text():
    prompt = "<s>system\nRules here.</s>\n<s>user\nArticle text"
    n = prefix_state.system_prefix_tokens(CharLlama(), tokens(prompt), "Rules here.")
    assert n == prompt.index("Rules here.") + len("Rules here.") - 1


def test_no_prefix_when_the_template_does_not_show_the_system_text():
    assert prefix_state.system_prefix_tokens(CharLlama(), tokens("<s>user\nArticle"), "Rules here.") == 0
    assert prefix_state.system_prefix_tokens(CharLlama(), tokens("anything"), "   ") == 0


def test_file_name_changes_with_model_context_and_system_prompt(tmp_path):
    base = prefix_state.state_file(tmp_path, "model-a", 4096, "Rules.")
    assert base == prefix_state.state_file(tmp_path, "model-a", 4096, "Rules.")
    others = {
        prefix_state.state_file(tmp_path, "model-b", 4096, "Rules."),
        prefix_state.state_file(tmp_path, "model-a", 2048, "Rules."),
        prefix_state.state_file(tmp_path, "model-a", 4096, "Rules!"),
    }
    assert base not in others and len(others) == 3


def test_only_the_newest_files_are_kept(tmp_path):
    for i in range(prefix_state.KEEP + 3):
        file = tmp_path / f"{i:02d}.llama-state"
        file.write_bytes(b"x")
        os.utime(file, (1000 + i, 1000 + i))
    (tmp_path / "unrelated.txt").write_text("kept")
    prefix_state._prune(tmp_path)
    kept = sorted(p.name for p in tmp_path.glob("*.llama-state"))
    assert kept == [f"{i:02d}.llama-state" for i in range(3, prefix_state.KEEP + 3)]
    assert (tmp_path / "unrelated.txt").exists()
