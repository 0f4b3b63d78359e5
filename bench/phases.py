"""The measurements. Each phase runs fresh processes of bench/child.py and returns plain JSON-able data.

Runs of different apps are interleaved (A, B, A, B, ...) so that the machine's drift hits them
alike; the first round of every cold measurement is thrown away (it warms the page cache, and
lets the working trees write their own bytecode).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench import events
from bench.events import Route
from bench.runner import MIB_KB, MS, US, Runner, parse_importtime, summarize
from bench.stores import SEARCH_TERM, BenchStore
from bench.subjects import Subject, Tree
from local_google.issuer import GoogleIssuer

MAIN_USER = {"sub": "109876543210987654321", "email": "jane.doe@example.com", "name": "Jane Doe"}
PICTURE = "https://lh3.googleusercontent.com/a/jane"
# The routes measured in fresh processes and warm, per app.
THIS_ROUTES = ("health", "user", "google", "application")
ORIGINAL_ROUTES = ("health", "user", "google")
# The ones the cold-start targets name; also measured without bytecode, like for like.
COLD_ROUTES = ("health", "user")


@dataclass
class Options:
    runs: int = 15  # fresh processes per cold measurement
    first_runs: int = 9  # fresh processes per route for the first request
    iters: int = 1000  # warm calls per route in one process; `rounds` such processes per app
    warmup: int = 20
    rounds: int = 2
    signins: int = 5  # sign-ins in one process, counting cert fetches after each
    importtime_runs: int = 5
    scale_sizes: tuple[int, ...] = (100, 1000, 10000)
    scale_calls: int = 200  # calls per scaling route, shrunk for the larger sizes
    skip: frozenset[str] = frozenset()


@dataclass
class Bench:
    """Everything a phase needs: the processes' runner, the apps, the issuer and the store."""

    runner: Runner
    issuer: GoogleIssuer
    store: BenchStore
    this: Subject
    original: Subject | None
    floor: Tree
    options: Options
    routes: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # app -> name -> route job
    tokens: dict[str, str] = field(default_factory=dict)  # user -> this app's access token
    app_id: str = ""

    @property
    def subjects(self) -> list[Subject]:
        return [self.this, *([self.original] if self.original else [])]

    def env(self, tree: Tree) -> dict[str, str]:
        subject = self.original if tree.key.startswith("original.") and self.original else self.this
        return {**subject.env, "LAMBDA_TASK_ROOT": tree.cwd}

    def run(self, tree: Tree, mode: str, routes: Sequence[dict[str, Any]] = (), **extra: Any) -> dict[str, Any]:
        return self.runner.run(tree, self.env(tree), mode, routes, origin=events.ORIGIN, **extra)

    def id_token(self, sub: str, email: str, name: str) -> str:
        # Valid for 3 hours: a long run must not see its credential expire (Google's last one).
        return self.issuer.id_token(sub=sub, email=email, name=name, picture=PICTURE, exp=int(time.time()) + 3 * 3600)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _body(step: dict[str, Any]) -> dict[str, Any]:
    body = step["body"]
    assert isinstance(body, dict), step
    return body


# ---- setup: sign in through each app, so the timed calls carry the app's own token ----------------


def scale_user(size: int) -> dict[str, str]:
    return {"sub": f"2{size:020d}", "email": f"scale{size}@example.com", "name": f"Scale {size}"}


def setup(bench: Bench) -> dict[str, Any]:
    """Sign in to each app (checking its answers), create one application; build the timed routes."""
    id_token = bench.id_token(**MAIN_USER)
    this = bench.this
    script = [
        events.health("literal"),
        Route("user_without_token", "GET", "/api/user", "literal", expect_status=401),
        events.google("literal", id_token, field_name=this.signin_field),
        events.user("literal", "@@token@@"),
        events.create_application("@@token@@", {"company": "Acme", "role": "Backend Engineer", "status": "applied"}),
        events.application("@@token@@", "@@app_id@@"),
    ]
    for size in bench.options.scale_sizes:
        u = scale_user(size)
        script.append(
            events.google("literal", bench.id_token(**u), field_name=this.signin_field, name=f"google_scale_{size}")
        )
    res = bench.run(this.deployed, "script", [r.job() for r in script])
    steps = {s["name"]: s for s in res["steps"]}
    google = _body(steps["google"])
    if google["user"]["id"] != MAIN_USER["sub"] or google.get("token_type") != "bearer":
        raise SystemExit(f"this app's sign-in answered {google}")
    bench.tokens["main"] = google["access_token"]
    bench.app_id = _body(steps["create"])["id"]
    for size in bench.options.scale_sizes:
        bench.tokens[f"scale_{size}"] = _body(steps[f"google_scale_{size}"])["access_token"]
    token = bench.tokens["main"]
    bench.routes["this"] = {
        "health": events.health("literal").job(),
        "user": events.user("literal", token).job(),
        "google": events.google("literal", id_token, field_name=this.signin_field).job(),
        "application": events.application(token, bench.app_id).job(),
    }
    out: dict[str, Any] = {"this": {"checked": list(steps), "user": _body(steps["user"])}}
    if bench.original:
        original = bench.original
        script = [
            events.health("proxy"),
            Route("user_without_token", "GET", "/api/user", "proxy", expect_status=401, expect_cors=False),
            events.google("proxy", id_token, field_name=original.signin_field),
            events.user("proxy", "@@token@@"),
        ]
        res = bench.run(original.deployed, "script", [r.job() for r in script])
        steps = {s["name"]: s for s in res["steps"]}
        original_token = _body(steps["google"])["access_token"]
        bench.routes["original"] = {
            "health": events.health("proxy").job(),
            "user": events.user("proxy", original_token).job(),
            "google": events.google("proxy", id_token, field_name=original.signin_field).job(),
        }
        out["original"] = {"checked": list(steps), "user": _body(steps["user"])}
    bench.routes["floor"] = {"health": events.health("literal").job()}
    return out


# ---- cold import ----------------------------------------------------------------------------------


def cold_stats(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "import_ms": summarize([r["import_ns"] for r in runs], MS),
        "spawn_to_ready_ms": summarize([r["spawn_to_ready_ns"] for r in runs], MS),
        "process_wall_ms": summarize([r["wall_ns"] for r in runs], MS),
        "rss_after_import_mib": summarize([r["rss_kb_import"] for r in runs], MIB_KB),
        # For reference only: on Linux ru_maxrss also holds the parent's RSS at fork (see child.maxrss_kb).
        "ru_maxrss_mib": summarize([r["ru_maxrss_kb"] for r in runs], MIB_KB),
        "modules_after_import": max(r["modules"] for r in runs),
    }


def cold(bench: Bench) -> dict[str, Any]:
    """Fresh processes that import the handler and exit: every tree of every app, and the floor."""
    trees = [t for s in bench.subjects for t in s.trees.values()] + [bench.floor]
    samples: dict[str, list[dict[str, Any]]] = {t.key: [] for t in trees}
    bare: list[int] = []
    bare_tree = Tree("python", "python -S -E -c pass", bench.floor.python, ("-S", "-E"), (), bench.floor.cwd, True, "")
    for round_ in range(bench.options.runs + 1):  # round 0 is thrown away
        for tree in trees:
            res = bench.run(tree, "cold")
            if round_:
                samples[tree.key].append(res)
        ns = bench.runner.python_pass(bare_tree, bench.env(bench.floor))
        if round_:
            bare.append(ns)
    out: dict[str, Any] = {key: cold_stats(runs) for key, runs in samples.items()}
    out["python_pass_ms"] = summarize(bare, MS)
    out["labels"] = {t.key: t.label for t in trees}
    return out


# ---- the first request of a fresh process ---------------------------------------------------------------


def first(bench: Bench) -> dict[str, Any]:
    """One fresh process per route and run: import, then the first call (timed) and a second one."""
    plan: list[tuple[Tree, str, dict[str, Any]]] = []
    for name in THIS_ROUTES:
        plan.append((bench.this.deployed, name, bench.routes["this"][name]))
    for name in COLD_ROUTES:
        plan.append((bench.this.trees["package_nopyc"], name, bench.routes["this"][name]))
    if bench.original:
        for name in ORIGINAL_ROUTES:
            plan.append((bench.original.deployed, name, bench.routes["original"][name]))
        for name in COLD_ROUTES:
            plan.append((bench.original.trees["package_pyc"], name, bench.routes["original"][name]))
    plan.append((bench.floor, "health", bench.routes["floor"]["health"]))
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {(t.key, n): [] for t, n, _ in plan}
    for _ in range(bench.options.first_runs):
        for tree, name, route in plan:
            before = bench.issuer.fetches
            res = bench.run(tree, "first", [route])
            res["cert_fetches"] = bench.issuer.fetches - before
            runs[(tree.key, name)].append(res)
    out: dict[str, dict[str, Any]] = {}
    for (key, name), rs in runs.items():
        out.setdefault(key, {})[name] = {
            "import_ms": summarize([r["import_ns"] for r in rs], MS),
            "first_call_ms": summarize([r["first_ns"] for r in rs], MS),
            "second_call_ms": summarize([r["second_ns"] for r in rs], MS),
            "spawn_to_first_response_ms": summarize([r["spawn_to_first_response_ns"] for r in rs], MS),
            "rss_after_first_mib": summarize([r["rss_kb_first"] for r in rs], MIB_KB),
            "cert_fetches_per_process": [r["cert_fetches"] for r in rs],
        }
    return out


# ---- warm calls --------------------------------------------------------------------------------------


def warm(bench: Bench) -> dict[str, Any]:
    """Per app, `iters` calls per route after a warm-up in one process; `rounds` such processes per app,
    interleaved with the other app's (A, B, A, B); the statistics are over all their calls."""
    opts = bench.options
    per_round = opts.iters
    plan: list[tuple[str, Tree, list[str], bool]] = [
        ("this", bench.this.deployed, list(THIS_ROUTES), bench.store.kind == "dynamodb")
    ]
    if bench.original:
        plan.append(("original", bench.original.deployed, list(ORIGINAL_ROUTES), False))
    plan.append(("floor", bench.floor, ["health"], False))
    merged: dict[str, dict[str, dict[str, list[int]]]] = {name: {} for name, *_ in plan}
    fetches: dict[str, list[int]] = {name: [] for name, *_ in plan}
    rss: dict[str, list[int]] = {name: [] for name, *_ in plan}
    medians: dict[tuple[str, str], list[float]] = {}  # one per process: shows a process the machine slowed
    for _ in range(opts.rounds):
        for name, tree, route_names, hooks in plan:
            routes = [bench.routes[name][r] for r in route_names]
            before = bench.issuer.fetches
            res = bench.run(tree, "warm", routes, iters=per_round, warmup=opts.warmup, dynamodb_hooks=hooks)
            fetches[name].append(bench.issuer.fetches - before)
            rss[name].append(res["rss_kb_end"])
            for route, data in res["warm"].items():
                into = merged[name].setdefault(route, {})
                for k, v in data.items():
                    into.setdefault(k, []).extend(v)
                medians.setdefault((name, route), []).append(round(statistics.median(data["ns"]) / US, 1))
    out: dict[str, Any] = {"iters_per_process": per_round, "rounds": opts.rounds, "warmup": opts.warmup}
    for name, routes_data in merged.items():
        app: dict[str, Any] = {}
        for route, data in routes_data.items():
            st: dict[str, Any] = summarize(data["ns"], US, 1)
            st["median_per_process"] = medians[(name, route)]
            if "ddb_ns" in data:
                st["dynamodb_share"] = round(sum(data["ddb_ns"]) / sum(data["ns"]), 3)
                st["dynamodb_calls_per_request"] = round(statistics.fmean(data["ddb_calls"]), 2)
                st["dynamodb_sends_per_request"] = round(statistics.fmean(data["ddb_sends"]), 2)
                st["dynamodb_us_median"] = round(statistics.median(data["ddb_ns"]) / US, 1)
            app[route] = st
        out[name] = {
            "routes": app,
            "rss_at_end_mib": round(max(rss[name]) / MIB_KB, 1),
            "cert_fetches_per_process": fetches[name],
            "signins_per_process": per_round + opts.warmup,
        }
    return out


# ---- Google cert fetches per sign-in ------------------------------------------------------------------


def cert_fetches(bench: Bench) -> dict[str, Any]:
    """Sign-ins one after another in one fresh process; the issuer's fetch counter read after each."""
    out: dict[str, Any] = {"max_age_s": bench.issuer.max_age}
    for subject in bench.subjects:
        last = bench.issuer.fetches

        def delta() -> int:
            nonlocal last
            now = bench.issuer.fetches
            seen, last = now - last, now
            return seen

        tree = subject.deployed
        route = bench.routes[subject.name]["google"]
        per_signin = bench.runner.lockstep(
            tree, bench.env(tree), route, bench.options.signins, delta, origin=events.ORIGIN
        )
        out[subject.name] = {"per_signin": per_signin}
    return out


# ---- DynamoDB round trips ------------------------------------------------------------------------------


def _roundtrip_script(token: str) -> list[Route]:
    body = {"company": "Globex", "role": "Platform Engineer", "status": "applied"}
    return [
        events.health("literal"),
        events.user("literal", token),
        events.create_application(token, body),
        events.application(token, "@@app_id@@"),
        events.update_application(
            token, "@@app_id@@", {"status": "screening"}, if_match="@@etag@@", name="update_if_match"
        ),
        events.update_application(token, "@@app_id@@", {"status": "interviewing"}, if_match=None, name="update"),
        events.delete_application(token, "@@app_id@@", if_match="@@etag@@", name="delete_if_match"),
        events.create_application(token, body, name="create_again"),
        events.delete_application(token, "@@app_id@@", if_match=None, name="delete"),
        events.list_applications(token, {"limit": "50"}, name="list"),
        events.stats(token),
        events.create_application(token, body, name="create_for_interviews"),
        events.interviews(token, "@@app_id@@"),
        events.create_interview(token, "@@app_id@@", {"kind": "technical", "starts_at": "2026-12-03T14:00:00Z"}),
        events.agenda(token, {}, name="agenda"),
    ]


def dynamodb(bench: Bench) -> dict[str, Any]:
    """DynamoDB calls per route, counted by a botocore hook in the function's process (second pass:
    the first creates the client and warms its connection)."""
    token = bench.tokens["main"]
    id_token = bench.id_token(**MAIN_USER)
    sign_in = events.google("literal", id_token, field_name=bench.this.signin_field)
    script = [sign_in, *_roundtrip_script(token)]
    res = bench.run(bench.this.deployed, "script", [r.job() for r in script + script], dynamodb_hooks=True)
    counted = res["steps"][len(script) :]
    routes = {}
    for route, step in zip(script, counted, strict=True):
        seen = step["dynamodb"]
        routes[step["name"]] = {
            "method": route.method,
            "route": route.template,
            "if_match": "If-Match" in route.headers,
            "calls": seen["calls"],
            "sends": seen["sends"],
            "operations": seen["ops"],
            "ms": round(step["ns"] / MS, 2),
            "dynamodb_ms": round(seen["ns"] / MS, 2),
        }
    # Production signs in with a rate limit: one more write per sign-in (counted in the store).
    limited = {**bench.env(bench.this.deployed), "SIGNIN_RATE_LIMIT_PER_MINUTE": "20"}
    res = bench.runner.run(
        bench.this.deployed,
        limited,
        "script",
        [sign_in.job(), sign_in.job()],
        origin=events.ORIGIN,
        dynamodb_hooks=True,
    )
    seen = res["steps"][1]["dynamodb"]
    routes["google_rate_limited"] = {
        "method": "POST",
        "route": "/auth/google",
        "if_match": False,
        "calls": seen["calls"],
        "sends": seen["sends"],
        "operations": seen["ops"],
        "ms": round(res["steps"][1]["ns"] / MS, 2),
        "dynamodb_ms": round(seen["ns"] / MS, 2),
    }
    return {"routes": routes}


# ---- scaling with the number of applications -------------------------------------------------------------


def scale(bench: Bench) -> dict[str, Any]:
    """List (first page, and a `q=` search that reads everything), stats and the agenda (the next 14 days,
    first page) with 100 ... 10,000 applications and their interviews."""
    out: dict[str, Any] = {"store": bench.store.kind, "search_term": SEARCH_TERM, "sizes": {}}
    hooks = bench.store.kind == "dynamodb"
    for size in bench.options.scale_sizes:
        user_id = scale_user(size)["sub"]
        _log(f"  seeding {size} applications ...")
        seconds = bench.store.seed(user_id, size)
        token = bench.tokens[f"scale_{size}"]
        routes = [
            events.list_applications(token, {"limit": "50"}, name="list"),
            events.list_applications(token, {"limit": "50", "q": SEARCH_TERM}, name="list_q"),
            events.stats(token),
            events.agenda(token, {}, name="agenda"),
        ]
        calls = max(5, min(bench.options.scale_calls, bench.options.scale_calls * 100 // size))
        res = bench.run(
            bench.this.deployed, "warm", [r.job() for r in routes], iters=calls, warmup=2, dynamodb_hooks=hooks
        )
        entry: dict[str, Any] = {
            "seed_s": round(seconds, 1),
            "calls": calls,
            "interviews": bench.store.interviews(user_id),
        }
        for name, data in res["warm"].items():
            st: dict[str, Any] = summarize(data["ns"], MS, 2)
            if "ddb_ns" in data:
                st["dynamodb_calls_per_request"] = round(statistics.fmean(data["ddb_calls"]), 2)
                st["dynamodb_share"] = round(sum(data["ddb_ns"]) / sum(data["ns"]), 3)
            entry[name] = st
        out["sizes"][str(size)] = entry
    return out


# ---- import time ---------------------------------------------------------------------------------------


def importtime(bench: Bench) -> dict[str, Any]:
    """`python -X importtime` of the handler's import: this app's package and the original's, both with bytecode."""
    trees = [bench.this.deployed]
    if bench.original:
        trees.append(bench.original.trees["package_pyc"])
    texts: dict[str, list[str]] = {t.key: [] for t in trees}
    for _ in range(bench.options.importtime_runs):
        for tree in trees:
            texts[tree.key].append(bench.runner.importtime(tree, bench.env(tree), events.ORIGIN))
    return {key: parse_importtime(runs) for key, runs in texts.items()}


# ---- profile (python -m bench profile) -------------------------------------------------------------------


def profile(bench: Bench, route: str, iters: int, top: int) -> str:
    tree = bench.this.deployed
    res = bench.run(tree, "profile", [bench.routes["this"][route]], iters=iters, warmup=bench.options.warmup, top=top)
    text: str = res["profile"]
    return text


# ---- a 5,000-row CSV import ---------------------------------------------------------------------------

IMPORT_ROWS = 5_000
IMPORT_USER = {"sub": "100000000000000005000", "email": "importer@example.com", "name": "Importer"}


def import_file(rows: int) -> str:
    """A spreadsheet-like CSV of `rows` distinct applications (every column the import reads)."""
    lines = ["Company Name;Job Title;Stage;Date Applied;Job URL;Location;Salary;Tags;Notes"]
    statuses = ("applied", "Phone Screen", "interviewing", "rejected", "no response", "offer")
    for n in range(rows):
        day = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}"
        lines.append(
            f"Company {n};Engineer {n % 7};{statuses[n % len(statuses)]};{day};https://jobs.example/{n};"
            f"Berlin;{50_000 + n};python, remote;imported row {n}"
        )
    return "\r\n".join(lines) + "\r\n"


def bulk_import(bench: Bench) -> dict[str, Any]:
    """POST /api/import of 5,000 rows into an empty account, in the function's process: a dry run, the
    import, and the same file again (all duplicates)."""
    text = import_file(IMPORT_ROWS)
    this = bench.this
    script = [
        events.google("literal", bench.id_token(**IMPORT_USER), field_name=this.signin_field, name="google_import"),
        events.import_csv("@@token@@", text, name="dry_run", dry_run=True),
        events.import_csv("@@token@@", text, name="import"),
        events.import_csv("@@token@@", text, name="again"),
    ]
    hooks = bench.store.kind == "dynamodb"
    res = bench.run(this.deployed, "script", [r.job() for r in script], dynamodb_hooks=hooks)
    steps = {s["name"]: s for s in res["steps"]}
    out: dict[str, Any] = {"store": bench.store.kind, "rows": IMPORT_ROWS, "bytes": len(text.encode()), "steps": {}}
    for name in ("dry_run", "import", "again"):
        step = steps[name]
        answer = _body(step)
        expected = (IMPORT_ROWS, 0) if name != "again" else (0, IMPORT_ROWS)
        if (answer["created"], answer["duplicates"]) != expected or answer["errors"]:
            raise SystemExit(f"the import's {name} answered {answer}")
        row: dict[str, Any] = {"ms": round(step["ns"] / MS, 1), "created": answer["created"]}
        row["duplicates"] = answer["duplicates"]
        if "dynamodb" in step:
            row.update(calls=step["dynamodb"]["calls"], dynamodb_ms=round(step["dynamodb"]["ns"] / MS, 1))
            row["operations"] = dict(Counter(step["dynamodb"]["ops"]))
        out["steps"][name] = row
    return out


PHASES: dict[str, Callable[[Bench], dict[str, Any]]] = {
    "cold": cold,
    "first": first,
    "warm": warm,
    "fetches": cert_fetches,
    "dynamodb": dynamodb,
    "scale": scale,
    "importtime": importtime,
    "bulk_import": bulk_import,
}
