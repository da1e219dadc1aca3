"""prompts.PromptSet: versioned templates, content hash, safe article rendering, layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from extractor.llm.prompts import PASS_NAMES, PromptSet, current_version, prompts_root

JINJA_ARTICLE = (
    "Gunmen attacked the {{ 7*7 }} checkpoint {% if x %}at dawn{% endif %} {# note #} and "
    "{{ undefined_thing }} fled; {%- raw %} braces {{ }} {% endraw %} stay."
)


@pytest.fixture
def prompts_copy(tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of prompts/, selected through EXTRACTOR_PROMPTS_DIR."""
    root = tmp_path / "prompts"
    shutil.copytree(repo_root / "prompts", root)
    monkeypatch.setenv("EXTRACTOR_PROMPTS_DIR", str(root))
    return root


def test_default_root_is_the_checkout(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXTRACTOR_PROMPTS_DIR", raising=False)
    assert prompts_root().resolve() in {(repo_root / "prompts").resolve(), *_packed_roots()}


def _packed_roots() -> set[Path]:
    import extractor

    return {(Path(extractor.__file__).resolve().parent / "_data" / "prompts").resolve()}


def test_load_uses_current_version(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXTRACTOR_PROMPTS_DIR", raising=False)
    current = (repo_root / "prompts" / "CURRENT").read_text(encoding="utf-8").strip()
    prompts = PromptSet.load()
    assert prompts.version == current == current_version()
    assert prompts.id.startswith(f"{current}+")
    assert len(prompts.content_hash) == 64
    assert prompts.id == f"{current}+{prompts.content_hash[:12]}"


def test_load_follows_current_file(prompts_copy: Path) -> None:
    current = (prompts_copy / "CURRENT").read_text().strip()
    shutil.copytree(prompts_copy / current, prompts_copy / "v-test")
    (prompts_copy / "CURRENT").write_text("v-test\n")
    assert PromptSet.load().version == "v-test"
    assert PromptSet.load(current).version == current


@pytest.mark.parametrize("version", ["v1", "v2", "v3", "v4", "v5", "v6", "v7"])
def test_all_templates_render(prompts_copy: Path, version: str) -> None:
    prompts = PromptSet.load(version)
    assert prompts.system.strip()
    assert "{{" not in prompts.system and "{%" not in prompts.system
    for name in PASS_NAMES:
        messages = prompts.messages(name, "Rebels took the town.", "2024-12-09")
        roles = ["system", "user", "user"] if prompts.task_message else ["system", "user"]
        assert [m["role"] for m in messages] == roles
        assert "2024-12-09" in messages[1]["content"]
        assert "Rebels took the town." in messages[1]["content"]
        assert f"Task: {name.upper()}" in messages[-1]["content"]
        if prompts.task_message:  # the article's message is the same for every pass
            assert "Task:" not in messages[1]["content"]
            assert messages[1] == prompts.messages("actors", "Rebels took the town.", "2024-12-09")[1]


def test_content_hash_is_stable_and_changes_with_any_template(prompts_copy: Path) -> None:
    first = PromptSet.load()
    assert PromptSet.load().content_hash == first.content_hash
    folder = prompts_copy / first.version
    seen = {first.content_hash}
    for template in sorted(folder.glob("*")):
        original = template.read_bytes()
        template.write_bytes(original + b"\n ")
        changed = PromptSet.load().content_hash
        assert changed not in seen, f"editing {template.name} did not change the hash"
        seen.add(changed)
        template.write_bytes(original)
        assert PromptSet.load().content_hash == first.content_hash
    # a new file counts too
    (folder / "extra.j2").write_text("x")
    assert PromptSet.load().content_hash not in seen


def test_renaming_a_file_changes_the_hash(prompts_copy: Path) -> None:
    before = PromptSet.load()
    folder = prompts_copy / before.version
    (folder / "notes.txt").write_text("same bytes")
    with_notes = PromptSet.load().content_hash
    (folder / "notes.txt").rename(folder / "notes2.txt")
    assert PromptSet.load().content_hash != with_notes


def test_unknown_version_names_known_versions(prompts_copy: Path) -> None:
    current = (prompts_copy / "CURRENT").read_text().strip()
    (prompts_copy / "v0-old").mkdir()
    with pytest.raises(ValueError) as info:
        PromptSet.load("v999")
    message = str(info.value)
    assert "v999" in message
    assert current in message and "v0-old" in message


def test_unknown_pass_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown pass"):
        PromptSet.load().messages("relations", "text")


@pytest.mark.parametrize("name", PASS_NAMES)
def test_jinja_syntax_in_the_article_is_rendered_verbatim(name: str) -> None:
    user = PromptSet.load().messages(name, JINJA_ARTICLE, None)[1]["content"]
    assert JINJA_ARTICLE in user
    assert "49" not in user


def test_article_whitespace_is_preserved() -> None:
    article = "Line one.\n\n  Indented line two.\t\tTabbed."
    user = PromptSet.load().messages("events", article)[1]["content"]
    assert article in user


def test_published_is_optional() -> None:
    prompts = PromptSet.load()
    without = prompts.messages("events", "Rebels took the town.")[1]["content"]
    with_date = prompts.messages("events", "Rebels took the town.", "2024-12-09")[1]["content"]
    assert "published" not in without.split("Rebels took the town.")[0]
    assert "2024-12-09" in with_date.split("Rebels took the town.")[0]


@pytest.mark.parametrize("version", ["v2", "v3", "v4"])
@pytest.mark.parametrize("published", [None, "2024-12-09"])
def test_layout_allows_prefix_reuse(published: str | None, version: str) -> None:
    """System identical for every pass; the article comes first (same prefix for every pass)
    and the pass-specific task follows it, in the same user message or (v4) in its own."""
    prompts = PromptSet.load(version)
    article = "DAMASCUS (AFP) - Rebels took the town of Homs on Sunday, the Syrian Observatory said. " * 3
    messages = {name: prompts.messages(name, article, published) for name in PASS_NAMES}
    systems = {m[0]["content"] for m in messages.values()}
    assert len(systems) == 1
    assert article not in systems.pop()
    prefixes = set()
    tails = set()
    for name, (_, *users) in messages.items():
        content = "\n".join(user["content"] for user in users)
        position = content.find(article)
        assert 0 <= position <= 80, f"{name}: the article is not at the start of the user message"
        prefixes.add(content[: position + len(article)])
        tail = content[position + len(article) :]
        assert name.upper() in tail.upper()
        tails.add(tail)
        if prompts.task_message:
            assert name.upper() not in users[0]["content"].upper()
    assert len(prefixes) == 1, "the three passes must share the system + article prefix"
    assert len(tails) == len(PASS_NAMES)


def test_system_prompt_lists_every_enum_value() -> None:
    from extractor.schemas import ActorKind, EventType, Measure, SanctionStatus

    system = PromptSet.load().system
    for enum in (ActorKind, EventType, Measure, SanctionStatus):
        for value in enum:
            assert value.value in system, value
