"""Spawning measured processes (bench/child.py) and the statistics over what they report."""

from __future__ import annotations

import json
import math
import re
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.subjects import Tree

CHILD = Path(__file__).resolve().parent / "child.py"
MARKER = "@@bench-import@@"
STEP = "@@bench-step@@"
FUNCTION_NAME = "job-hunt-tracker-bench"


class ChildFailed(SystemExit):
    """A measured process failed: the run stops, with what the process said."""


class Runner:
    """Runs jobs in fresh child processes; every job gets its own result file under `work`."""

    def __init__(self, work: Path, timeout: float = 900.0) -> None:
        self.work = work
        self.timeout = timeout
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def _job(self, tree: Tree, mode: str, routes: Sequence[dict[str, Any]], **extra: Any) -> tuple[Path, Path]:
        tag = uuid.uuid4().hex[:12]
        result = self.work / f"result-{tag}.json"
        job = {
            "mode": mode,
            "path": list(tree.path),
            "clean": tree.clean,
            "handler": tree.handler,
            "origin": extra.pop("origin"),
            "routes": list(routes),
            "function_name": FUNCTION_NAME,
            "memory_mb": "512",
            "line_buffered_stdout": True,
            "result_path": str(result),
            **extra,
        }
        path = self.work / f"job-{tag}.json"
        path.write_text(json.dumps(job))
        return path, result

    def command(self, tree: Tree, job: Path, flags: Sequence[str] = ()) -> list[str]:
        return [tree.python, *tree.flags, *flags, str(CHILD), str(job)]

    def run(
        self,
        tree: Tree,
        env: dict[str, str],
        mode: str,
        routes: Sequence[dict[str, Any]] = (),
        **extra: Any,
    ) -> dict[str, Any]:
        """One fresh process; its results plus the parent's view of its timeline (monotonic clock)."""
        job, result = self._job(tree, mode, routes, **extra)
        with open(self.logs / "stdout.log", "ab") as stdout:
            started = time.monotonic_ns()
            proc = subprocess.run(  # noqa: S603 (the measured interpreter running bench/child.py)
                self.command(tree, job),
                cwd=tree.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=subprocess.PIPE,
                timeout=self.timeout,
                check=False,
            )
            ended = time.monotonic_ns()
        res = self._result(result, proc.returncode, proc.stderr.decode(errors="replace"), tree, mode)
        res["wall_ns"] = ended - started
        res["spawn_to_ready_ns"] = res["t_ready"] - started
        if "t_first_done" in res:
            res["spawn_to_first_response_ns"] = res["t_first_done"] - started
        return res

    def lockstep(
        self,
        tree: Tree,
        env: dict[str, str],
        route: dict[str, Any],
        calls: int,
        after_each: Callable[[], int],
        **extra: Any,
    ) -> list[int]:
        """`calls` calls of one route in one process; after each, `after_each()` is read (the child waits)."""
        job, result = self._job(tree, "lockstep", [route], iters=calls, **extra)
        seen: list[int] = []
        other: list[str] = []
        with (
            open(self.logs / "stdout.log", "ab") as stdout,
            subprocess.Popen(  # noqa: S603 (the measured interpreter running bench/child.py)
                self.command(tree, job),
                cwd=tree.cwd,
                env=env,
                stdin=subprocess.PIPE,
                stdout=stdout,
                stderr=subprocess.PIPE,
                text=True,
            ) as proc,
        ):
            assert proc.stdin is not None and proc.stderr is not None
            for line in proc.stderr:
                if line.startswith(STEP):
                    seen.append(after_each())
                    proc.stdin.write("\n")
                    proc.stdin.flush()
                else:
                    other.append(line)
            proc.stdin.close()
            code = proc.wait(self.timeout)
        self._result(result, code, "".join(other), tree, "lockstep")
        return seen

    def importtime(self, tree: Tree, env: dict[str, str], origin: str) -> str:
        """The child's `-X importtime` lines for the handler's import alone."""
        job, result = self._job(tree, "cold", [], origin=origin, marker=True)
        proc = subprocess.run(  # noqa: S603 (the measured interpreter running bench/child.py)
            [tree.python, *tree.flags, "-X", "importtime", str(CHILD), str(job)],
            cwd=tree.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )
        self._result(result, proc.returncode, proc.stderr, tree, "importtime")
        return proc.stderr.split(MARKER + "\n", 1)[1]

    def python_pass(self, tree: Tree, env: dict[str, str]) -> int:
        """Nanoseconds for `python <flags> -c pass`, spawn to exit: the interpreter's own floor."""
        started = time.monotonic_ns()
        subprocess.run([tree.python, *tree.flags, "-c", "pass"], cwd=tree.cwd, env=env, check=True)  # noqa: S603
        return time.monotonic_ns() - started

    def _result(self, path: Path, code: int, stderr: str, tree: Tree, mode: str) -> dict[str, Any]:
        try:
            res: dict[str, Any] = json.loads(path.read_text())
            path.unlink()
        except (OSError, ValueError):
            res = {"error": f"exited {code} without a result"}
        if "error" in res or code != 0:
            raise ChildFailed(
                f"\nFAILED: {tree.key} ({tree.label}), {mode} (exit {code}):\n{res.get('error', '')}\n"
                f"--- stderr (tail) ---\n{stderr[-3000:]}"
            )
        return res


# ---- statistics -----------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], p: float) -> float:
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summarize(values: Sequence[float], scale: float = 1.0, digits: int = 2) -> dict[str, float]:
    """n, median, min, p90, p99, max and mean of values / scale."""
    ordered = sorted(v / scale for v in values)

    def r(v: float) -> float:
        return round(v, digits)

    return {
        "n": len(ordered),
        "median": r(statistics.median(ordered)),
        "min": r(ordered[0]),
        "p90": r(percentile(ordered, 90)),
        "p99": r(percentile(ordered, 99)),
        "max": r(ordered[-1]),
        "mean": r(statistics.fmean(ordered)),
    }


MS = 1e6  # ns per ms
US = 1e3  # ns per µs
MIB_KB = 1024.0  # ru_maxrss is in KiB on Linux

_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)\s*$")


def parse_importtime(runs: Sequence[str], top: int = 15) -> dict[str, Any]:
    """Medians over runs: the modules with the largest cumulative time, and self time per top-level package."""
    per_module: dict[str, list[tuple[int, int]]] = {}
    depth: dict[str, int] = {}
    per_package_runs: list[dict[str, int]] = []
    totals: list[int] = []
    for text in runs:
        own: dict[str, int] = {}
        total = 0
        for line in text.splitlines():
            m = _IMPORTTIME.match(line)
            if not m:
                continue
            self_us, cumulative_us, name = int(m[1]), int(m[2]), m[4]
            depth[name] = (len(m[3]) - 1) // 2
            per_module.setdefault(name, []).append((self_us, cumulative_us))
            root = name.split(".")[0]
            own[root] = own.get(root, 0) + self_us
            total += self_us
        per_package_runs.append(own)
        totals.append(total)

    def med(xs: Sequence[float]) -> float:
        return statistics.median(xs) if xs else 0.0

    modules: list[dict[str, Any]] = [
        {
            "module": name,
            "depth": depth[name],
            "cumulative_ms": round(med([c for _, c in v]) / 1e3, 1),
            "self_ms": round(med([s for s, _ in v]) / 1e3, 1),
        }
        for name, v in per_module.items()
    ]
    modules.sort(key=lambda d: -float(d["cumulative_ms"]))
    counts: dict[str, int] = {}
    for name in per_module:
        counts[name.split(".")[0]] = counts.get(name.split(".")[0], 0) + 1
    packages: list[dict[str, Any]] = [
        {"package": r, "self_ms": round(med([d.get(r, 0) for d in per_package_runs]) / 1e3, 1), "modules": counts[r]}
        for r in counts
    ]
    packages.sort(key=lambda d: -float(d["self_ms"]))
    return {
        "runs": len(runs),
        "total_ms": round(med(totals) / 1e3, 1),
        "modules": len(per_module),
        "top_cumulative": modules[:top],
        "by_package": packages[:top],
    }
