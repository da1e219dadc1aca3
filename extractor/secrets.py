"""Secret redaction: the one place that knows what a key, a token or URL credentials look like.

Every message the CLI shows or writes, every log record and every backend error passes through
`redact`. Secrets in use (the API key of a run) are registered and removed verbatim, whatever
their shape; anything shaped like a key, a bearer token, a `key=` query value or URL userinfo
is removed by pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
#: secrets shorter than this are not registered (they would mask ordinary words)
MIN_SECRET_LENGTH = 6

_SECRETS: set[str] = set()
_SECRET_PATTERNS = [
    (re.compile(r"\b(sk-(?:proj-|ant-)?)[A-Za-z0-9_\-]{6,}"), r"\1***"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=\-]{6,}"), r"\1***"),
    (re.compile(r"(?i)\b(basic\s+)[A-Za-z0-9+/=]{6,}"), r"\1***"),
    (re.compile(r"(?i)\b((?:api[_-]?key|access[_-]?token|token|key)=)[^&\s'\"]+"), r"\1***"),
    (re.compile(r"(//)[^/@\s:]+:[^/@\s]+@"), r"\1***@"),
]


def register_secret(value: str | None) -> None:
    """Remember a secret (e.g. the API key in use) so `redact` removes it verbatim."""
    if value and len(value.strip()) >= MIN_SECRET_LENGTH:
        _SECRETS.add(value.strip())


def register_url_secrets(url: str | None) -> None:
    """Register the credentials a URL carries (userinfo, query values) so they are redacted verbatim,
    and the Basic authorization header an HTTP client would build from them."""
    if not url:
        return
    import base64
    from urllib.parse import parse_qsl, unquote

    parts = urlsplit(url)
    if parts.username or parts.password:
        for value in (parts.username, parts.password):
            register_secret(unquote(value) if value else None)
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        register_secret(base64.b64encode(pair.encode()).decode())
    for _, value in parse_qsl(parts.query):
        register_secret(value)


def scrub_registered(text: str) -> str:
    """Remove only the registered secret values (no patterns): safe on model answers and cache
    entries, whose other text must stay exactly as the model wrote it."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def redact(text: str, extra: Iterable[str | None] = ()) -> str:
    """Remove registered secrets, `extra` values, and anything shaped like a key, token or URL password."""
    secrets = set(_SECRETS) | {s for s in extra if s and len(s) >= MIN_SECRET_LENGTH}
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_url(url: str) -> str:
    """Drop credentials and query strings from a URL before it is shown or hashed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal: keep its brackets, or the port would merge into it
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # malformed port: shown without it, never raised from here
        port = None
    if port:
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
