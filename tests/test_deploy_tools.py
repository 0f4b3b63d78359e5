"""deploy/: the bytecode step on a small zip, the wheelhouse's freshness, and deploy's reuse check.

The real package is built and proven in test_package_build.py (slow); these run in milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import py_compile
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import deploy.build
from deploy.bytecode import CACHE_TAG, BytecodeError, add_bytecode, problems, pyc_name
from deploy.wheelhouse import MANIFEST, abi, offline_pip_env, staleness

CHALICE_TIME = (1980, 1, 1, 0, 0, 0)  # chalice writes every entry with this time


def _zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, CHALICE_TIME)
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data)
    return path


def _timestamp_pyc(tmp_path: Path, source: bytes) -> bytes:
    src = tmp_path / "stale.py"
    src.write_bytes(source)
    py_compile.compile(str(src), cfile=str(tmp_path / "stale.pyc"), doraise=True)
    return (tmp_path / "stale.pyc").read_bytes()


@pytest.fixture
def package(tmp_path: Path) -> Path:
    mod = b"VALUE = 42\n"
    return _zip(
        tmp_path / "deployment.zip",
        {
            "app.py": b"import pkg.mod\n",
            "pkg/__init__.py": b"",
            "pkg/mod.py": mod,
            "pkg/__pycache__/mod.cpython-311.pyc": b"another Python's bytecode",
            f"pkg/__pycache__/mod.{CACHE_TAG}.pyc": _timestamp_pyc(tmp_path, mod),  # a developer's run
            "legacy.py": b"X = 1\n",
            "legacy.pyc": b"Python 2 style bytecode beside its source",
            "sourceless/only.pyc": b"a module shipped without source: kept",
            "py2_only.py": b"print 'hello'\n",  # not Python 3: it cannot be imported either
            "pkg/data.txt": b"not code",
        },
    )


def test_every_source_gets_unchecked_hash_bytecode_and_stale_bytecode_goes(package: Path) -> None:
    result = add_bytecode(package, f"python{sys.version_info.major}.{sys.version_info.minor}")
    assert result.changed and result.modules == 4
    assert sorted(result.removed) == sorted(
        ["pkg/__pycache__/mod.cpython-311.pyc", f"pkg/__pycache__/mod.{CACHE_TAG}.pyc", "legacy.pyc"]
    )
    assert result.not_compiled == ("py2_only.py",)
    with zipfile.ZipFile(package) as zf:
        assert problems(zf) == []
        names = set(zf.namelist())
        pyc = zf.getinfo(f"pkg/__pycache__/mod.{CACHE_TAG}.pyc")
        header = zf.read(pyc)[:16]
    assert names == {
        "app.py",
        f"__pycache__/app.{CACHE_TAG}.pyc",
        "pkg/__init__.py",
        f"pkg/__pycache__/__init__.{CACHE_TAG}.pyc",
        "pkg/mod.py",
        f"pkg/__pycache__/mod.{CACHE_TAG}.pyc",
        "legacy.py",
        f"__pycache__/legacy.{CACHE_TAG}.pyc",
        "sourceless/only.pyc",
        "py2_only.py",
        "pkg/data.txt",
    }
    assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, source never checked
    assert (pyc.date_time, pyc.external_attr >> 16) == (CHALICE_TIME, 0o100644)  # readable by Lambda's user


def test_it_is_idempotent_and_deterministic(package: Path, tmp_path: Path) -> None:
    twin = tmp_path / "twin.zip"
    twin.write_bytes(package.read_bytes())
    add_bytecode(package)
    first = package.read_bytes()
    again = add_bytecode(package)
    assert not again.changed and again.modules == 4
    assert package.read_bytes() == first
    add_bytecode(twin)
    assert hashlib.sha256(twin.read_bytes()).digest() == hashlib.sha256(first).digest()


def test_an_edited_source_is_noticed(package: Path, tmp_path: Path) -> None:
    add_bytecode(package)
    with zipfile.ZipFile(package) as zf:
        files = {i.filename: zf.read(i) for i in zf.infolist()}
    files["pkg/mod.py"] = b"VALUE = 43\n"
    edited = _zip(tmp_path / "edited.zip", files)
    with zipfile.ZipFile(edited) as zf:
        assert problems(zf) == [f"pkg/__pycache__/mod.{CACHE_TAG}.pyc: compiled from another version of pkg/mod.py"]
    assert add_bytecode(edited).changed
    with zipfile.ZipFile(edited) as zf:
        assert problems(zf) == []


def test_python_loads_the_bytecode_instead_of_compiling(package: Path, tmp_path: Path) -> None:
    add_bytecode(package)
    task = tmp_path / "task"
    with zipfile.ZipFile(package) as zf:
        zf.extractall(task)
    child = (
        "import importlib.machinery as m, sys\n"
        "compiled = []\n"
        "orig = m.SourceFileLoader.source_to_code\n"
        "m.SourceFileLoader.source_to_code = lambda self, data, path, *a, **k: compiled.append(path) or orig(self, data, path, *a, **k)\n"
        f"sys.path.insert(0, {str(task)!r})\n"
        "import app, pkg.mod\n"
        "print(pkg.mod.VALUE, pkg.mod.__cached__.endswith('.pyc'), compiled)\n"
    )
    run = subprocess.run([sys.executable, "-S", "-E", "-B", "-c", child], capture_output=True, text=True, timeout=60)
    assert run.stdout.split(None, 2) == ["42", "True", "[]\n"], run.stderr


def test_bytecode_is_refused_for_another_runtime(package: Path) -> None:
    with pytest.raises(BytecodeError, match="version-specific"):
        add_bytecode(package, "python3.12")


def test_pyc_names_follow_the_import_system() -> None:
    assert pyc_name("app.py") == f"__pycache__/app.{CACHE_TAG}.pyc"
    assert pyc_name("a/b/c.py") == f"a/b/__pycache__/c.{CACHE_TAG}.pyc"


def test_a_wheelhouse_serves_only_the_requirements_it_was_made_for(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pyjwt>=2.8,<3\n")
    wheelhouse = tmp_path / "wheelhouse"
    assert "does not exist" in str(staleness(wheelhouse, requirements))
    wheelhouse.mkdir()
    (wheelhouse / "pyjwt-2.15.1-py3-none-any.whl").write_bytes(b"")
    manifest = {
        "requirements_sha256": hashlib.sha256(requirements.read_bytes()).hexdigest(),
        "abi": abi(),
        "architecture": "x86_64",
        "files": ["pyjwt-2.15.1-py3-none-any.whl"],
    }
    (wheelhouse / MANIFEST).write_text(json.dumps(manifest))
    assert staleness(wheelhouse, requirements) is None
    assert "arm64" in str(staleness(wheelhouse, requirements, "arm64"))
    requirements.write_text("pyjwt>=2.8,<3\nrequests>=2.31,<3\n")
    assert "another requirements.txt" in str(staleness(wheelhouse, requirements))
    assert offline_pip_env(wheelhouse) == {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse.resolve())}


@pytest.mark.parametrize(("says", "status"), [("Reusing existing deployment package.", 0), ("", 3)])
def test_deploy_fails_when_chalice_did_not_ship_the_prebuilt_zip(
    says: str, status: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "chalice"
    fake.write_text(f"#!/bin/sh\necho 'Creating deployment package.'\necho '{says}'\necho \"$@\" > args\n")
    fake.chmod(0o755)
    monkeypatch.setattr(deploy.build, "CHALICE", fake)
    monkeypatch.setattr(deploy.build, "prebuild", lambda project_dir, stage: project_dir / "prebuilt.zip")
    assert deploy.build.deploy(tmp_path, "prod", ["--profile", "p"]) == status
    assert (tmp_path / "args").read_text().split() == ["deploy", "--stage", "prod", "--profile", "p"]
