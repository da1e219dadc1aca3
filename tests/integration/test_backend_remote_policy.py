"""Remote backend policies checked against the loopback fake server."""

from __future__ import annotations

import asyncio

import pytest

from extractor.backends import BackendError, GenerationParams, create_backend
from extractor.llm.drafts import ActorsAnswer
from extractor.llm.prompts import PromptSet
from tests.support.fake_server import FakeOpenAIServer

ARTICLE = "Gunmen from the Katiba Serma militia killed 12 villagers in Dioura, Mali, on Sunday.\n"
SECRET = "sk-openai-SECRET-never-elsewhere-42"


def _messages() -> list[dict[str, str]]:
    return PromptSet.load().messages("actors", ARTICLE)


def test_openai_key_is_not_sent_to_other_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.delenv("EXTRACTOR_API_KEY", raising=False)
    with FakeOpenAIServer() as server:
        backend = create_backend("llamacpp/any", base_url=server.url)
        asyncio.run(backend.complete(ActorsAnswer, _messages()))
        sent = server.completions()[0].headers.get("authorization", "")
        assert SECRET not in sent

        monkeypatch.setenv("EXTRACTOR_API_KEY", "sk-for-the-server")
        backend = create_backend("vllm/any", base_url=server.url)
        asyncio.run(backend.complete(ActorsAnswer, _messages()))
        assert server.completions()[-1].headers.get("authorization") == "Bearer sk-for-the-server"

        backend = create_backend("openai/any", base_url=server.url)  # openai/* still uses OPENAI_API_KEY
        asyncio.run(backend.complete(ActorsAnswer, _messages()))
        assert server.completions()[-1].headers.get("authorization") == f"Bearer {SECRET}"


def test_answer_that_used_every_token_is_incomplete_not_reasked() -> None:
    """llama_cpp.server says finish_reason=tool_calls even when it stopped at max_tokens."""
    with FakeOpenAIServer() as server:
        backend = create_backend(
            "llamacpp/any", base_url=server.url, params=GenerationParams(max_tokens=3), max_reasks=2
        )
        with pytest.raises(BackendError, match="Incomplete"):
            asyncio.run(backend.complete(ActorsAnswer, _messages()))
        assert len(server.completions()) == 1  # failed at once, no re-ask at full cost
