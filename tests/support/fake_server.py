"""A fault-injecting, OpenAI-compatible chat-completions server on loopback.

It answers `POST /v1/chat/completions` the way instructor expects in TOOLS mode (one forced
tool call whose arguments are JSON for the requested answer model) and, without `tools`, with
the JSON as message content (JSON / JSON_SCHEMA / MD_JSON modes). Answers are built from the
article in the user message (between the triple quotes of prompts/<v>/user.j2): every quote is
the article's first sentence and every name occurs in the article, so grounding passes.

Faults are scripted: each request takes the next matching fault from a queue (or the default
fault when the queue has none):

    ok              a valid answer
    hang            read the request, answer nothing for `seconds` (default: until stopped)
    timeout         alias of hang
    429             429 with `Retry-After: <retry_after>`
    500, 503, 502, 401, 400
                    that status with an OpenAI-style error body (401 echoes the bearer token,
                    as some servers do, to prove the client never shows it)
    reset           TCP reset (SO_LINGER 0) after reading the request, no reply
    truncated_body  200 whose body stops half way (Content-Length promises more), then close
    truncated_json  a complete HTTP reply whose tool-call arguments are cut-off JSON
    schema_invalid  well-formed JSON arguments that do not fit the schema ({"hacked": true})
    ungrounded      schema-valid arguments whose quotes are not in the article
    length          finish_reason "length" (the answer hit max_tokens)
    never_ending    200 headers, then one byte every `interval` seconds, forever
    error_200       200 whose JSON body is an OpenAI-style error object, no `choices`
    empty_choices   200 with a completion whose `choices` list is empty
    non_json        200 with an HTML page (a proxy's error page), not JSON
    429_bad_retry   429 with an unparsable `Retry-After: soon-ish`
    huge_body       a valid completion padded with 9 MiB of JSON whitespace, no Content-Length
                    (the body ends when the connection closes)
    huge_declared   the same with its Content-Length declared

Use it from tests:

    with FakeOpenAIServer(latency_ms=50) as server:
        server.push("429", "ok")
        ... --base-url server.url ...
        server.requests  # what it received, with headers and timestamps

or as a process (for benchmarks):

    python -m tests.support.fake_server --port 8765 --latency-ms 200 [--fault 500 ...]

A minimal Batch API is there too: `POST /v1/files` (multipart upload), `POST /v1/batches`
(runs every request line at once, each taking the next fault, and completes), `GET
/v1/batches/{id}` and `GET /v1/files/{id}/content`.

A running process also takes `POST /_control/faults` ({"faults": [...], "default": "ok",
"latency_ms": 200}) and lists what it received at `GET /_control/requests`.

Everything is bounded: every wait ends when the server stops, handler threads are daemons,
and a hang or never-ending reply gives up after `max_stall` seconds anyway.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import signal
import socket
import struct
import sys
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from extractor.records import PASS_BY_TOOL, PASSES
from extractor.text.injection import MARKER

FAULT_KINDS = (
    "ok",
    "hang",
    "timeout",
    "429",
    "400",
    "401",
    "500",
    "502",
    "503",
    "reset",
    "truncated_body",
    "truncated_json",
    "schema_invalid",
    "ungrounded",
    "length",
    "never_ending",
    "error_200",
    "empty_choices",
    "non_json",
    "429_bad_retry",
    "huge_body",
    "huge_declared",
)
_STATUS_FAULTS = {"400": 400, "401": 401, "429": 429, "500": 500, "502": 502, "503": 503}
# The pass of a request is read from its schema, never from the prompt's wording: the tool (or
# response_format schema) name is the answer model's class name; in JSON modes the schema is
# pasted into a message, and its top-level property is the answer's items field.
_TOOL_TO_PASS = {tool: spec.name for tool, spec in PASS_BY_TOOL.items()}
_SCHEMA_ITEMS = re.compile(
    r'"properties":\s*\{\s*"(' + "|".join(re.escape(s.answer_model.items_field) for s in PASSES) + r')"'
)
_ITEMS_TO_PASS = {spec.answer_model.items_field: spec.name for spec in PASSES}
_STOPWORDS = {
    "A", "An", "And", "As", "At", "But", "By", "For", "From", "He", "Her", "His", "I", "If", "In", "It", "Its",
    "On", "Of", "Or", "She", "So", "The", "Their", "There", "These", "They", "This", "Those", "To", "We",
    "When", "While", "With", "After", "Before", "During", "On", "Monday", "Tuesday", "Wednesday", "Thursday",
    "Friday", "Saturday", "Sunday", "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
}  # fmt: skip


@dataclass
class Fault:
    """One scripted server behaviour.

    `match` limits it to one pass (actors / events / sanctions, or the tool name) and `doc`
    to requests whose article contains that text, so faults can target one document.
    """

    kind: str = "ok"
    retry_after: float | None = 1.0
    seconds: float | None = None  # hang duration (None = until the server stops)
    interval: float = 0.1  # never_ending: seconds between bytes
    match: str | None = None
    doc: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; choose from {', '.join(FAULT_KINDS)}")

    @classmethod
    def parse(cls, spec: str | dict[str, Any] | Fault) -> Fault:
        """'429', '429:2' (Retry-After 2 s), 'hang:5', 'ok@events', or a dict of fields."""
        if isinstance(spec, Fault):
            return spec
        if isinstance(spec, dict):
            return cls(**spec)
        text = str(spec).strip()
        match = None
        if "@" in text:
            text, match = text.split("@", 1)
        kind, _, arg = text.partition(":")
        fault = cls(kind=kind, match=match or None)
        if arg:
            if kind == "429":
                fault.retry_after = float(arg)
            elif kind in ("hang", "timeout"):
                fault.seconds = float(arg)
            elif kind == "never_ending":
                fault.interval = float(arg)
        return fault

    def applies_to(self, pass_name: str | None, article: str = "") -> bool:
        if self.doc is not None and self.doc not in article:
            return False
        return self.match is None or (pass_name is not None and self.match.lower() in pass_name.lower())


@dataclass
class RecordedRequest:
    index: int
    time: float  # time.monotonic() when the request was read
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any
    tool_name: str | None
    pass_name: str | None
    fault: str
    client: str = ""

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages") or []) if isinstance(self.body, dict) else []

    def summary(self, redact: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if redact:
            data["headers"] = {k: ("***" if k.lower() in ("authorization", "api-key") else v) for k, v in self.headers.items()}
        return data


# ---------------------------------------------------------------------------- answers
def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def article_of(messages: list[dict[str, Any]]) -> str:
    """The article between the first '\"\"\"' line and the last '\"\"\"' line of the first user message."""
    for message in messages:
        if message.get("role") != "user":
            continue
        content = _message_text(message)
        start = content.find('"""\n')
        end = content.rfind('\n"""')
        if start >= 0 and end > start:
            return content[start + 4 : end]
        return content
    return ""


def first_sentence(text: str) -> str:
    # A passage the pipeline withheld (extractor.injection) is not article text: skip it.
    stripped = text.replace(MARKER, "").strip()
    found = re.match(r"(.+?[.!?])(?=\s|$)", stripped, re.S)
    sentence = found.group(1) if found else stripped.splitlines()[0] if stripped else ""
    return sentence[:400].strip()


def names_in(text: str, limit: int = 4) -> list[str]:
    """Capitalised word runs that occur in the text (leading stopwords dropped)."""
    names: list[str] = []
    for found in re.finditer(r"\b[A-Z][A-Za-z'\-]+(?:\s+[A-Z][A-Za-z'\-]+)*", text):
        words = found.group(0).split()
        while words and words[0] in _STOPWORDS:
            words.pop(0)
        if not words or any(w.isupper() and len(w) > 4 for w in words):
            continue
        sentence_start = found.start() == 0 or re.search(r"[.!?\n]\s*$", text[: found.start()]) is not None
        if len(words) == 1 and sentence_start and words[0] == found.group(0):
            continue  # "Fighters attacked...": a capitalised first word is rarely a name
        name = " ".join(words)
        if name not in text or len(name) < 2 or name in names:
            continue
        names.append(name)
        if len(names) >= limit:
            break
    return names


def _event_type(text: str) -> str:
    lowered = text.lower()
    for words, kind in (
        (("airstrike", "air strike", "drone", "shelling", "bomb", "missile"), "explosion_remote_violence"),
        (("protest", "demonstrat", "rally"), "protest"),
        (("riot",), "riot"),
        (("clash", "fighting", "battle", "attack"), "battle"),
    ):
        if any(w in lowered for w in words):
            return kind
    return "strategic_development"


def _cited_answer(pass_name: str, article: str) -> dict[str, Any]:
    """v3 drafts (the article arrives as "[n] sentence" lines): records cite sentence 1."""
    first = re.sub(r"^\[\d+\]\s*", "", article.splitlines()[0]) if article.strip() else ""
    names = names_in(re.sub(r"^\[\d+\]\s*", "", article, flags=re.M))
    quoted = build_answer(pass_name, first, cited=False)
    if pass_name == "events":
        for record in quoted["events"]:
            del record["quote"], record["sources"]
            record["sentence"] = 1
        return quoted
    if pass_name == "sanctions":
        records = []
        for record in quoted["sanctions"]:
            records.append({"sentence": 1, "targets": [record["target"]], "authority": record["authority"],
                            "measures": [record["measure"]], "status": record["status"], "program": None,
                            "amount": None, "currency": None})  # fmt: skip
        return {"sanctions": records}
    return {"actors": [_actor(name) for name in names]} if pass_name == "actors" else {}


def _actor(name: str) -> dict[str, Any]:
    # Plumbing answers, not a model's: typed with a kind the place rule (postprocess.places)
    # never drops, so every capitalised name the fake finds stays an actor.
    return {"name": name, "kind": "armed_group", "aliases": []}


def build_answer(pass_name: str, article: str, cited: bool | None = None) -> dict[str, Any]:
    """Schema-valid, grounded arguments for the answer models of either evidence style
    (`cited` None: v3 when the article is shown as numbered sentences)."""
    if cited or (cited is None and re.match(r"\[1\] ", article)):
        return _cited_answer(pass_name, article)
    sentence = first_sentence(article)
    names = names_in(article)
    if pass_name == "actors":
        return {"actors": [_actor(name) for name in names]}
    if pass_name == "events":
        if not sentence:
            return {"events": []}
        return {
            "events": [
                {
                    "quote": sentence,
                    "type": _event_type(sentence),
                    "perpetrators": names[:1],
                    "targets": names[1:2],
                    "fatalities": None,
                    "country": None,
                    "admin1": None,
                    "location": None,
                    "date": None,
                    "sources": [],
                }
            ]
        }
    if pass_name == "sanctions":
        if not sentence or not names or not re.search(r"sanction|designat|asset freeze|embargo|travel ban", article, re.I):
            return {"sanctions": []}
        authorities = [n for n in names if re.search(r"Union|United|Treasury|Council|Nations|Government|Ministry|Department", n)]
        authority = authorities[0] if authorities else None
        targets = [n for n in names if n != authority]
        return {
            "sanctions": [
                {
                    "quote": sentence,
                    "target": targets[0] if targets else names[0],
                    "authority": authority,
                    "measure": "sanctions_listing",
                    "status": "imposed",
                    "program": None,
                    "amount": None,
                    "currency": None,
                }
            ]
        }
    return {}


def _pass_of(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(tool name, pass name) of a chat-completions request."""
    tool_name = None
    tools = body.get("tools") or []
    if tools and isinstance(tools, list):
        tool_name = ((tools[0] or {}).get("function") or {}).get("name")
    if tool_name is None:
        response_format = body.get("response_format") or {}
        tool_name = (response_format.get("json_schema") or {}).get("name") if isinstance(response_format, dict) else None
    if tool_name in _TOOL_TO_PASS:
        return tool_name, _TOOL_TO_PASS[tool_name]
    for message in body.get("messages") or []:
        found = _SCHEMA_ITEMS.search(_message_text(message))
        if found:
            return tool_name, _ITEMS_TO_PASS[found.group(1)]
    return tool_name, None


# ---------------------------------------------------------------------------- server
class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # many clients connect at once (the default backlog is 5); see `backlog`
    allow_reuse_address = True
    owner: FakeOpenAIServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.owner.verbose:
            sys.stderr.write(f"fake-openai {self.address_string()} {format % args}\n")

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass

    # -------------------------------------------------------------- helpers
    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _drop(self, reset: bool) -> None:
        self.close_connection = True
        try:
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _upload(self, raw: bytes) -> None:
        """POST /v1/files: a multipart form with `file` and `purpose`."""
        from email.parser import BytesParser
        from email.policy import default

        form = BytesParser(policy=default).parsebytes(
            f"Content-Type: {self.headers.get('Content-Type', '')}\r\n\r\n".encode() + raw
        )
        parts = {part.get_param("name", header="content-disposition"): part for part in form.iter_parts()}
        if "file" not in parts:
            self._send_json(400, {"error": {"message": "no file part", "type": "invalid_request_error"}})
            return
        purpose = (parts["purpose"].get_content() if "purpose" in parts else "batch").strip()
        upload = parts["file"]
        data = upload.get_payload(decode=True) or b""
        self._send_json(200, self.server.owner._store_file(upload.get_filename() or "upload.jsonl", data, purpose))

    # -------------------------------------------------------------- routes
    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        path = urlsplit(self.path).path.rstrip("/")
        owner = self.server.owner
        if path.endswith("/models"):
            self._send_json(200, {"object": "list", "data": [{"id": owner.model_name, "object": "model", "owned_by": "fake"}]})
        elif path == "/_control/requests":
            self._send_json(200, [r.summary() for r in owner.requests])
        elif path in ("/health", "/_control/health"):
            self._send_json(200, {"status": "ok"})
        elif re.fullmatch(r"/v1/batches/[\w-]+", path) and path.rsplit("/", 1)[1] in owner.batches:
            self._send_json(200, owner.batches[path.rsplit("/", 1)[1]])
        elif re.fullmatch(r"/v1/files/[\w-]+/content", path) and path.split("/")[3] in owner.files:
            data = owner.files[path.split("/")[3]]
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self._send_json(404, {"error": {"message": f"no route {path}", "type": "not_found"}})

    def do_POST(self) -> None:  # noqa: N802
        owner = self.server.owner
        raw = self._read_body()
        path = urlsplit(self.path).path.rstrip("/")
        if path == "/_control/faults":
            try:
                control = json.loads(raw or b"{}")
                owner.push(*control.get("faults", []))
                if "default" in control:
                    owner.default = Fault.parse(control["default"])
                if "latency_ms" in control:
                    owner.latency_ms = float(control["latency_ms"])
                if control.get("clear_requests"):
                    owner.clear_requests()
            except (ValueError, TypeError) as exc:
                self._send_json(400, {"error": {"message": str(exc), "type": "invalid_request_error"}})
                return
            self._send_json(200, {"queued": owner.queued})
            return
        if path == "/v1/files":
            self._upload(raw)
            return
        if path == "/v1/batches":
            request = json.loads(raw or b"{}")
            if request.get("input_file_id") not in owner.files:
                self._send_json(404, {"error": {"message": "no such file", "type": "invalid_request_error"}})
                return
            self._send_json(200, owner.run_batch(request["input_file_id"], request.get("endpoint", ""),
                                                 request.get("completion_window", "24h")))  # fmt: skip
            return
        if not path.endswith("/chat/completions"):
            self._send_json(404, {"error": {"message": f"no route {path}", "type": "not_found"}})
            return
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("body is not an object")
        except ValueError as exc:
            self._send_json(400, {"error": {"message": f"invalid JSON body: {exc}", "type": "invalid_request_error"}})
            return
        owner._complete(self, body)


class FakeOpenAIServer:
    """Fault-injecting OpenAI-compatible server on 127.0.0.1 (ephemeral port by default)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: float = 0.0,
        default: str | Fault = "ok",
        faults: list[str | Fault] | None = None,
        model_name: str = "fake",
        max_stall: float = 120.0,
        verbose: bool = False,
        backlog: int = 128,
    ):
        #: listen backlog: how many connections may wait to be accepted (benchmarks open bursts)
        self.backlog = backlog
        self.host = host
        self.port = port
        self.latency_ms = latency_ms
        self.default = Fault.parse(default)
        self.model_name = model_name
        self.max_stall = max_stall
        self.verbose = verbose
        self._queue: collections.deque[Fault] = collections.deque()
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        #: the Batch API's uploaded and produced files, and its batches
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self._in_flight = 0
        #: the most chat-completion requests this server was answering at one time
        self.max_in_flight = 0
        self._stop = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        if faults:
            self.push(*faults)

    # -------------------------------------------------------------- lifecycle
    def start(self) -> FakeOpenAIServer:
        self._stop.clear()
        server_class = type("_BackloggedServer", (_Server,), {"request_queue_size": self.backlog})
        self._server = server_class((self.host, self.port), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Run in the foreground until stop() (or SIGINT/SIGTERM when run as a program)."""
        if self._server is None:
            self.start()
        self._stop.wait()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # -------------------------------------------------------------- script and records
    def push(self, *faults: str | dict[str, Any] | Fault) -> None:
        """Queue faults for the next requests (each matching request takes the first that applies)."""
        parsed = [Fault.parse(f) for f in faults]
        with self._lock:
            self._queue.extend(parsed)

    def set_default(self, fault: str | Fault) -> None:
        self.default = Fault.parse(fault)

    @property
    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def completions(self, pass_name: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions") and (pass_name is None or r.pass_name == pass_name)]

    def clear_faults(self) -> None:
        with self._lock:
            self._queue.clear()

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()
            self.max_in_flight = self._in_flight

    def _next_fault(self, pass_name: str | None, article: str) -> Fault:
        with self._lock:
            for index, fault in enumerate(self._queue):
                if fault.applies_to(pass_name, article):
                    del self._queue[index]
                    return fault
        return self.default

    # -------------------------------------------------------------- behaviour
    def _complete(self, handler: _Handler, body: dict[str, Any]) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            self._answer(handler, body)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(self, handler: _Handler, body: dict[str, Any]) -> None:
        tool_name, pass_name = _pass_of(body)
        article = article_of(body.get("messages") or [])
        fault = self._next_fault(pass_name, article)
        with self._lock:
            self._requests.append(
                RecordedRequest(
                    index=len(self._requests),
                    time=time.monotonic(),
                    method="POST",
                    path=urlsplit(handler.path).path,
                    headers={k.lower(): v for k, v in handler.headers.items()},
                    body=body,
                    tool_name=tool_name,
                    pass_name=pass_name,
                    fault=fault.kind,
                    client=handler.address_string(),
                )
            )
        if self.latency_ms and fault.kind not in ("hang", "timeout"):
            if self._stop.wait(self.latency_ms / 1000):
                handler._drop(reset=False)
                return
        kind = fault.kind
        if kind in ("hang", "timeout"):
            self._stop.wait(min(fault.seconds if fault.seconds is not None else self.max_stall, self.max_stall))
            handler._drop(reset=False)
            return
        if kind == "reset":
            handler._drop(reset=True)
            return
        if kind in _STATUS_FAULTS:
            self._error(handler, _STATUS_FAULTS[kind], fault)
            return
        if kind == "never_ending":
            self._trickle(handler, fault)
            return
        if kind in ("error_200", "empty_choices", "non_json", "429_bad_retry"):
            self._hostile(handler, kind, body)
            return

        payload = self._payload(body, tool_name, pass_name, article, kind)
        if kind in ("huge_body", "huge_declared"):
            data = json.dumps(payload).encode()[:-1] + b" " * (9 * 1024 * 1024) + b"}"
            try:
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                if kind == "huge_declared":
                    handler.send_header("Content-Length", str(len(data)))
                else:
                    handler.send_header("Connection", "close")
                handler.end_headers()
                handler.wfile.write(data)
                handler.wfile.flush()
            except OSError:
                pass
            handler._drop(reset=False)
            return
        if kind == "truncated_body":
            data = json.dumps(payload).encode()
            try:
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(data)))
                handler.end_headers()
                handler.wfile.write(data[: len(data) // 2])
                handler.wfile.flush()
            except OSError:
                pass
            handler._drop(reset=False)
            return
        try:
            handler._send_json(200, payload)
        except OSError:
            handler._drop(reset=False)

    def _payload(self, body: dict[str, Any], tool_name: str | None, pass_name: str | None, article: str, kind: str) -> dict[str, Any]:
        """The chat completion of an answer fault (ok, truncated_json, schema_invalid, ungrounded, length)."""
        answer = build_answer(pass_name or "", article)
        arguments = json.dumps(answer, ensure_ascii=False)
        finish = "stop"
        if kind == "truncated_json":
            arguments = arguments[: max(1, len(arguments) // 2)]
        elif kind == "schema_invalid":
            arguments = json.dumps({"hacked": True})
        elif kind == "ungrounded":
            arguments = json.dumps(_ungrounded(answer))
        elif kind == "length":
            arguments = arguments[: max(1, len(arguments) // 2)]
            finish = "length"
        return self._completion(body, tool_name, arguments, finish)

    # -------------------------------------------------------------- Batch API (files, batches)
    def _store_file(self, name: str, data: bytes, purpose: str) -> dict[str, Any]:
        with self._lock:
            file_id = f"file-fake-{len(self.files)}"
            self.files[file_id] = data
        return {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                "filename": name, "purpose": purpose, "status": "processed"}  # fmt: skip

    def run_batch(self, input_file_id: str, endpoint: str, window: str) -> dict[str, Any]:
        """Run every request line of an uploaded file at once (each takes the next fault, like a
        live request) and store the output and error files; the finished batch object."""
        lines, errors = [], []
        for number, line in enumerate(self.files[input_file_id].decode().splitlines()):
            request = json.loads(line)
            body = request["body"]
            tool_name, pass_name = _pass_of(body)
            article = article_of(body.get("messages") or [])
            fault = self._next_fault(pass_name, article)
            with self._lock:
                self._requests.append(RecordedRequest(len(self._requests), time.monotonic(), "BATCH", request["url"], {},
                                                      body, tool_name, pass_name, fault.kind))  # fmt: skip
            result = {"id": f"batch_req_{number}", "custom_id": request["custom_id"]}
            if fault.kind in _STATUS_FAULTS:
                errors.append({**result, "response": None,
                               "error": {"code": fault.kind, "message": f"fake batch fault {fault.kind}"}})  # fmt: skip
                continue
            payload = self._payload(body, tool_name, pass_name, article, fault.kind)
            lines.append({**result, "response": {"status_code": 200, "request_id": f"req_{number}", "body": payload},
                          "error": None})  # fmt: skip
        encode = lambda rows: "".join(json.dumps(r) + "\n" for r in rows).encode()  # noqa: E731
        output = self._store_file("output.jsonl", encode(lines), "batch_output")["id"] if lines else None
        error_file = self._store_file("errors.jsonl", encode(errors), "batch_output")["id"] if errors else None
        with self._lock:
            batch_id = f"batch_fake_{len(self.batches)}"
            self.batches[batch_id] = {
                "id": batch_id, "object": "batch", "endpoint": endpoint, "input_file_id": input_file_id,
                "completion_window": window, "status": "completed", "created_at": int(time.time()),
                "output_file_id": output, "error_file_id": error_file,
                "request_counts": {"total": len(lines) + len(errors), "completed": len(lines), "failed": len(errors)},
            }  # fmt: skip
            return self.batches[batch_id]

    def _completion(self, body: dict[str, Any], tool_name: str | None, arguments: str, finish: str) -> dict[str, Any]:
        with self._lock:
            number = len(self._requests)
        if body.get("tools"):
            message: dict[str, Any] = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"call_fake_{number}",
                        "type": "function",
                        "function": {"name": tool_name or "answer", "arguments": arguments},
                    }
                ],
            }
        else:
            message = {"role": "assistant", "content": arguments}
        prompt_chars = sum(len(_message_text(m)) for m in body.get("messages") or [])
        prompt_tokens = max(1, prompt_chars // 4)
        completion_tokens = max(1, len(arguments) // 4)
        return {
            "id": f"chatcmpl-fake-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.model_name,
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _error(self, handler: _Handler, status: int, fault: Fault) -> None:
        headers: dict[str, str] = {}
        message = {
            400: "Bad request",
            401: "Incorrect API key provided: " + handler.headers.get("Authorization", "").removeprefix("Bearer "),
            429: "Rate limit reached for requests",
            500: "The server had an error while processing your request",
            502: "Bad gateway",
            503: "The engine is currently overloaded, please try again later",
        }[status]
        if status == 429 and fault.retry_after is not None:
            value = fault.retry_after
            headers["Retry-After"] = str(int(value)) if float(value).is_integer() else str(value)
        kind = {401: "invalid_request_error", 429: "rate_limit_error"}.get(status, "server_error")
        try:
            handler._send_json(status, {"error": {"message": message, "type": kind, "code": str(status)}}, headers)
        except OSError:
            handler._drop(reset=False)

    def _hostile(self, handler: _Handler, kind: str, body: dict[str, Any]) -> None:
        """Replies a careless or broken server gives: a 200 that is not a completion, or a 429
        whose Retry-After is not a number."""
        try:
            if kind == "error_200":
                handler._send_json(200, {"error": {"message": "model overloaded", "type": "server_error"}})
            elif kind == "empty_choices":
                payload = self._completion(body, None, "{}", "stop")
                payload["choices"] = []
                handler._send_json(200, payload)
            elif kind == "429_bad_retry":
                handler._send_json(429, {"error": {"message": "slow down", "type": "rate_limit_error"}},
                                   {"Retry-After": "soon-ish"})  # fmt: skip
            else:
                data = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                handler.send_response(200)
                handler.send_header("Content-Type", "text/html")
                handler.send_header("Content-Length", str(len(data)))
                handler.end_headers()
                handler.wfile.write(data)
                handler.wfile.flush()
        except OSError:
            handler._drop(reset=False)

    def _trickle(self, handler: _Handler, fault: Fault) -> None:
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(10**6))  # promises more than it sends, below the body bound
            handler.end_headers()
            handler.wfile.flush()
            deadline = time.monotonic() + self.max_stall
            while time.monotonic() < deadline and not self._stop.wait(fault.interval):
                handler.wfile.write(b" ")
                handler.wfile.flush()
        except OSError:
            pass
        handler._drop(reset=False)


def _ungrounded(answer: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(answer))
    for records in out.values():
        for record in records:
            if "quote" in record:
                record["quote"] = "This sentence was never written in the article at all."
            if "sentence" in record:
                record["sentence"] = 9999
            if "name" in record:
                record["name"] = "Nonexistent Person Zyx"
    return out


# ---------------------------------------------------------------------------- program
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.fake_server",
        description="Fault-injecting OpenAI-compatible chat-completions server on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = an ephemeral port (printed on start)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before every answer")
    parser.add_argument(
        "--fault", action="append", default=[], help=f"queue a fault for the next request (repeatable): {', '.join(FAULT_KINDS)}"
    )
    parser.add_argument("--default-fault", default="ok", help="behaviour when the queue is empty (default ok)")
    parser.add_argument("--model-name", default="fake")
    parser.add_argument("--max-stall", type=float, default=120.0, help="upper bound for hang / never_ending (s)")
    parser.add_argument("--verbose", action="store_true", help="log one line per request to stderr")
    parser.add_argument("--backlog", type=int, default=128, help="listen backlog (connections waiting to be accepted)")
    parser.add_argument(
        "--exit-on-stdin-eof", action="store_true", help="exit when standard input closes (the parent process went away)"
    )
    args = parser.parse_args(argv)
    try:
        server = FakeOpenAIServer(
            host=args.host,
            port=args.port,
            latency_ms=args.latency_ms,
            default=args.default_fault,
            faults=args.fault,
            model_name=args.model_name,
            max_stall=args.max_stall,
            verbose=args.verbose,
            backlog=args.backlog,
        )
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    if args.exit_on_stdin_eof:
        threading.Thread(target=lambda: (sys.stdin.read(), server._stop.set()), daemon=True).start()
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: server._stop.set())
    print(f"fake OpenAI server on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
