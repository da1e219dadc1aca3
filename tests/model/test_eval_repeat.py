"""`extractor eval --repeat K` on a real llama.cpp model at temperature 0: the repeats bypass the
cache and vary the seed, and greedy decoding gives the same answers, so every deviation is 0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import cli_env
from tests.support.gguf import ARTICLE, smollm2_gguf, write_dictating_prompts

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_repeats_at_temperature_zero_have_zero_deviation(tmp_path: Path) -> None:
    gguf = smollm2_gguf()
    prompts = tmp_path / "prompts"
    version = write_dictating_prompts(prompts)
    case = tmp_path / "set" / "kano"
    case.mkdir(parents=True)
    (case / "article.txt").write_text(ARTICLE, encoding="utf-8")
    gold = {"id": "kano", "actors": [], "events": [{"type": "violence_against_civilians", "fatalities": 3}], "sanctions": []}
    (case / "gold.json").write_text(json.dumps(gold), encoding="utf-8")
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "extractor.cli", "eval", "--fixtures", str(tmp_path / "set"), "--model", f"local:{gguf}",
         "--prompt-version", version, "--repeat", "3", "--temperature", "0", "--seed", "7",
         "--cache-dir", str(tmp_path / "cache"), "--report-json", str(report), "--min-f1", "0"],
        env=cli_env(tmp_path / "home", EXTRACTOR_PROMPTS_DIR=str(prompts)), capture_output=True, text=True,
        timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    repeats = json.loads(report.read_text())["repeats"]
    assert repeats["k"] == 3 and repeats["seeds"] == [7, 8, 9]
    assert all(value == 0.0 for value in repeats["std"].values() if value is not None), repeats
    assert repeats["runs"][0] == repeats["runs"][1] == repeats["runs"][2]
    assert repeats["pass_k"] == 1.0
