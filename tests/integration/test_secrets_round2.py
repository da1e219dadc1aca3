"""Secrets of round 2: a key of any shape, URL credentials and Basic headers never reach
stderr (messages or --debug tracebacks), the errors file, the cache or its export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor import secrets
from extractor.cache import ResponseCache
from tests.support.cli import cli_env, run_cli
from tests.support.fake_server import FakeOpenAIServer

KEY = "plainsecretvalue123"  # not shaped like sk-...: only registration can catch it
USER, PASSWORD, TOKEN = "user-abc123", "pw-secret-99", "qtok-secret-77"


@pytest.fixture
def server():
    with FakeOpenAIServer(max_stall=30) as fake:
        fake.set_default("401")  # echoes the Authorization header it got
        yield fake


def _run(server: FakeOpenAIServer, tmp_path: Path, url: str, name: str):
    article = tmp_path / "a.txt"
    article.write_text("Gunmen attacked a police post in Kano on Monday, killing three officers.\n", encoding="utf-8")
    out = tmp_path / f"{name}.jsonl"
    proc = run_cli(
        "extract", str(article), "-o", str(out), "--model", "vllm/m", "--base-url", url, "--timeout", "3",
        "--retries", "1", "--debug", "--no-cache",
        env=cli_env(tmp_path / "home", api_key=None, EXTRACTOR_API_KEY=KEY), timeout=90,
    )
    errors = (tmp_path / f"{name}.jsonl.errors.jsonl").read_text(encoding="utf-8")
    return proc, errors


def _assert_clean(proc, errors: str) -> None:
    for where, text in (("stderr", proc.stderr), ("stdout", proc.stdout), ("errors file", errors)):
        for secret in (KEY, PASSWORD, TOKEN):
            assert secret not in text, f"{secret!r} leaked to {where}"


@pytest.mark.parametrize("userinfo, echoed", [("", "Incorrect API key provided: ***"), (f"{USER}:{PASSWORD}@", "Basic ***")])
def test_a_key_of_any_shape_or_basic_credentials_echoed_by_the_server_are_redacted(
    server: FakeOpenAIServer, tmp_path: Path, userinfo: str, echoed: str
) -> None:
    url = server.url.replace("http://", f"http://{userinfo}")
    proc, errors = _run(server, tmp_path, url, "echo")
    assert proc.returncode == 1, proc.stderr
    assert server.completions(), "the request reached the server, whose 401 echoed its Authorization header"
    _assert_clean(proc, errors)
    assert echoed in errors  # redacted, not absent


def test_url_credentials_and_query_tokens_never_appear_in_tracebacks(server: FakeOpenAIServer, tmp_path: Path) -> None:
    url = server.url.replace("http://", f"http://{USER}:{PASSWORD}@") + f"?api_key={TOKEN}"
    proc, errors = _run(server, tmp_path, url, "query")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" in proc.stderr  # --debug printed one: it was redacted, not suppressed
    _assert_clean(proc, errors)


def test_a_registered_secret_echoed_in_an_answer_is_not_cached_or_exported(tmp_path: Path) -> None:
    secrets.register_secret("echoed-key-4567")
    cache = ResponseCache(tmp_path / "cache")
    cache.set("k", {"output": {"actors": [{"name": "echoed-key-4567", "kind": "other", "aliases": []}]}})
    assert "echoed-key-4567" not in json.dumps(cache.get("k"))
    export = tmp_path / "export.jsonl"
    cache.export_jsonl(export)
    cache.close()
    assert "echoed-key-4567" not in export.read_text(encoding="utf-8")
