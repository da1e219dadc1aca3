"""Shared pieces: machine facts, the loopback fake server, eval cases, small statistics."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EVALS = REPO / "evals"
SHORT_CASE = "kenya-nurses-peaceful-march-nairobi-kisumu"
BACKLOG = 512


# ---------------------------------------------------------------------------- context
@dataclass
class Context:
    quick: bool = False
    cache_dir: Path | None = None  # a response cache an eval run already filled
    eval_report: Path | None = None  # an `extractor eval --report-json` file
    local_case: str = SHORT_CASE
    local_repeats: int = 2  # pipeline/raw pairs on the local model; the fastest of each side is compared
    server: str = "process"  # process | thread: where the fake server runs
    work: Path = field(default_factory=lambda: Path("/tmp"))
    verbose: bool = True

    def log(self, message: str) -> None:
        if self.verbose:
            print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- machine
def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    cpu_model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "ram_gb": ram_gb,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": {
            dist: _version(dist)
            for dist in ("extractor", "llama-cpp-python", "instructor", "openai", "pydantic", "httpx", "httpx2", "diskcache")
            if _version(dist) != "not installed" or dist in ("llama-cpp-python", "instructor", "openai")
        },
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def busy_processes(limit: int = 5) -> list[str]:
    """Other processes using CPU right now (ps), so the report can say what load was present."""
    try:
        out = subprocess.run(
            ["ps", "-eo", "pid,pcpu,etime,args", "--sort=-pcpu"], capture_output=True, text=True, timeout=5
        ).stdout.splitlines()[1:]
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out:
        parts = line.split(None, 3)
        if len(parts) < 4 or int(parts[0]) == os.getpid():
            continue
        if float(parts[1]) < 20:
            break
        rows.append(f"{parts[1]}% CPU: {parts[3][:140]}")
        if len(rows) >= limit:
            break
    return rows


# ---------------------------------------------------------------------------- cases
@dataclass
class Case:
    id: str
    text: str
    published: str | None


def eval_cases(only: list[str] | None = None) -> list[Case]:
    cases = []
    for folder in sorted(p for p in EVALS.iterdir() if (p / "gold.json").exists() and (p / "article.txt").exists()):
        if only and folder.name not in only:
            continue
        gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
        published = gold.get("published")
        cases.append(Case(folder.name, (folder / "article.txt").read_text(encoding="utf-8"), published and str(published)))
    return cases


# ---------------------------------------------------------------------------- fake server
class LoopbackServer:
    """tests.support.fake_server, as a child process (default) or in this process's thread.

    A child process keeps the server's own CPU time out of the client's measurements (and off
    the client's GIL); `thread` is for tests that must not spawn processes.
    """

    def __init__(self, latency_ms: float = 0.0, mode: str = "process"):
        self.mode = mode
        self.latency_ms = latency_ms
        self._proc: subprocess.Popen | None = None
        self._server: Any = None
        self.url = ""

    def start(self) -> LoopbackServer:
        if self.mode == "thread":
            from tests.support.fake_server import FakeOpenAIServer

            self._server = FakeOpenAIServer(latency_ms=self.latency_ms, backlog=BACKLOG).start()
            self.url = self._server.url
            return self
        # As `python -m tests.support.fake_server`, with a listen backlog that takes a burst of
        # 100+ simultaneous connections (socketserver's default of 5 drops them: connection resets),
        # exiting when this process goes away (its stdin, our pipe, reaches EOF).
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.fake_server", "--port", "0", "--latency-ms", str(self.latency_ms),
             "--backlog", str(BACKLOG), "--exit-on-stdin-eof"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=str(REPO),
        )  # fmt: skip
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if "http://" not in line:
            self.stop()
            raise RuntimeError(f"fake server did not start: {line!r}")
        self.url = line[line.index("http://") :]
        return self

    def _control(self, payload: dict[str, Any]) -> None:
        if self._server is not None:
            if "latency_ms" in payload:
                self._server.latency_ms = payload["latency_ms"]
            if payload.get("clear_requests"):
                self._server.clear_requests()
            return
        request = urllib.request.Request(
            self.url.rsplit("/v1", 1)[0] + "/_control/faults",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def set_latency(self, latency_ms: float) -> None:
        self.latency_ms = latency_ms
        self._control({"latency_ms": latency_ms})

    def clear(self) -> None:
        self._control({"clear_requests": True})

    def request_bodies(self) -> list[dict[str, Any]]:
        """Bodies of the chat-completion requests received since the last clear()."""
        if self._server is not None:
            return [r.body for r in self._server.completions()]
        with urllib.request.urlopen(self.url.rsplit("/v1", 1)[0] + "/_control/requests", timeout=30) as response:
            rows = json.loads(response.read())
        return [r["body"] for r in rows if str(r.get("path", "")).endswith("/chat/completions")]

    def cpu_seconds(self) -> float | None:
        """CPU time the server process has used so far (None when it runs in this process)."""
        if self._proc is None:
            return None
        try:
            fields = Path(f"/proc/{self._proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
            self._proc = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------- statistics
def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if value != value:  # nan
            return "–"
        return f"{value:,.{digits}f}"
    return str(value)
