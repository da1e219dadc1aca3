"""The benchmark code runs end to end (quick mode: small N, no local model, output to a temp dir)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/ is not installed

from benchmarks import run as bench  # noqa: E402


def test_quick_benchmarks_run_and_render(tmp_path, capsys):
    doc, results = tmp_path / "BENCHMARKS.md", tmp_path / "results.json"
    code = bench.main(
        ["--quick", "--write", "--server", "thread", "--doc", str(doc), "--results", str(results)]
    )
    assert code == 0
    data = json.loads(results.read_text())["results"]
    assert set(data) == {"overhead_http", "concurrency", "cache", "tokens"}  # no local model in --quick

    overhead = data["overhead_http"]
    assert overhead["calls_per_extract"] == 3
    assert overhead["raw_wall_ms_per_call"] > 0 and overhead["pipeline_wall_ms_per_call"] > 0

    rows = data["concurrency"]["rows"]
    assert [r["n"] for r in rows] == [1, 4, 16]
    assert all(r["failures"] == 0 for r in rows)
    assert rows[-1]["docs_per_second"] > rows[0]["docs_per_second"]  # more in flight, more done

    cache = data["cache"]["fake_server"]
    assert cache["warm_model_calls"] == 0 and cache["cold_model_calls"] == 3 * cache["cases"]
    assert cache["warm_seconds"] < cache["cold_seconds"]

    tokens = data["tokens"]
    current = tokens["versions"][tokens["current"]]
    assert current["mean_prompt_tokens_per_article"] > current["mean_article_tokens"] > 0

    text = doc.read_text()
    for title in ("Summary", "Framework overhead", "Concurrency scaling", "Cache", "Tokens per article"):
        assert title in text


@pytest.mark.parametrize("concurrency", [1, 5])
def test_concurrency_caps_and_fills_the_requests_in_flight(concurrency: int):
    """--concurrency N means N model requests in flight: a server with N slots never sees more
    (a document's three passes and its chunks included), and the batch keeps all N busy (a fixed
    cap of 8 once held N=16 to 2.7x; N documents x 3 passes overloaded small servers)."""
    import asyncio

    from extractor.pipeline import Extractor
    from tests.support.fake_server import FakeOpenAIServer

    from benchmarks.common import SHORT_CASE, eval_cases

    case = eval_cases([SHORT_CASE])[0]
    long_text = "\n\n".join([case.text] * 3)  # several chunks at a small chunk budget

    async def go(url: str) -> None:
        extractor = Extractor(model="fake", base_url=url, api_key="t", cache=False, chunk_tokens=600)
        docs = [(f"d{i}", long_text if i == 0 else case.text, case.published) for i in range(6)]
        async for _, result in extractor.aextract_many(docs, concurrency=concurrency):
            assert not isinstance(result, BaseException), result
        await extractor.backend.aclose()

    with FakeOpenAIServer(latency_ms=150) as server:
        asyncio.run(go(server.url))
        calls = len(server.completions())
        assert calls > 18  # the long document took more than one chunk
        assert server.max_in_flight == concurrency


def test_in_process_backend_keeps_one_document_in_flight():
    """On one in-process model, a document's passes must run back to back (llama.cpp then reuses
    its article from the KV cache); two documents in flight would alternate their passes."""
    import asyncio
    from typing import Any

    from extractor.backends.base import Backend, CallResult, Capabilities
    from extractor.pipeline import Extractor

    order: list[str] = []

    class InProcess(Backend):
        provider, model, mode = "local", "recorder", "json_schema"
        capabilities = Capabilities(prefix_reuse=True, max_concurrency=1)

        @property
        def identity(self) -> str:
            return "recorder"

        async def _create(self) -> Any:  # pragma: no cover - complete() is overridden
            raise AssertionError

        async def complete(self, response_model: Any, messages: list[dict[str, str]]) -> CallResult:
            order.append(messages[-1]["content"].split('"""')[1].strip())
            await asyncio.sleep(0.01)
            return CallResult(parsed=response_model.model_validate({response_model.items_field: []}))

    extractor = Extractor(backend=InProcess(), cache=False)
    docs = [(f"d{i}", f"Document number {i} says nothing.", None) for i in range(3)]

    async def go() -> None:
        async for _, result in extractor.aextract_many(docs, concurrency=3):
            assert not isinstance(result, BaseException), result

    asyncio.run(go())
    assert len(order) == 9
    assert all(len(set(order[i : i + 3])) == 1 for i in range(0, 9, 3)), order
