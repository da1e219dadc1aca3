"""`--model` parsing and backend construction (`parse_model` / `create_backend`): no model, no network.

Creating a backend never loads a model or opens a connection, so every case here is fast.
"""

from __future__ import annotations

import hashlib

import pytest

from extractor.backends import BackendSpec, Capabilities, ConfigError, GenerationParams, create_backend, parse_model
from extractor.backends.local import loop_guard
from extractor.backends.local.llama import LocalLlamaBackend
from extractor.backends.remote.openai import OLLAMA_BASE_URL, OPENAI_BASE_URL, OpenAIBackend
from extractor.secrets import redact_url
from extractor.backends.local.model_store import EMBEDDED_NAME, EMBEDDED_SHA256

SECRET_KEY = "sk-test-DO-NOT-LEAK-7f3a9c1e5b"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No ambient OpenAI settings, and a private cache root (local identities write a hash index)."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EXTRACTOR_HOME", str(tmp_path / "home"))


def assert_one_line_config_error(excinfo: pytest.ExceptionInfo) -> str:
    message = str(excinfo.value)
    assert message.strip(), "ConfigError without a message"
    assert "\n" not in message, f"ConfigError message is not one line: {message!r}"
    assert "Traceback" not in message
    return message


# ---------------------------------------------------------------------- local


def test_local_means_the_embedded_model_and_loads_nothing():
    assert parse_model("local") == BackendSpec("local", None)
    assert parse_model("  local  ") == BackendSpec("local", None)
    backend = create_backend("local")
    assert isinstance(backend, LocalLlamaBackend)
    assert backend.provider == "local"
    assert backend.model == EMBEDDED_NAME
    assert backend.mode == "json_schema"
    assert backend.capabilities == Capabilities(prefix_reuse=True, max_concurrency=1)
    # The identity of the embedded model is its known sha256: no assembly, no hashing, no load.
    assert backend.identity == f"local:gguf-sha256:{EMBEDDED_SHA256}:ctx4096:{loop_guard.VERSION}"
    assert backend._llama is None and backend._path is None


def test_local_max_reasks_and_context_are_passed_through():
    backend = create_backend("local", max_reasks=3, n_ctx=2048, params=GenerationParams(max_tokens=64))
    assert backend.max_reasks == 3
    assert backend.context_window == 2048
    assert backend.params.max_tokens == 64
    assert create_backend("local").max_reasks == 1  # local default: one re-ask


def test_local_gguf_path(tmp_path):
    gguf = tmp_path / "tiny-model.gguf"
    gguf.write_bytes(b"GGUF not really a model")
    assert parse_model(f"local:{gguf}") == BackendSpec("local", str(gguf))
    backend = create_backend(f"local:{gguf}", n_ctx=2048)
    assert isinstance(backend, LocalLlamaBackend)
    assert backend.model == "tiny-model.gguf"
    assert backend.path == gguf
    # A GGUF's identity is the sha256 of its bytes (hashed once, not loaded) and the context size.
    sha = hashlib.sha256(gguf.read_bytes()).hexdigest()
    assert backend.identity == f"local:gguf-sha256:{sha}:ctx2048:{loop_guard.VERSION}"
    assert backend._llama is None


def test_local_gguf_missing_file_is_a_config_error(tmp_path):
    missing = tmp_path / "nope" / "model.gguf"
    with pytest.raises(ConfigError) as excinfo:
        create_backend(f"local:{missing}")
    message = assert_one_line_config_error(excinfo)
    assert "not found" in message and str(missing) in message


def test_local_gguf_path_that_is_a_directory_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError):
        create_backend(f"local:{tmp_path}")


def test_local_without_path_is_a_config_error():
    with pytest.raises(ConfigError) as excinfo:
        parse_model("local:")
    assert "GGUF" in assert_one_line_config_error(excinfo)


def test_local_with_base_url_is_a_config_error(tmp_path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"x")
    for model in ("local", f"local:{gguf}"):
        with pytest.raises(ConfigError) as excinfo:
            create_backend(model, base_url="http://127.0.0.1:8000/v1")
        assert "--base-url" in assert_one_line_config_error(excinfo)


# ---------------------------------------------------------------------- openai


def test_openai_without_key_or_base_url_names_the_variable():
    assert parse_model("openai/gpt-4o-mini") == BackendSpec("openai", "gpt-4o-mini")
    with pytest.raises(ConfigError) as excinfo:
        create_backend("openai/gpt-4o-mini")
    assert "OPENAI_API_KEY" in assert_one_line_config_error(excinfo)


def test_openai_with_env_key_uses_tools_mode(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    backend = create_backend("openai/gpt-4o-mini")
    assert isinstance(backend, OpenAIBackend)
    assert backend.provider == "openai"
    assert backend.model == "gpt-4o-mini"
    assert backend.mode == "tools"
    assert backend.base_url == OPENAI_BASE_URL
    assert backend.label == "openai/gpt-4o-mini"
    assert backend.max_reasks == 2  # remote default
    assert backend.capabilities.max_concurrency > 1 and not backend.capabilities.prefix_reuse


def test_openai_with_explicit_key():
    backend = create_backend("openai/gpt-4o-mini", api_key=SECRET_KEY)
    assert backend.mode == "tools"
    assert backend._api_key == SECRET_KEY


def test_openai_base_url_from_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "https://proxy.example.test/v1")
    assert create_backend("openai/gpt-4o-mini").base_url == "https://proxy.example.test/v1"


def test_openai_with_base_url_needs_no_key():
    backend = create_backend("openai/my-model", base_url="http://127.0.0.1:8000/v1")
    assert backend.provider == "openai"
    assert backend.base_url == "http://127.0.0.1:8000/v1"
    assert backend.mode == "tools"


# ---------------------------------------------------------------------- other servers


@pytest.mark.parametrize("provider", ["llamacpp", "vllm"])
def test_self_hosted_servers_need_a_base_url(provider):
    assert parse_model(f"{provider}/x") == BackendSpec(provider, "x")
    with pytest.raises(ConfigError) as excinfo:
        create_backend(f"{provider}/x")
    assert "--base-url" in assert_one_line_config_error(excinfo)


@pytest.mark.parametrize("provider", ["llamacpp", "vllm"])
def test_self_hosted_servers_default_to_tools(provider):
    backend = create_backend(f"{provider}/x", base_url="http://127.0.0.1:8000/v1")
    assert backend.provider == provider
    assert backend.model == "x"
    assert backend.mode == "tools"


def test_ollama_has_a_default_base_url_and_json_mode():
    assert parse_model("ollama/llama3.1") == BackendSpec("ollama", "llama3.1")
    backend = create_backend("ollama/llama3.1")
    assert isinstance(backend, OpenAIBackend)
    assert backend.base_url == OLLAMA_BASE_URL == "http://localhost:11434/v1"
    assert backend.model == "llama3.1"
    assert backend.mode == "json"


def test_ollama_model_names_with_tags():
    backend = create_backend("ollama/qwen2.5:7b-instruct-q4_K_M")
    assert backend.model == "qwen2.5:7b-instruct-q4_K_M"


def test_provider_prefix_is_case_insensitive():
    assert parse_model("Ollama/llama3.1") == BackendSpec("ollama", "llama3.1")


def test_hf_style_name_with_base_url_is_a_compatible_server():
    spec = parse_model("Qwen/Qwen2.5-7B-Instruct", base_url="http://127.0.0.1:8000/v1")
    assert spec == BackendSpec("compatible", "Qwen/Qwen2.5-7B-Instruct")
    backend = create_backend("Qwen/Qwen2.5-7B-Instruct", base_url="http://127.0.0.1:8000/v1")
    assert backend.provider == "compatible"
    assert backend.model == "Qwen/Qwen2.5-7B-Instruct"  # the full name, as the server knows it
    assert backend.mode == "tools"


def test_bare_name_with_base_url_is_a_compatible_server():
    backend = create_backend("my-model", base_url="http://127.0.0.1:8000/v1")
    assert (backend.provider, backend.model) == ("compatible", "my-model")


def test_vllm_model_name_may_contain_a_slash():
    backend = create_backend("vllm/Qwen/Qwen2.5-7B-Instruct", base_url="http://127.0.0.1:8000/v1")
    assert (backend.provider, backend.model) == ("vllm", "Qwen/Qwen2.5-7B-Instruct")


# ---------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    "model",
    ["", "   ", "foo", "openai/", "ollama/", "llamacpp/ ", "bogus/x", "local:", "openai/has space", "openai/a\nb"],
)
def test_malformed_model_strings_are_one_line_config_errors(model):
    with pytest.raises(ConfigError) as excinfo:
        create_backend(model)
    assert_one_line_config_error(excinfo)


def test_unknown_provider_error_lists_the_choices():
    with pytest.raises(ConfigError) as excinfo:
        parse_model("bogus/x")
    message = assert_one_line_config_error(excinfo)
    assert "bogus" in message and "--base-url" in message and "openai/" in message


def test_bad_base_url_is_a_config_error():
    for url in ("ftp://host/v1", "localhost:8000", "http://"):
        with pytest.raises(ConfigError) as excinfo:
            create_backend("vllm/x", base_url=url)
        assert_one_line_config_error(excinfo)


@pytest.mark.parametrize("url", ["http://host:abc/v1", "http://user:pw-s3cret@host:99999/v1"])
def test_bad_base_url_port_is_a_config_error_at_creation(url):
    # Not a ValueError later, from `identity`, in the middle of a run.
    with pytest.raises(ConfigError) as excinfo:
        create_backend("vllm/x", base_url=url)
    message = assert_one_line_config_error(excinfo)
    assert "port" in message and "pw-s3cret" not in message


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


# ---------------------------------------------------------------------- --mode


@pytest.mark.parametrize(
    ("model", "mode", "expected"),
    [
        ("ollama/llama3.1", "tools", "tools"),
        ("vllm/x", "json", "json"),
        ("llamacpp/x", "json_schema", "json_schema"),
        ("llamacpp/x", "md_json", "md_json"),
    ],
)
def test_mode_override(model, mode, expected):
    backend = create_backend(model, base_url=None if model.startswith("ollama") else "http://127.0.0.1:1/v1", mode=mode)
    assert backend.mode == expected


def test_unknown_mode_is_a_config_error():
    with pytest.raises(ConfigError) as excinfo:
        create_backend("ollama/llama3.1", mode="xml")
    message = assert_one_line_config_error(excinfo)
    assert "tools" in message and "json_schema" in message


# ---------------------------------------------------------------------- identity hygiene


def test_identity_contains_no_api_key(monkeypatch):
    explicit = create_backend("openai/gpt-4o-mini", api_key=SECRET_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    from_env = create_backend("openai/gpt-4o-mini")
    served = create_backend("vllm/x", base_url="http://127.0.0.1:8000/v1", api_key=SECRET_KEY)
    for backend in (explicit, from_env, served):
        for shown in (backend.identity, backend.label, repr(backend)):
            assert SECRET_KEY not in shown
            assert SECRET_KEY[-10:] not in shown
    assert explicit.identity == "openai:gpt-4o-mini@https://api.openai.com/v1#tools"


def test_identity_strips_credentials_and_query_from_base_url():
    backend = create_backend(
        "vllm/x", base_url="http://user:pw-s3cret@gpu-host:8000/v1/?api_key=qs-s3cret", api_key=SECRET_KEY
    )
    identity = backend.identity
    assert identity == "vllm:x@http://gpu-host:8000/v1#tools"
    for leaked in ("user", "pw-s3cret", "qs-s3cret", "api_key", SECRET_KEY):
        assert leaked not in identity


def test_identity_distinguishes_endpoints_models_and_modes():
    a = create_backend("vllm/x", base_url="http://host-a:8000/v1").identity
    b = create_backend("vllm/x", base_url="http://host-b:8000/v1").identity
    c = create_backend("vllm/y", base_url="http://host-a:8000/v1").identity
    d = create_backend("vllm/x", base_url="http://host-a:8000/v1", mode="json").identity
    assert len({a, b, c, d}) == 4
    # The same endpoint written with a trailing slash or credentials is the same identity.
    assert create_backend("vllm/x", base_url="http://u:p@host-a:8000/v1/").identity == a


def test_bad_base_url_error_does_not_echo_credentials():
    with pytest.raises(ConfigError) as excinfo:
        create_backend("vllm/x", base_url="ftp://user:pw-s3cret@host/v1")
    assert "pw-s3cret" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://user:pw@host:8000/v1", "http://host:8000/v1"),
        ("https://api.example.test/v1/", "https://api.example.test/v1"),
        ("http://host/v1?key=secret#frag", "http://host/v1"),
        ("http://[::1]:8000/v1", "http://[::1]:8000/v1"),
        ("http://user:pw@[::1]/v1", "http://[::1]/v1"),
        ("http://host:notaport/v1", "http://host/v1"),
    ],
)
def test_redact_url(url, expected):
    assert redact_url(url) == expected
