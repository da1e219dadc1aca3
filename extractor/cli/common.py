"""What every CLI command shares: the options, the error console, logging and one-line errors."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import typer
from rich.console import Console
from rich.markup import escape

from extractor.config import ExtractorConfig
from extractor.errors import ConfigError
from extractor.secrets import redact

err = Console(stderr=True)

ModelOpt = Annotated[
    str,
    typer.Option(
        "--model",
        "-m",
        help="local (embedded model, default) | local:/path/model.gguf | openai/<model> | "
        "llamacpp/<model> | vllm/<model> | ollama/<model> | <model> with --base-url.",
    ),
]
BaseUrlOpt = Annotated[
    Optional[str], typer.Option("--base-url", help="OpenAI-compatible server URL, e.g. http://127.0.0.1:8000/v1.")
]
ModeOpt = Annotated[
    Optional[str], typer.Option("--mode", help="Override the instructor mode: tools | json | json_schema | md_json.")
]
CacheDirOpt = Annotated[
    Optional[Path], typer.Option("--cache-dir", help="Response cache directory (default ~/.cache/extractor/responses).")
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")]
KeepInstructionsOpt = Annotated[
    bool,
    typer.Option(
        "--keep-instructions",
        help="Let the model see passages that address an AI model (\"ignore previous instructions\"); "
        "by default they are withheld and named in the warnings.",
    ),
]
ReplayOpt = Annotated[
    bool,
    typer.Option(
        "--replay",
        help="Answer from the response cache only (e.g. after `cache import`): a miss fails the document; "
        "the model is never called.",
    ),
]
PromptOpt = Annotated[Optional[str], typer.Option("--prompt-version", help="Prompt set under prompts/ (default: CURRENT).")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="Seconds per model call attempt (HTTP backends).")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")]
PriceInOpt = Annotated[
    Optional[float],
    typer.Option("--price-in", min=0, help="Price per million prompt tokens: the summary adds the cost (with --price-out)."),
]
PriceOutOpt = Annotated[Optional[float], typer.Option("--price-out", min=0, help="Price per million completion tokens.")]


def prices_from(price_in: float | None, price_out: float | None):
    """Prices for the summary line, or None; exit 2 when only one of the two is given."""
    from extractor.summary import Prices

    if (price_in is None) != (price_out is None):
        fail_usage("--price-in and --price-out go together")
    return Prices(price_in, price_out) if price_in is not None and price_out is not None else None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Control characters shown as `\\xNN`: a file name or a server's message can hold ANSI
    escapes (which would drive the terminal) or newlines (which would split a one-line error)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def say_error(message: str) -> None:
    """Print one error line: redacted, control characters shown, never read as markup."""
    err.print(f"[red]error:[/red] {escape(printable(redact(message)))}", highlight=False, soft_wrap=True)


def fail_usage(message: str) -> NoReturn:
    """Print one redacted error line and exit 2 (a usage error)."""
    say_error(message)
    raise typer.Exit(2)


def require_input_not_output(input_path: Path, output: str, noun: str) -> None:
    """Exit 2 with one line unless `input_path` is a regular file that `-o OUTPUT` would not
    overwrite (`noun` names what is written: "export", "merge")."""
    if not input_path.is_file():
        fail_usage(f"{input_path}: no such file" if not input_path.exists() else f"{input_path}: not a regular file")
    if output != "-" and Path(output).exists() and os.path.realpath(output) == os.path.realpath(input_path):
        fail_usage(f"-o {output}: is the input; write the {noun} somewhere else")


def warn(message: str) -> None:
    """Print one redacted warning line."""
    err.print(f"warning: {printable(redact(message))}", highlight=False, soft_wrap=True, markup=False)


def register_run_secrets(base_url: str | None, api_key: str | None = None) -> None:
    """Every secret this run may send anywhere, registered for redaction whatever its shape."""
    from extractor.secrets import register_secret, register_url_secrets

    for name in ("OPENAI_API_KEY", "EXTRACTOR_API_KEY"):
        register_secret(os.environ.get(name))
    register_secret(api_key)
    register_url_secrets(base_url)


def build_config(
    *, model: str, base_url: str | None, mode: str | None, no_cache: bool, cache_dir: Path | None, replay: bool,
    keep_instructions: bool, prompt_version: str | None, timeout: float, **extra: Any,
) -> ExtractorConfig:
    """The ExtractorConfig of the options `extract` and `eval` share (a ConfigError exits 2)."""
    if replay and no_cache:
        fail_usage("--replay reads the response cache; it cannot be combined with --no-cache")
    if timeout <= 0:
        fail_usage(f"--timeout {timeout:g}: must be more than 0 seconds")
    try:
        return ExtractorConfig(
            model=model,
            base_url=base_url,
            mode=mode,
            cache=not no_cache,
            cache_dir=str(cache_dir) if cache_dir else None,
            replay=replay,
            withhold_instructions=not keep_instructions,
            prompt_version=prompt_version,
            timeout=timeout,
            **extra,
        )
    except ConfigError as exc:
        fail_usage(str(exc))


def make_extractor(config: ExtractorConfig):
    """An Extractor for `config`; a configuration problem is one line and exit 2."""
    from extractor.pipeline import Extractor

    try:
        extractor = Extractor(config)
    except (ConfigError, ValueError, FileNotFoundError) as exc:
        fail_usage(str(exc))
    for warning in extractor.warnings:
        warn(warning)
    return extractor


class _RedactingFormatter(logging.Formatter):
    """Redact the whole formatted record, traceback included (a filter would see the message only)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(debug: bool) -> None:
    """ERROR (or DEBUG with --debug) logging to stderr, every record redacted."""
    logging.basicConfig(level=logging.DEBUG if debug else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(_RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    if not debug:
        # instructor logs every failed attempt at ERROR; the pipeline reports them itself.
        logging.getLogger("instructor").setLevel(logging.CRITICAL)


def print_traceback(exc: BaseException) -> None:
    """The redacted traceback of `exc` on stderr (for --debug)."""
    import traceback

    sys.stderr.write(redact("".join(traceback.format_exception(exc))))
    sys.stderr.flush()


@contextlib.contextmanager
def atomic_target(output: str):
    """stdout, or a temporary file moved onto `output` only when the export completes."""
    if output == "-":
        yield sys.stdout
        return
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would make the export private by accident
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
