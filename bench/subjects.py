"""What is measured: each app as deployed (its package, unpacked, in a clean interpreter) and as
developed (a venv's site-packages), and the floor (the same interpreter importing nothing).

- This app's package is the prod deployment zip that deploy/build.py builds (chalice's packager,
  then unchecked-hash bytecode for every module), built from a copy of the working tree's sources
  under the cache directory: the working tree itself gets nothing written into it.
- The original's package is what its deployment shipped: its code beside `pip install --target`
  of its requirements, without bytecode. It is built once into the cache, together with a
  Python 3.13 venv holding the same requirements (the "as developed" reference).

A package runs the way Lambda runs it: `python -S -E` (no site-packages, no PYTHON* variables),
sys.path = [package, a runtime dir with boto3/botocore/... (what Lambda's Python runtime adds),
the standard library], the package as the working directory. "Without bytecode" is the same tree
with every .pyc removed, run with -B so that none is written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.events import Style

ROOT = Path(__file__).resolve().parent.parent
ORIGINAL_SOURCE = Path(__file__).resolve().parent / "original"
# What the Lambda Python runtime brings besides the standard library: the AWS SDK and its dependencies.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
CLEAN = ("-S", "-E", "-B")


class SetupError(Exception):
    """A subject could not be prepared (the message says how to fix it)."""


@dataclass(frozen=True)
class Tree:
    """One way to run an app's handler: interpreter, flags, sys.path entries, working directory."""

    key: str  # e.g. "this.package"
    label: str
    python: str
    flags: tuple[str, ...]
    path: tuple[str, ...]
    cwd: str
    clean: bool  # drop site-packages from sys.path (with -S there are none anyway)
    handler: str  # "module:attr"; "" is the floor: nothing imported, a handler that does nothing


@dataclass
class Subject:
    """One app: its trees, the environment its function gets, and how its events look."""

    name: str  # "this" or "original"
    label: str
    style: Style
    signin_field: str  # the body field the sign-in route reads the Google credential from
    trees: dict[str, Tree] = field(default_factory=dict)  # "package", "package_nopyc"/"package_pyc", "dev"
    env: dict[str, str] = field(default_factory=dict)
    package: dict[str, object] = field(default_factory=dict)  # sizes
    versions: list[str] = field(default_factory=list)

    @property
    def deployed(self) -> Tree:
        """The tree as this app's deployment ships it."""
        return self.trees["package"]


def packaged(key: str, label: str, package: Path, runtime: Path, handler: str) -> Tree:
    """A package run as Lambda runs it: the clean interpreter, [package, runtime, stdlib], cwd = package."""
    return Tree(key, label, sys.executable, CLEAN, (str(package), str(runtime)), str(package), True, handler)


def lambda_env(task_root: str) -> dict[str, str]:
    """What every function's environment holds, whatever the app: built from scratch, never inherited."""
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        # Not AWS_LAMBDA_FUNCTION_NAME: inside Lambda this app refuses development stages (issue 14),
        # and the bench runs its dev stage, for the local store and the local Google stand-in.
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": task_root,
    }


def tree_size(root: Path, *, skip_bytecode: bool = False) -> tuple[int, int]:
    """Bytes and files under root (symlinks not followed)."""
    size = files = 0
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or (skip_bytecode and name.endswith(".pyc")):
                continue
            size += os.path.getsize(path)
            files += 1
    return size, files


def zip_dir(root: Path, dest: Path) -> int:
    """Zip a tree the way a deployment would (deflated); the zip's size."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for dirpath, _, filenames in os.walk(root):
            for name in sorted(filenames):
                path = Path(dirpath, name)
                zf.write(path, path.relative_to(root))
    return dest.stat().st_size


def largest(root: Path, top: int = 8) -> list[dict[str, object]]:
    sizes = []
    for entry in root.iterdir():
        size = tree_size(entry)[0] if entry.is_dir() else entry.stat().st_size
        sizes.append((size, entry.name))
    return [{"name": n, "mib": round(s / 2**20, 2)} for s, n in sorted(sizes, reverse=True)[:top]]


def without_bytecode(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def runtime_dir(dest: Path) -> Path:
    """What the Lambda runtime adds to the standard library: boto3 and its dependencies (this venv's)."""
    if dest.exists():
        return dest
    dest.mkdir(parents=True)
    site = Path(sysconfig.get_paths()["purelib"])
    for name in RUNTIME_PROVIDED:
        source = site / name if (site / name).is_dir() else site / f"{name}.py"
        if not source.exists():
            raise SetupError(f"{source} is missing: run the bench with the project's venv (.venv/bin/python -m bench)")
        (dest / source.name).symlink_to(source, target_is_directory=source.is_dir())
    return dest


def _copy_sources(project: Path) -> None:
    """The files chalice packages, copied into `project`; chalice's cached zips there are kept."""
    for name in ("app.py", "requirements.txt"):
        shutil.copy(ROOT / name, project / name)
    shutil.rmtree(project / "chalicelib", ignore_errors=True)
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    chalice_dir = project / ".chalice"
    chalice_dir.mkdir(exist_ok=True)
    for entry in chalice_dir.iterdir():
        if entry.name != "deployments":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for entry in (ROOT / ".chalice").iterdir():
        if entry.is_file():
            shutil.copy(entry, chalice_dir / entry.name)


def build_package(cache: Path) -> Path:
    """The prod deployment zip of the working tree's sources, as `make package` builds it (cached by chalice)."""
    project = cache / "build" / "project"
    project.mkdir(parents=True, exist_ok=True)
    _copy_sources(project)
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    run = subprocess.run(  # noqa: S603 (this venv's python running the project's own build)
        [sys.executable, "-m", "deploy.build", "--project-dir", str(project), "--stage", "prod", "prebuild"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise SetupError(f"deploy/build.py could not build the package:\n{run.stdout}{run.stderr}")
    built = Path(run.stdout.strip().splitlines()[-1])
    for stale in built.parent.glob("*.zip"):  # zips of earlier sources: chalice would never reuse them
        if stale != built:
            stale.unlink()
    return built


def this_app(cache: Path, work: Path, env: dict[str, str], package_zip: Path | None = None) -> Subject:
    """This app: the deployment zip unpacked (with and without bytecode), and the working tree."""
    zip_path = package_zip or build_package(cache)
    package = work / "this-package"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(package)
        infos = zf.infolist()
    nopyc = without_bytecode(package, work / "this-package-nopyc")
    runtime = runtime_dir(work / "lambda-runtime")
    unpacked = sum(i.file_size for i in infos)
    subject = Subject("this", "this app (Chalice)", "literal", "credential", env=env)
    subject.package = {
        "source": str(zip_path),
        "zip_mib": round(zip_path.stat().st_size / 2**20, 2),
        "unpacked_mib": round(unpacked / 2**20, 2),
        "files": len(infos),
        "unpacked_mib_without_bytecode": round(
            sum(i.file_size for i in infos if not i.filename.endswith(".pyc")) / 2**20, 2
        ),
        "files_without_bytecode": sum(1 for i in infos if not i.filename.endswith(".pyc")),
        "largest": largest(package),
    }
    py = sys.executable
    subject.trees = {
        "package": packaged("this.package", "package, bytecode", package, runtime, "app:app"),
        "package_nopyc": packaged("this.package_nopyc", "package, no bytecode", nopyc, runtime, "app:app"),
        "dev": Tree("this.dev", "working tree + venv", py, ("-E",), (str(ROOT),), str(ROOT), False, "app:app"),
    }
    return subject


@dataclass(frozen=True)
class OriginalBuild:
    venv_python: Path
    app: Path  # the original's code alone (the dev tree's first sys.path entry)
    package: Path  # code + `pip install --target` of the requirements, no bytecode: as it was deployed
    package_pyc: Path  # the same, compiled (unchecked-hash, like this app's package)
    versions: list[str]


def _original_key() -> str:
    h = hashlib.sha256(f"{sys.version_info[:2]}".encode())
    for path in sorted(ORIGINAL_SOURCE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".txt"):
            h.update(str(path.relative_to(ORIGINAL_SOURCE)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _copy_original_code(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ORIGINAL_SOURCE / "main.py", dest / "main.py")
    shutil.copytree(ORIGINAL_SOURCE / "config", dest / "config", ignore=shutil.ignore_patterns("__pycache__"))


def _run(command: list[str], what: str) -> str:
    print(f"  $ {' '.join(command)}", file=sys.stderr, flush=True)
    run = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (venv, pip, compileall)
    if run.returncode != 0:
        raise SetupError(f"{what} failed (exit {run.returncode}):\n{run.stdout[-3000:]}{run.stderr[-3000:]}")
    return run.stdout


def build_original(cache: Path) -> OriginalBuild:
    """The original's venv and package, created once under cache/original/<key>/ (needs the package index)."""
    base = cache / "original" / _original_key()
    ready = base / "READY"
    venv = base / "venv"
    python = venv / "bin" / "python"
    build = OriginalBuild(python, base / "app", base / "package", base / "package-pyc", [])
    if ready.exists():
        return dataclasses.replace(build, versions=ready.read_text().split())
    print(f"Setting up the original app in {base} (once) ...", file=sys.stderr, flush=True)
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    requirements = ORIGINAL_SOURCE / "requirements.txt"
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    _run([sys.executable, "-m", "venv", str(venv)], "creating the original's venv")
    _run([*pip, "install", "-r", str(requirements)], "installing the original's requirements into its venv")
    deps = base / "deps"
    _run([*pip, "install", "--no-compile", "--target", str(deps), "-r", str(requirements)], "pip install --target")
    for entry in list(deps.iterdir()):  # what the Lambda runtime provides is not packaged
        if entry.name.split("-")[0].split(".")[0].lower() in ("boto3", "botocore", "s3transfer"):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    _copy_original_code(build.app)
    _copy_original_code(build.package)
    shutil.copytree(deps, build.package, dirs_exist_ok=True)
    shutil.rmtree(deps)
    shutil.copytree(build.package, build.package_pyc)
    _run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            "-j0",
            "--invalidation-mode",
            "unchecked-hash",
            str(build.package_pyc),
        ],
        "compiling the original's package",
    )
    freeze = _run([*pip, "freeze", "--all"], "pip freeze").split()
    ready.write_text("\n".join(freeze) + "\n")
    return dataclasses.replace(build, versions=freeze)


def original_app(cache: Path, work: Path, env: dict[str, str]) -> Subject:
    """The original (FastAPI + Mangum), vendored in bench/original."""
    built = build_original(cache)
    runtime = runtime_dir(work / "lambda-runtime")
    size, files = tree_size(built.package)
    size_pyc, files_pyc = tree_size(built.package_pyc)
    subject = Subject("original", "original (FastAPI + Mangum)", "proxy", "token", env=env, versions=built.versions)
    subject.package = {
        "source": "bench/original + pip install --target (no bytecode)",
        "zip_mib": round(zip_dir(built.package, work / "original.zip") / 2**20, 2),
        "unpacked_mib": round(size / 2**20, 2),
        "files": files,
        "unpacked_mib_with_bytecode": round(size_pyc / 2**20, 2),
        "files_with_bytecode": files_pyc,
        "largest": largest(built.package),
    }
    handler, app_dir = "main:handler", str(built.app)
    subject.trees = {
        "package": packaged("original.package", "package as deployed, no bytecode", built.package, runtime, handler),
        "package_pyc": packaged("original.package_pyc", "package, bytecode", built.package_pyc, runtime, handler),
        "dev": Tree(
            "original.dev", "code + venv", str(built.venv_python), ("-E",), (app_dir,), app_dir, False, handler
        ),
    }
    return subject


def floor(work: Path) -> Tree:
    """The same clean interpreter and harness, importing nothing; its handler does nothing."""
    empty = work / "empty"
    empty.mkdir(exist_ok=True)
    return Tree("floor", "floor: empty probe", sys.executable, CLEAN, (str(empty),), str(empty), True, "")
