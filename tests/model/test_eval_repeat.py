"""Repeats of an eval on a real llama.cpp model at temperature 0: the repeats bypass the cache
and vary the seed, and greedy decoding gives the same answers, so every deviation is 0.
(The CLI's --repeat wiring is tested against the fake server in tests/integration/test_eval_cli.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from extractor.config import ExtractorConfig
from extractor.eval.repeats import summarise
from extractor.eval.runner import check_gates, discover_cases, run_eval
from extractor.pipeline import Extractor
from tests.support.gguf import ARTICLE, smollm2_gguf, write_dictating_prompts

pytestmark = pytest.mark.slow


def test_repeats_at_temperature_zero_have_zero_deviation(tmp_path: Path, monkeypatch) -> None:
    gguf = smollm2_gguf()
    monkeypatch.setenv("EXTRACTOR_PROMPTS_DIR", str(tmp_path / "prompts"))
    monkeypatch.setenv("EXTRACTOR_HOME", str(tmp_path / "home"))
    version = write_dictating_prompts(tmp_path / "prompts")
    case = tmp_path / "set" / "kano"
    case.mkdir(parents=True)
    (case / "article.txt").write_text(ARTICLE, encoding="utf-8")
    gold = {"id": "kano", "actors": [], "events": [{"type": "violence_against_civilians", "fatalities": 3}], "sanctions": []}
    (case / "gold.json").write_text(json.dumps(gold), encoding="utf-8")
    config = ExtractorConfig(model=f"local:{gguf}", prompt_version=version, n_ctx=2048, max_tokens=256,
                             temperature=0.0, seed=7, cache_dir=str(tmp_path / "cache"))  # fmt: skip
    reports = []
    for k in range(2):  # as `eval --repeat 2` does: the repeat with the cache off and the next seed
        with Extractor(config if k == 0 else config.replace(cache=False, seed=7 + k)) as extractor:
            reports.append(run_eval(extractor, discover_cases(tmp_path / "set"), console=Console(quiet=True)))
    assert [r["generation"]["seed"] for r in reports] == [7, 8]
    assert reports[1]["model_calls"] > 0  # the repeat really ran the model
    repeats = summarise(reports, {"overall_f1": 0.0}, check_gates)
    assert all(value == 0.0 for value in repeats["std"].values() if value is not None), repeats
    assert repeats["runs"][0] == repeats["runs"][1]
    assert repeats["pass_k"] == 1.0
