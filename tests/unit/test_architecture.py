"""The layout the README describes, checked: import contracts, module and function sizes,
docstrings on public names, and no test helpers inside the installed package."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "extractor"
MAX_MODULE_LINES = 420
MAX_FUNCTION_LINES = 80


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_import_contracts_hold() -> None:
    """pyproject.toml's [tool.importlinter] contracts: stages never import a concrete backend,
    the CLI or the batch runner; backends never import the stages; the scorer never imports
    the pipeline."""
    lint = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(lint).exists():
        pytest.skip("import-linter is not installed (a test extra)")
    done = subprocess.run([lint, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]
    assert "BROKEN" not in done.stdout


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_are_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)}: {lines} lines; split it by job"


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_functions_are_short_or_say_why(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for function in _functions(tree):
        length = function.end_lineno - function.lineno + 1
        if length > MAX_FUNCTION_LINES:
            doc = ast.get_docstring(function) or ""
            assert "Long because" in doc, f"{path.name}:{function.lineno} {function.name}: {length} lines, no reason given"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_public_names_have_docstrings(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{path.relative_to(ROOT)}: module docstring (why it exists) missing"
    missing = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            if not ast.get_docstring(node) and not _is_draft_model(node):
                missing.append(node.name)
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and not item.name.startswith("_"):
                    if not ast.get_docstring(item):
                        missing.append(f"{node.name}.{item.name}")
    assert not missing, f"{path.relative_to(ROOT)}: no docstring on {', '.join(missing)}"


def _is_draft_model(node: ast.AST) -> bool:
    """Draft answer models carry no docstring on purpose: pydantic would put it into the JSON
    schema the model is shown, and into every cache key."""
    return isinstance(node, ast.ClassDef) and node.name.endswith("Answer")


def test_no_test_helpers_ship_in_the_package() -> None:
    assert not (PACKAGE / "testing").exists()
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        assert "from tests" not in text and "import tests" not in text, path


def test_docs_point_inside_the_repository() -> None:
    for path in _modules():
        assert "../shared" not in path.read_text(encoding="utf-8"), f"{path}: points outside the repository"
