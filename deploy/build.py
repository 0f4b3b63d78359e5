"""The package and the deploy, with precompiled bytecode: what `make package` and `make deploy` run.

Both chalice paths ship the zip that chalice's LambdaDeploymentPackager leaves in
`.chalice/deployments/<md5>-python3.13.zip`. Its name is a hash of requirements.txt, app.py,
every file under chalicelib/ and chalice's own runtime files, and chalice reuses the file when it
exists ("Reusing existing deployment package."). So the step both paths share is:

1. `prebuild`: run that packager (chalice's code, built the way chalice's build stage builds it)
   to create or find the cached zip, and complete it with bytecode in place (deploy/bytecode.py);
2. run `chalice package` or `chalice deploy` with PYTHONDONTWRITEBYTECODE=1 -- chalice imports
   app.py, and a .pyc written into chalicelib/__pycache__ would change the hash -- so chalice
   finds the same name and ships the zip of step 1.

`package` then completes the output deployment.zip as well (a no-op when chalice reused the
prebuilt zip), so the package has bytecode whatever happened. `deploy` cannot fix what it has
uploaded: it checks that chalice reused the prebuilt zip and exits 3 if it did not (the function
works, without bytecode; deploy again).

When .wheelhouse/ (`make wheelhouse`) matches requirements.txt, pip is pointed at it with
PIP_NO_INDEX=1 and PIP_FIND_LINKS, which chalice's pip subprocesses inherit: the build is offline.

    python -m deploy.build --stage prod package --merge-template .chalice/merge-template-prod.json build/prod
    python -m deploy.build --stage prod deploy [-- extra chalice deploy options, e.g. --profile NAME]
    python -m deploy.build --stage prod prebuild      # only the cached zip, completed with bytecode
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from chalice.cli.factory import CLIFactory
from chalice.config import Config
from chalice.deploy.packager import (
    DependencyBuilder,
    LambdaDeploymentPackager,
    NoSuchPackageError,
    PackageDownloadError,
    PipRunner,
    SubprocessPip,
)
from chalice.utils import UI, OSUtils

from deploy.bytecode import BytecodeError, add_bytecode, this_runtime
from deploy.wheelhouse import DEFAULT_DIR as DEFAULT_WHEELHOUSE
from deploy.wheelhouse import MAKE_HINT, offline_pip_env, staleness

ROOT = Path(__file__).resolve().parent.parent
CHALICE = Path(sys.executable).parent / "chalice"
REUSED = "Reusing existing deployment package."
MISSING_DEPENDENCIES = "Could not install dependencies"  # chalice's warning, after which it packages anyway
EXIT_DEPLOYED_WITHOUT_BYTECODE = 3


class BuildError(Exception):
    pass


def chalice_config(project_dir: Path, stage: str) -> Config:
    """The stage's configuration as chalice reads it (this does not import the app)."""
    return CLIFactory(str(project_dir)).create_config_obj(chalice_stage_name=stage)


def use_wheelhouse(wheelhouse: Path | None, requirements: Path, architecture: str, *, required: bool) -> bool:
    """Point pip at the wheelhouse when it serves requirements.txt; say why not otherwise."""
    if wheelhouse is None:
        return False
    why_not = staleness(wheelhouse, requirements, architecture)
    if why_not is None:
        os.environ.update(offline_pip_env(wheelhouse))
        print(f"Dependencies from {wheelhouse.resolve()} (offline).")
        return True
    if required:
        raise BuildError(f"{why_not}: {MAKE_HINT}")
    if wheelhouse.exists():
        print(f"Note: not using it, {why_not}; downloading from the package index ({MAKE_HINT} to build offline).")
    return False


class RecordingUI(UI):
    """chalice's UI, also keeping what the packager says (it only warns about missing dependencies)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []

    def write(self, msg: str) -> None:
        self.text.append(msg)
        super().write(msg)


def prebuild(project_dir: Path, stage: str) -> Path:
    """The zip chalice will ship for this project and stage, created if needed, with bytecode."""
    config = chalice_config(project_dir, stage)
    if config.automatic_layer:
        raise BuildError(f"stage {stage} sets automatic_layer: deploy/build.py completes one function zip, not layers")
    runtime = config.lambda_python_version
    if runtime != this_runtime():
        raise BuildError(f"chalice would deploy {runtime} from this Python ({sys.version.split()[0]}); use Python 3.13")
    osutils = OSUtils()
    ui = RecordingUI()
    architecture = config.lambda_architecture
    packager = LambdaDeploymentPackager(
        osutils=osutils,
        dependency_builder=DependencyBuilder(
            osutils=osutils,
            pip_runner=PipRunner(pip=SubprocessPip(osutils=osutils), osutils=osutils),
            architecture=architecture,
        ),
        ui=ui,
        architecture=architecture,
    )
    zip_path = Path(packager.create_deployment_package(str(project_dir), runtime))
    if any(MISSING_DEPENDENCIES in line for line in ui.text):
        zip_path.unlink()  # chalice would reuse this incomplete zip on every later build
        raise BuildError(f"some dependencies have no file usable on Lambda ({runtime}, {architecture}); see above")
    print(f"{zip_path.relative_to(project_dir)}: {add_bytecode(zip_path, runtime).summary()}")
    return zip_path


def _run_chalice(args: Sequence[str], project_dir: Path) -> tuple[int, str]:
    """Run the venv's chalice in the project, echoing and returning its output."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [str(CHALICE), *args]
    print("$ " + " ".join(command), flush=True)
    with subprocess.Popen(  # noqa: S603 (our own venv's chalice, arguments from our CLI)
        command, cwd=project_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    return process.returncode, "".join(lines)


def package(project_dir: Path, stage: str, out_dir: Path, merge_template: str | None = None) -> Path:
    """`chalice package` of the prebuilt zip; the output's deployment.zip, with bytecode."""
    prebuild(project_dir, stage)
    merge = ["--merge-template", merge_template] if merge_template else []
    rc, output = _run_chalice(["package", "--stage", stage, *merge, str(out_dir.resolve())], project_dir)
    if rc != 0:
        raise BuildError(f"chalice package failed (exit {rc})")
    deployment_zip = out_dir / "deployment.zip"
    result = add_bytecode(deployment_zip, this_runtime())
    if REUSED in output and not result.changed:
        print(f"{deployment_zip}: the prebuilt package, {result.summary()}")
    else:  # the sources changed while chalice ran, or chalice stopped reusing its cached zip
        print(f"{deployment_zip}: chalice built its own package; {result.summary()}")
    return deployment_zip


def deploy(project_dir: Path, stage: str, chalice_args: Sequence[str] = ()) -> int:
    """`chalice deploy` of the prebuilt zip; chalice's exit status, or 3 if it shipped another zip."""
    prebuild(project_dir, stage)
    rc, output = _run_chalice(["deploy", "--stage", stage, *chalice_args], project_dir)
    if rc == 0 and REUSED not in output:
        print(
            "error: chalice built its own package instead of the prebuilt one (did a source change meanwhile?):"
            " the function is deployed WITHOUT precompiled bytecode. Run `make deploy` again.",
            file=sys.stderr,
        )
        return EXIT_DEPLOYED_WITHOUT_BYTECODE
    return rc


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--project-dir", type=Path, default=ROOT)
    parser.add_argument("--stage", default="prod")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--wheelhouse",
        type=Path,
        help=f"build offline from this wheelhouse, or fail (default: {DEFAULT_WHEELHOUSE.name}/ when it is up to date)",
    )
    where.add_argument("--no-wheelhouse", action="store_true", help="download the dependencies from the package index")
    commands = parser.add_subparsers(dest="command", required=True)
    pkg = commands.add_parser("package", help="chalice package, with bytecode in deployment.zip")
    pkg.add_argument("--merge-template", help="passed to chalice package (relative to the project dir)")
    pkg.add_argument("out", type=Path)
    dep = commands.add_parser("deploy", help="chalice deploy, with bytecode in the uploaded zip")
    dep.add_argument("chalice_args", nargs=argparse.REMAINDER, help="more chalice deploy options, after --")
    commands.add_parser("prebuild", help="only create or complete the cached zip chalice will ship")
    args = parser.parse_args(argv)

    project_dir = args.project_dir.resolve()
    try:
        architecture = chalice_config(project_dir, args.stage).lambda_architecture
        use_wheelhouse(
            None if args.no_wheelhouse else args.wheelhouse or DEFAULT_WHEELHOUSE,
            project_dir / "requirements.txt",
            architecture,
            required=args.wheelhouse is not None,
        )
        if args.command == "package":
            package(project_dir, args.stage, args.out, args.merge_template)
        elif args.command == "deploy":
            return deploy(project_dir, args.stage, [a for a in args.chalice_args if a != "--"])
        else:
            print(prebuild(project_dir, args.stage))
    except (BuildError, BytecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (NoSuchPackageError, PackageDownloadError) as exc:
        print(f"error: the dependencies could not be downloaded ({exc}); offline? {MAKE_HINT}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
