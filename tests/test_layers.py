"""The shape of the code, pinned: only the pipeline knows chalice, and the use cases know no HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "chalicelib"


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_only_the_pipeline_imports_chalice() -> None:
    importers = {
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*.py")
        if any(name == "chalice" or name.startswith("chalice.") for name in imports(path))
    }
    assert importers == {"chalicelib/web.py"}


@pytest.mark.parametrize("module", ["tracker.py", "reminders.py", "mailer.py", "transfer.py", "calendar_feed.py"])
def test_the_use_cases_import_nothing_http_shaped(module: str) -> None:
    http = {"chalice", "chalicelib.web", "chalicelib.inputs", "chalicelib.errors", "chalicelib.auth", "requests"}
    used = imports(PACKAGE / module)
    assert not {name for name in used if name in http or name.rsplit(".", 1)[0] in http}, used
    assert any(name.startswith("chalicelib.") for name in used)  # the check reads real imports


def test_app_py_is_the_route_table() -> None:
    """app.py defines route functions and nothing that is not one (no framework, no helpers of the pipeline)."""
    tree = ast.parse((ROOT / "app.py").read_text())
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    routes = [f for f in functions if any(isinstance(d, ast.Call) for d in f.decorator_list)]
    helpers = {f.name for f in functions} - {f.name for f in routes}
    # the one shared way an application, or an interview, becomes a response
    assert helpers <= {"_application", "_interview"}
    assert not [node for node in tree.body if isinstance(node, ast.ClassDef)]
