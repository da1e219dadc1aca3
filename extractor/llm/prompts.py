"""Versioned prompt templates (prompts/<version>/*.j2 + examples.json).

A prompt set is identified by its version name and a sha256 over every file in its folder;
both enter the cache key, so editing a template invalidates exactly the affected cache
entries. Message layout is chosen for llama.cpp's prefix reuse: the system prompt (rules and
few-shot examples) is identical for every call and the article comes before the task, so the
three record-type passes on one article re-use the evaluated system + article tokens and only
the short task is new. From v4 the task is a user message of its own (`task_message`): the
local backend reuses whole messages only (backends/local/batching).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, meta

from extractor.errors import ConfigError
from extractor.records import PASS_NAMES


def prompts_root() -> Path:
    """prompts/ next to the package in a checkout, or the copy packed into a wheel."""
    override = os.environ.get("EXTRACTOR_PROMPTS_DIR")
    if override:
        return Path(override)
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_data" / "prompts", package.parent / "prompts"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("prompts/ directory not found next to the extractor package")


def current_version(root: Path | None = None) -> str:
    """The default version: $EXTRACTOR_PROMPT_VERSION when set, else the one named in prompts/CURRENT."""
    override = os.environ.get("EXTRACTOR_PROMPT_VERSION", "").strip()
    if override:
        return override
    root = root or prompts_root()
    return (root / "CURRENT").read_text(encoding="utf-8").strip()


@dataclass
class PromptSet:
    """One version of the prompts: its templates, examples and content hash."""

    version: str
    root: Path = field(default_factory=prompts_root)

    def __post_init__(self) -> None:
        self.folder = self.root / self.version
        if not self.folder.is_dir():
            known = sorted(p.name for p in self.root.iterdir() if p.is_dir())
            raise ConfigError(f"unknown prompt version {self.version!r}; known: {', '.join(known)}")
        self._env = Environment(
            loader=FileSystemLoader(str(self.folder)),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            # Templates are read once per PromptSet, not re-checked on disk at every render.
            auto_reload=False,
        )
        # Examples are shown as compact JSON in schema field order (tojson would sort keys).
        self._env.filters["compact"] = lambda value: json.dumps(value, ensure_ascii=False, separators=(", ", ": "))

    @classmethod
    def load(cls, version: str | None = None) -> PromptSet:
        """The named version (default: CURRENT) from the prompts root."""
        root = prompts_root()
        return cls(version or current_version(root), root)

    @cached_property
    def content_hash(self) -> str:
        """sha256 over every file of the version's folder."""
        digest = hashlib.sha256()
        for path in sorted(self.folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(self.folder).as_posix().encode())
                digest.update(b"\0")
                digest.update(path.read_bytes())
        return digest.hexdigest()

    @property
    def id(self) -> str:
        """version+hash, as the output's meta carries it."""
        return f"{self.version}+{self.content_hash[:12]}"

    #: the files every pass renders or reads (the system prompt renders every example)
    SHARED_FILES = ("system.j2", "user.j2", "examples.json", "pipeline.json")

    def pass_id(self, pass_name: str) -> str:
        """What one pass's answers are cached under: a hash of the files that pass renders and
        reads, not of the whole version and not of its name, so a new version that changes one
        task re-runs that pass only (its other passes send the same messages, and the cache key
        also covers the messages themselves). Read once per pass, like the templates."""
        return self._pass_ids[pass_name]

    @cached_property
    def _pass_ids(self) -> dict[str, str]:
        ids = {}
        for pass_name in PASS_NAMES:
            digest = hashlib.sha256()
            for name in (*self.SHARED_FILES, f"{pass_name}.j2"):
                path = self.folder / name
                digest.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"<absent>") + b"\0")
            ids[pass_name] = f"{pass_name}+{digest.hexdigest()[:12]}"
        return ids

    @cached_property
    def settings(self) -> dict:
        """The version's pipeline settings (pipeline.json): how evidence is given, whether
        passes are gated by candidate sentences and whether the task is a message of its own.
        v1/v2 have none (quotes, no gating, task at the end of the user message)."""
        path = self.folder / "pipeline.json"
        settings = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        if settings.get("evidence", "quote") not in ("quote", "sentence"):
            raise ConfigError(f"{path}: evidence must be 'quote' or 'sentence'")
        return settings

    @property
    def style(self) -> str:
        """The evidence style: "quote" (copied quotes) or "sentence" (cited sentence numbers)."""
        return self.settings.get("evidence", "quote")

    @property
    def gated(self) -> bool:
        """True when passes without candidate sentences make no call (`text.candidates`)."""
        return bool(self.settings.get("gate_passes", False))

    @property
    def task_message(self) -> bool:
        """True when the task is a user message of its own after the article's."""
        return bool(self.settings.get("task_message", False))

    def task_variables(self, pass_name: str) -> frozenset[str]:
        """The variables a pass's task template uses: the planner computes only those hints."""
        return self._task_variables[pass_name]

    @cached_property
    def _task_variables(self) -> dict[str, frozenset[str]]:
        def used(name: str) -> frozenset[str]:
            source = self._env.loader.get_source(self._env, f"{name}.j2")[0]
            return frozenset(meta.find_undeclared_variables(self._env.parse(source)))

        return {name: used(name) for name in PASS_NAMES}

    @cached_property
    def examples(self) -> dict:
        """The few-shot examples (examples.json)."""
        path = self.folder / "examples.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    @cached_property
    def system(self) -> str:
        """The rendered system prompt (identical for every call)."""
        return self._env.get_template("system.j2").render(example=self.examples).strip()

    def task(self, pass_name: str, hints: dict | None = None) -> str:
        """One pass's rendered task. Without hints (a caller that did not plan the document)
        no sentence and no name is listed."""
        return self._env.get_template(f"{pass_name}.j2").render(**{"candidates": [], "names": [], **(hints or {})}).strip()

    def messages(
        self, pass_name: str, text: str, published: str | None = None, hints: dict | None = None
    ) -> list[dict[str, str]]:
        """The chat messages of one pass over one chunk's text; `hints` are variables of the
        task template (v3: candidate sentence numbers; v6: the tagger's names)."""
        if pass_name not in PASS_NAMES:
            raise ValueError(f"unknown pass {pass_name!r}")
        task = self.task(pass_name, hints)
        # The article goes in as a template *variable*: its own braces are never interpreted.
        user = self._env.get_template("user.j2").render(text=text, published=published, task=task).strip()
        messages = [{"role": "system", "content": self.system}, {"role": "user", "content": user}]
        if self.task_message:
            messages.append({"role": "user", "content": task})
        return messages
