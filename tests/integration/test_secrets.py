"""API keys never appear in logs, errors, cache keys, the cache, or output.

The fake server echoes the bearer token in its 401 body ("Incorrect API key provided: ..."),
as some servers do, so the redaction path is exercised, not just the happy path.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from extractor import secrets as batch_secrets
from extractor.backends import create_backend
from extractor.cache import make_key
from extractor.pipeline import ExtractionError, Extractor
from tests.support.cli import cli_env, run_cli
from tests.support.fake_server import Fault, FakeOpenAIServer

ARTICLE = "Soldiers of the Malian Army clashed with the Wagner Group near Gao on Sunday. Reuters reported it.\n"


@pytest.fixture
def secret() -> str:
    return f"sk-test-SECRET123-{uuid.uuid4().hex}"


@pytest.fixture
def server():
    with FakeOpenAIServer(max_stall=30) as fake:
        yield fake


def all_bytes_under(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_key_never_appears_in_cli_output_errors_logs_or_cache(server: FakeOpenAIServer, tmp_path: Path, secret: str) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("auth", "flaky", "fine"):
        (docs / f"{name}.txt").write_text(f"Report {name}: " + ARTICLE, encoding="utf-8")
    cache_dir = tmp_path / "cache"
    env = cli_env(tmp_path / "home", api_key=secret)
    texts: list[str] = []
    for run, extra in enumerate(([], ["--debug"])):
        server.push(Fault("401", doc="Report auth:"), Fault("500", doc="Report flaky:"))
        out, errors = tmp_path / f"out{run}.jsonl", tmp_path / f"errors{run}.jsonl"
        proc = run_cli(
            "extract", str(docs), "-o", str(out), "--errors", str(errors), "--model", "openai/fake",
            "--base-url", server.url, "--timeout", "2", "--cache-dir", str(cache_dir), "--max-reasks", "0", *extra,
            env=env,
        )
        assert proc.returncode == 1, proc.stderr  # the 401 document fails, the others succeed
        texts += [proc.stdout, proc.stderr, out.read_text(), errors.read_text()]
        (record,) = [json.loads(line) for line in errors.read_text().splitlines()]
        assert record["error_class"] == "AuthenticationError"
        assert "Incorrect API key provided: ***" in record["message"]  # redacted, not absent
        for line in out.read_text().splitlines():
            assert secret not in json.loads(line)["meta"]["backend"]
    assert "DEBUG" in texts[-3]  # the --debug run did log (requests, retries, tracebacks)
    assert "Traceback" in texts[-3]

    export = tmp_path / "export.jsonl"
    exported = run_cli("cache", "export", str(export), "--cache-dir", str(cache_dir), env=env)
    assert exported.returncode == 0, exported.stderr
    entries = [json.loads(line) for line in export.read_text().splitlines()]
    assert entries and all(len(e["key"]) == 64 for e in entries)  # keys are sha256 digests
    texts += [export.read_text(), exported.stdout, exported.stderr]

    for text in texts:
        assert secret not in text
        assert secret[3:] not in text  # not even without the sk- prefix
    assert secret.encode() not in all_bytes_under(cache_dir)
    # ...while the key was really used: the server received it on every request
    assert all(r.headers["authorization"] == f"Bearer {secret}" for r in server.completions())


def test_python_api_errors_and_meta_carry_no_key(server: FakeOpenAIServer, secret: str) -> None:
    server.set_default("401")
    with Extractor("openai/fake", base_url=server.url, api_key=secret, cache=False, timeout=2) as extractor:
        with pytest.raises(ExtractionError) as caught:
            extractor.extract(ARTICLE)
        assert secret not in str(caught.value)
        assert "AuthenticationError" in str(caught.value)
        assert caught.value.attempts == 1  # a 401 is not retried
        server.set_default("ok")
        result = extractor.extract(ARTICLE)
    assert secret not in result.model_dump_json()
    assert result.meta.backend == f"openai:fake@{server.url}#tools"


def test_cache_keys_hash_an_identity_without_key_material(secret: str) -> None:
    one = create_backend("openai/fake", base_url="http://127.0.0.1:9/v1", api_key=secret)
    other = create_backend("openai/fake", base_url="http://127.0.0.1:9/v1", api_key="sk-another-key-0000")
    with_creds = create_backend("openai/fake", base_url=f"http://user:{secret}@127.0.0.1:9/v1?api_key={secret}")
    for backend in (one, other, with_creds):
        assert secret not in backend.identity
        assert backend.identity == "openai:fake@http://127.0.0.1:9/v1#tools"

    def key(backend) -> str:
        return make_key(identity=backend.identity, prompt_id="v1", schema_hash="s", params={}, pass_name="actors",
                        text="t", messages=[{"role": "user", "content": "t"}])

    assert key(one) == key(other) == key(with_creds)  # a new key does not invalidate the cache
    assert secret not in key(one)


def test_redact_removes_keys_tokens_and_url_credentials(secret: str) -> None:
    batch_secrets.register_secret(secret)
    text = (
        f"key {secret}; Authorization: Bearer abc.def-123456; http://user:pw123@host/v1?api_key=zz9&x=1; "
        "sk-proj-AbCdEf012345"
    )
    cleaned = batch_secrets.redact(text)
    for leaked in (secret, "abc.def-123456", "pw123", "zz9", "AbCdEf012345"):
        assert leaked not in cleaned
    assert "x=1" in cleaned and "Bearer ***" in cleaned
