"""Backend selection from one `--model` string (instructor's provider/model convention).

    local                      embedded Qwen2.5-Coder-1.5B-Instruct (default, offline)
    local:/path/to/model.gguf  any GGUF, in-process
    openai/<model>             OpenAI (OPENAI_API_KEY), or any server with --base-url
    llamacpp/<model>           python -m llama_cpp.server (needs --base-url)
    vllm/<model>               vLLM (needs --base-url)
    ollama/<model>             Ollama (default http://localhost:11434/v1)
    <model> with --base-url    any OpenAI-compatible server

Concrete backends are imported lazily, inside `create_backend`, so importing the factory
costs nothing and the pipeline never depends on llama.cpp or openai being importable.
"""


from __future__ import annotations

import re
from dataclasses import dataclass

from extractor.backends.base import Backend, GenerationParams
from extractor.errors import ConfigError


REMOTE_PROVIDERS = ("openai", "llamacpp", "vllm", "ollama")
MODES = {"tools": "TOOLS", "json": "JSON", "json_schema": "JSON_SCHEMA", "md_json": "MD_JSON"}
_MODEL_NAME = re.compile(r"^[\w.:\-/@+]+$")


@dataclass(frozen=True)
class BackendSpec:
    """What a --model string names."""

    provider: str  # local | openai | llamacpp | vllm | ollama | compatible
    model: str | None  # model name, or GGUF path for local (None = embedded)


def parse_model(model: str, base_url: str | None = None) -> BackendSpec:
    """Parse a --model string; raise ConfigError with a one-line reason when malformed."""
    text = (model or "").strip()
    if not text:
        raise ConfigError("--model is empty; use 'local', 'local:/path/model.gguf' or 'provider/model'")
    if text == "local":
        return BackendSpec("local", None)
    if text.startswith("local:"):
        path = text[len("local:") :].strip()
        if not path:
            raise ConfigError("--model 'local:' needs a GGUF path, e.g. local:/models/qwen.gguf")
        return BackendSpec("local", path)
    if "/" in text:
        provider, name = text.split("/", 1)
        provider = provider.lower()
        if provider in REMOTE_PROVIDERS:
            if not name or not _MODEL_NAME.match(name):
                raise ConfigError(f"--model {text!r}: missing or malformed model name after '{provider}/'")
            return BackendSpec(provider, name)
        if base_url:  # e.g. a HF-style name "Qwen/Qwen2.5-7B-Instruct" served by vLLM
            return BackendSpec("compatible", text)
        raise ConfigError(
            f"--model {text!r}: unknown provider {provider!r}; use local, openai/, llamacpp/, vllm/, ollama/ "
            "or give --base-url for another OpenAI-compatible server"
        )
    if base_url and _MODEL_NAME.match(text):
        return BackendSpec("compatible", text)
    raise ConfigError(f"--model {text!r} is not 'local', 'local:PATH' or 'provider/model'")


def create_backend(
    model: str = "local",
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    mode: str | None = None,
    params: GenerationParams | None = None,
    max_reasks: int | None = None,
    timeout: float = 120.0,
    retries: int = 4,
    n_ctx: int = 4096,
) -> Backend:
    """Build the backend a --model string names. Concrete modules are imported lazily."""
    spec = parse_model(model, base_url)
    if mode is not None and mode not in MODES:
        raise ConfigError(f"--mode {mode!r}: choose one of {', '.join(MODES)}")
    if spec.provider == "local":
        if base_url:
            raise ConfigError("--base-url is for servers; a local model runs in-process (drop --base-url)")
        from extractor.backends.local.llama import LocalLlamaBackend

        return LocalLlamaBackend(spec.model, params=params, max_reasks=1 if max_reasks is None else max_reasks, n_ctx=n_ctx)

    import instructor

    from extractor.backends.remote.openai import OpenAIBackend
    from extractor.backends.remote.retry import RetryPolicy

    return OpenAIBackend(
        spec.provider,
        spec.model or "",
        base_url=base_url,
        api_key=api_key,
        mode=getattr(instructor.Mode, MODES[mode]) if mode else None,
        params=params,
        max_reasks=2 if max_reasks is None else max_reasks,
        retry=RetryPolicy(attempts=retries, attempt_timeout=timeout, total_seconds=max(timeout * 2, 60.0)),
        timeout=timeout,
    )
