"""Precompiled bytecode inside a Lambda deployment zip.

Lambda unpacks the zip into /var/task, which is read-only: when the zip has no .pyc, every cold
start compiles every module it imports from source, and cannot keep the result. `add_bytecode`
rewrites a zip so that every `.py` has `__pycache__/<name>.cpython-313.pyc` beside it, compiled
by this interpreter (the one chalice picks the runtime from) with `UNCHECKED_HASH` invalidation:

- hash-based, not timestamp-based: chalice sets every entry's mtime to 1980-01-01 (for
  reproducible zips), so a timestamp .pyc would never match its source after unzipping;
- unchecked: Python loads it without reading and hashing the source. That is safe only because a
  deployed zip never changes and each .pyc is compiled from the very source bytes in the zip.
  Such files never go into a working tree, where they would make Python ignore later edits:
  everything here happens inside the zip.

Every bytecode file already in the zip is dropped first: chalice zips chalicelib/ as it finds it
on disk, `__pycache__` included (timestamp .pyc from the developer's runs, other Pythons' files).

Idempotent: a zip whose bytecode is already exactly right is left untouched, byte for byte.
    python -m deploy.bytecode build/prod/deployment.zip [--check]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import py_compile
import stat
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

CACHE_TAG = sys.implementation.cache_tag  # "cpython-313": the name Python 3.13 looks for
# co_filename inside each .pyc: where Lambda unpacks the zip, so the import system has nothing to
# rewrite (it fixes co_filename up to the real path when they differ, which costs a little).
TASK_ROOT = "/var/task"
UNCHECKED_HASH_FLAGS = 0b01  # PEP 552: bit 0 = hash-based, bit 1 = check_source
PYC_MODE = (stat.S_IFREG | 0o644) << 16


class BytecodeError(Exception):
    """The zip cannot get bytecode that its runtime would use."""


@dataclass(frozen=True)
class Result:
    changed: bool
    modules: int  # .py files that have their .pyc in the zip
    removed: tuple[str, ...]  # bytecode entries dropped: stale, foreign or from another Python
    not_compiled: tuple[str, ...]  # .py files this Python cannot compile (it could not import them either)

    def summary(self) -> str:
        if not self.changed:
            return f"bytecode already complete ({self.modules} modules)"
        text = f"added bytecode for {self.modules} modules"
        if self.removed:
            text += f", dropped {len(self.removed)} stale bytecode files"
        if self.not_compiled:
            text += f", {len(self.not_compiled)} files are not Python {sys.version_info.major}.{sys.version_info.minor}"
        return text


def this_runtime() -> str:
    """The Lambda runtime this interpreter's bytecode is for: chalice names the runtime the same way."""
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def pyc_name(source: str) -> str:
    """`a/b.py` -> `a/__pycache__/b.cpython-313.pyc` (zip names always use `/`)."""
    path = PurePosixPath(source)
    return str(path.parent / "__pycache__" / f"{path.stem}.{CACHE_TAG}.pyc").removeprefix("./")


def _is_bytecode(name: str, sources: set[str]) -> bool:
    parts = name.split("/")
    if "__pycache__" in parts[:-1]:
        return True
    # Python 2 style x.pyc beside x.py. A .pyc without a source is a sourceless module: kept.
    return name.endswith((".pyc", ".pyo")) and name[:-1] in sources


def _compiles(source: bytes, name: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(source, name, "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            return False
    return True


def problems(zf: zipfile.ZipFile) -> list[str]:
    """Why the zip's bytecode is not exactly right for this interpreter (empty: it is)."""
    names = set(zf.namelist())
    sources = {n for n in names if n.endswith(".py")}
    expected = {pyc_name(s): s for s in sources}
    found = [
        f"{n}: not the {CACHE_TAG} bytecode of a source in the zip"
        for n in sorted(names)
        if _is_bytecode(n, sources) and n not in expected
    ]
    for pyc, source_name in sorted(expected.items()):
        source = zf.read(source_name)
        if pyc not in names:
            if _compiles(source, source_name):
                found.append(f"{source_name}: no {CACHE_TAG} bytecode")
            continue
        with zf.open(pyc) as f:
            header = f.read(16)
        if header[:4] != importlib.util.MAGIC_NUMBER:
            found.append(f"{pyc}: compiled by another Python")
        elif int.from_bytes(header[4:8], "little") != UNCHECKED_HASH_FLAGS:
            found.append(f"{pyc}: not an unchecked-hash .pyc")
        elif header[8:16] != importlib.util.source_hash(source):
            found.append(f"{pyc}: compiled from another version of {source_name}")
    return found


def _compile_all(zf: zipfile.ZipFile, sources: Iterable[str], workdir: Path) -> tuple[dict[str, bytes], list[str]]:
    compiled: dict[str, bytes] = {}
    failed: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarnings from third-party sources are not ours to fix
        for name in sources:
            path = workdir / "src" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(zf.read(name))
            cfile = workdir / "pyc" / pyc_name(name)
            try:
                py_compile.compile(
                    str(path),
                    cfile=str(cfile),
                    dfile=f"{TASK_ROOT}/{name}",
                    doraise=True,
                    optimize=0,  # Lambda runs without -O: the plain .cpython-313.pyc, whatever our flags
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
            except py_compile.PyCompileError:
                failed.append(name)
                continue
            compiled[name] = cfile.read_bytes()
    return compiled, failed


def add_bytecode(zip_path: Path, runtime: str | None = None) -> Result:
    """Give every .py in the zip its unchecked-hash .pyc for this interpreter; drop all other bytecode."""
    if runtime is not None and runtime != this_runtime():
        raise BytecodeError(
            f"{zip_path} is for {runtime} but this is {this_runtime()}: bytecode is version-specific, "
            f"run this with the Python the package was built with"
        )
    with zipfile.ZipFile(zip_path) as zf:
        infos = zf.infolist()
        sources = sorted(i.filename for i in infos if i.filename.endswith(".py"))
        if not problems(zf):
            return Result(False, len([s for s in sources if pyc_name(s) in zf.NameToInfo]), (), ())
        source_set = set(sources)
        removed = tuple(i.filename for i in infos if _is_bytecode(i.filename, source_set))
        tmp_zip = zip_path.with_name(zip_path.name + ".bytecode-tmp")
        with tempfile.TemporaryDirectory(prefix="bytecode-") as workdir:
            compiled, failed = _compile_all(zf, sources, Path(workdir))
            with zipfile.ZipFile(tmp_zip, "w", zipfile.ZIP_DEFLATED) as out:
                for info in infos:
                    if info.filename in removed:
                        continue
                    entry = zipfile.ZipInfo(info.filename, info.date_time)
                    entry.external_attr = info.external_attr
                    entry.compress_type = info.compress_type
                    out.writestr(entry, zf.read(info))
                    if info.filename in compiled:
                        pyc = zipfile.ZipInfo(pyc_name(info.filename), info.date_time)
                        pyc.external_attr = PYC_MODE
                        pyc.compress_type = zipfile.ZIP_DEFLATED
                        out.writestr(pyc, compiled[info.filename])
    os.replace(tmp_zip, zip_path)
    return Result(True, len(compiled), removed, tuple(failed))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.bytecode", description=__doc__.split("\n\n")[0])
    parser.add_argument("zips", nargs="+", type=Path, help="deployment zips to complete in place")
    parser.add_argument("--check", action="store_true", help="only report what is missing or stale; exit 1 if any")
    args = parser.parse_args(argv)
    status = 0
    for zip_path in args.zips:
        if args.check:
            with zipfile.ZipFile(zip_path) as zf:
                found = problems(zf)
            for line in found[:20]:
                print(f"{zip_path}: {line}")
            print(f"{zip_path}: {'bytecode complete' if not found else f'{len(found)} problems'}")
            status |= bool(found)
        else:
            print(f"{zip_path}: {add_bytecode(zip_path).summary()}")
    return status


if __name__ == "__main__":
    sys.exit(main())
