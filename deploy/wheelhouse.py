"""`make wheelhouse`: every file `chalice package` downloads for requirements.txt, kept in .wheelhouse/.

Chalice builds the function's dependencies by running `pip download` (first for this machine,
then, for any package whose file does not suit Lambda, with `--platform manylinux_2_17..2_34_<machine>
--implementation cp --abi cp313 --only-binary=:all:`), which needs the package index. To package
offline -- in the tests, or on a plane -- this runs that same download logic (chalice's own
DependencyBuilder, for the stage's Lambda architecture and this interpreter's ABI) once, online,
into .wheelhouse/. A later build run with `PIP_NO_INDEX=1 PIP_FIND_LINKS=<repo>/.wheelhouse`
(see `offline_pip_env`) makes chalice's pip find every file there instead.

MANIFEST.json records what the wheelhouse was made for (requirements.txt's hash, ABI,
architecture); a wheelhouse made for another requirements.txt is stale and is not used.
    python -m deploy.wheelhouse [--stage prod] [--project-dir .] [--dest .wheelhouse] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / ".wheelhouse"
MANIFEST = "MANIFEST.json"
MAKE_HINT = "run `make wheelhouse` (it downloads them once, from the package index)"


class WheelhouseError(Exception):
    pass


def abi() -> str:
    """The wheel ABI tag of this interpreter, which is the Lambda runtime's (cp313)."""
    return f"cp{sys.version_info.major}{sys.version_info.minor}"


def _digest(requirements: Path) -> str:
    return hashlib.sha256(requirements.read_bytes()).hexdigest()


def read_manifest(wheelhouse: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((wheelhouse / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def staleness(wheelhouse: Path, requirements: Path, architecture: str = "x86_64") -> str | None:
    """Why the wheelhouse cannot serve requirements.txt offline, or None when it can."""
    manifest = read_manifest(wheelhouse)
    if manifest is None:
        return f"{wheelhouse} does not exist or has no {MANIFEST}"
    if manifest.get("requirements_sha256") != _digest(requirements):
        return f"{wheelhouse} was made for another {requirements.name}"
    if (manifest.get("abi"), manifest.get("architecture")) != (abi(), architecture):
        return f"{wheelhouse} was made for {manifest.get('abi')}/{manifest.get('architecture')}, not {abi()}/{architecture}"
    missing = [f for f in manifest.get("files", []) if not (wheelhouse / f).is_file()]
    if missing:
        return f"{wheelhouse} lacks {', '.join(missing[:3])}"
    return None


def offline_pip_env(wheelhouse: Path) -> dict[str, str]:
    """The environment that makes pip (and so chalice's pip subprocesses) use only the wheelhouse."""
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse.resolve())}


def build(requirements: Path, dest: Path, architecture: str = "x86_64") -> list[str]:
    """Download what chalice's packager downloads for `requirements` into `dest` (replaced); the file names."""
    from chalice.deploy.packager import DependencyBuilder
    from chalice.utils import OSUtils

    # This is the step that goes online: undo an offline environment left from a build.
    os.environ.pop("PIP_NO_INDEX", None)
    if os.environ.get("PIP_FIND_LINKS") == str(dest.resolve()):
        del os.environ["PIP_FIND_LINKS"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{dest.name}-", dir=dest.parent))
    try:
        builder = DependencyBuilder(OSUtils(), architecture=architecture)
        # The private step of chalice's build_site_packages() that fills its download directory:
        # chalice then installs from that directory, which is all an offline build needs to find.
        _, missing = builder._download_dependencies(abi(), str(staging), str(requirements))
        if missing:
            names = ", ".join(sorted(p.identifier for p in missing))
            raise WheelhouseError(f"no file usable on Lambda ({abi()}, {architecture}) for: {names}")
        files = sorted(p.name for p in staging.iterdir())
        manifest = {
            "requirements_sha256": _digest(requirements),
            "abi": abi(),
            "architecture": architecture,
            "files": files,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)
        return files
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.wheelhouse", description=__doc__.split("\n\n")[0])
    parser.add_argument("--project-dir", type=Path, default=ROOT)
    parser.add_argument("--stage", default="prod", help="the stage whose lambda_architecture to download for")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--force", action="store_true", help="download again even when it is up to date")
    args = parser.parse_args(argv)
    from deploy.build import chalice_config

    architecture = chalice_config(args.project_dir, args.stage).lambda_architecture
    requirements = args.project_dir / "requirements.txt"
    if not args.force and staleness(args.dest, requirements, architecture) is None:
        print(f"{args.dest}: up to date for {requirements} ({abi()}, {architecture})")
        return 0
    try:
        files = build(requirements, args.dest, architecture)
    except WheelhouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.dest}: {len(files)} files for {requirements} ({abi()}, {architecture})")
    for name in files:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
