"""`python -m bench`: measure this app (and the original, side by side) and print the comparison.

python -m bench                     # everything: this app, the original, the floor (~10 min)
python -m bench compare             # the same, spelled out
python -m bench --quick --skip-original --out /tmp/bench.json   # a smoke run (~1 min)
python -m bench --store dynamodb    # this app on DynamoDB Local: round trips, time inside DynamoDB
python -m bench report FILE.json    # print the tables of an earlier run again
python -m bench profile --route health   # cProfile of warm calls of one route of this app
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import phases, report, subjects
from bench.phases import Bench, Options
from bench.runner import Runner
from bench.stores import open_store
from local_google.issuer import GoogleIssuer

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = ROOT / ".bench"
CLIENT_ID = "123456789012-bench.apps.googleusercontent.com"
PHASE_NAMES = tuple(phases.PHASES)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Cold start, warm latency, cert fetches, DynamoDB round trips and scaling of this app, "
        "side by side with the original FastAPI + Mangum app (bench/original).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=("run", "compare", "report", "profile"),
        help="run (default) and compare measure; report re-prints a results file; profile runs cProfile",
    )
    parser.add_argument("file", nargs="?", help="report: the results JSON to print")
    parser.add_argument("--quick", action="store_true", help="a smoke run: few processes and calls, small scaling")
    parser.add_argument("--skip-original", action="store_true", help="measure this app only (no original venv needed)")
    parser.add_argument("--store", choices=("sqlite", "dynamodb"), default="sqlite")
    parser.add_argument("--out", type=Path, help="results JSON (default: .bench/results/bench-<time>.json)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="built packages and the original's venv")
    parser.add_argument("--package-zip", type=Path, help="measure this deployment zip instead of building one")
    parser.add_argument("--skip", default="", help=f"phases to leave out, comma-separated: {','.join(PHASE_NAMES)}")
    parser.add_argument("--runs", type=int, help="fresh processes per cold measurement (15; quick 3)")
    parser.add_argument("--first-runs", type=int, help="fresh processes per route for the first request (9; quick 2)")
    parser.add_argument("--iters", type=int, help="warm calls per route in one process (1000; quick 100)")
    parser.add_argument("--rounds", type=int, help="warm processes per app, interleaved A, B, A, B (2)")
    parser.add_argument("--signins", type=int, help="sign-ins in one process for the cert fetch count (5; quick 3)")
    parser.add_argument("--importtime-runs", type=int, help="-X importtime runs (5; quick 1)")
    parser.add_argument(
        "--scale", help="applications per user for scaling, comma-separated (100,1000,10000; quick 100,1000)"
    )
    parser.add_argument("--scale-calls", type=int, help="calls per scaling route at 100 applications (200; quick 20)")
    parser.add_argument("--route", default="health", choices=phases.THIS_ROUTES, help="profile: the route")
    parser.add_argument("--top", type=int, default=30, help="profile: functions shown")
    args = parser.parse_args(argv)
    if args.command == "report" and not args.file:
        parser.error("report needs the results file")
    if args.command == "compare" and args.skip_original:
        parser.error("compare measures the original: drop --skip-original")
    if args.command == "profile":
        args.skip_original = True  # this app's routes only
    unknown = set(_split(args.skip)) - set(PHASE_NAMES)
    if unknown:
        parser.error(f"unknown phase(s) in --skip: {', '.join(sorted(unknown))}")
    return args


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def _default_sizes(quick: bool) -> tuple[int, ...]:
    return (100, 1000) if quick else (100, 1000, 10000)


def options(args: argparse.Namespace) -> Options:
    quick = args.quick
    opts = Options(
        runs=args.runs or (3 if quick else 15),
        first_runs=args.first_runs or (2 if quick else 9),
        iters=args.iters or (100 if quick else 1000),
        rounds=args.rounds or 2,
        warmup=5 if quick else 20,
        signins=args.signins or (3 if quick else 5),
        importtime_runs=args.importtime_runs or (1 if quick else 5),
        scale_sizes=tuple(int(s) for s in _split(args.scale)) if args.scale else _default_sizes(quick),
        scale_calls=args.scale_calls or (20 if quick else 200),
        skip=frozenset(_split(args.skip)),
    )
    if args.store == "sqlite":
        opts.skip |= {"dynamodb"}
    return opts


def this_env(store_env: dict[str, str], certs_url: str) -> dict[str, str]:
    """The settings this app's function gets (on top of what every Lambda function gets)."""
    return {
        "STAGE": "dev",
        "GOOGLE_CLIENT_ID": CLIENT_ID,
        "JWT_SECRET_KEY": secrets.token_urlsafe(36),
        "GOOGLE_CERTS_URL": certs_url,
        "ALLOWED_ORIGINS": "http://localhost:3000",
        # The warm sign-in loop would hit the limit; the DynamoDB phase measures the limited sign-in apart.
        "SIGNIN_RATE_LIMIT_PER_MINUTE": "0",
        **store_env,
    }


def original_env(certs_url: str) -> dict[str, str]:
    return {
        "GOOGLE_CLIENT_ID": CLIENT_ID,
        "JWT_SECRET_KEY": secrets.token_urlsafe(36),
        "ALLOWED_ORIGINS": "http://localhost:3000",
        "GOOGLE_CERTS_URL": certs_url,
    }


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    opts = options(args)
    cache: Path = args.cache_dir.resolve()
    results: dict[str, Any] = {
        "meta": {
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "argv": sys.argv[1:],
            "cpu": _cpu(),
            "cpus": os.cpu_count(),
            "load_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "store": args.store,
            "quick": args.quick,
            "options": {k: (sorted(v) if isinstance(v, frozenset) else v) for k, v in vars(opts).items()},
        }
    }
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as tmp,
        GoogleIssuer(CLIENT_ID) as issuer,
        open_store(args.store, Path(tmp)) as store,
    ):
        work = Path(tmp)
        base = subjects.lambda_env("")
        _log("Preparing this app's deployment package (deploy/build.py) ...")
        this = subjects.this_app(cache, work, {**base, **this_env(store.env(), issuer.certs_url)}, args.package_zip)
        original = None
        if not args.skip_original:
            original = subjects.original_app(cache, work, {**base, **original_env(issuer.certs_url)})
        bench = Bench(Runner(work), issuer, store, this, original, subjects.floor(work), opts)
        results["meta"]["store_detail"] = store.describe()
        results["subjects"] = {
            s.name: {
                "label": s.label,
                "handler": s.deployed.handler,
                "events": s.style,
                "trees": {
                    k: {"label": t.label, "python": t.python, "flags": t.flags, "path": t.path}
                    for k, t in s.trees.items()
                },
                "package": s.package,
                "versions": s.versions,
            }
            for s in bench.subjects
        }
        _log("setup: signing in to each app ...")
        results["setup"] = phases.setup(bench)
        if args.command == "profile":
            print(phases.profile(bench, args.route, opts.iters, args.top))
            raise SystemExit(0)
        for name, phase in phases.PHASES.items():
            if name in opts.skip:
                continue
            started = time.monotonic()
            _log(f"{name} ...")
            results[name] = phase(bench)
            _log(f"{name} done in {time.monotonic() - started:.0f} s")
    results["meta"]["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["summary"] = report.summarize_results(results)
    results["targets"] = report.targets(results, results["summary"])
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "report":
        results = json.loads(Path(args.file).read_text())
        print(report.render(results))
        return 0
    results = measure(args)
    out: Path = args.out or (args.cache_dir / "results" / f"bench-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(report.render(results))
    print(f"\nresults: {out}")
    return 0
