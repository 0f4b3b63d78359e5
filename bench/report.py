"""From the phases' results to one number per metric and app, the issue's targets, and the tables printed.

A timed metric's value is {"median": x, "min": y}; its ratio is this app / the original, for the
medians and for the mins (on a noisy machine the mins are the steadier of the two).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Value = Any  # {"median": x, "min": y}, a number, or a list
Getter = Callable[[dict[str, Any]], Value]


def _mm(stats: dict[str, Any]) -> dict[str, float]:
    return {"median": stats["median"], "min": stats["min"]}


def _dig(results: dict[str, Any], *path: str) -> Any:
    node: Any = results
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _stat(*path: str) -> Getter:
    def get(results: dict[str, Any]) -> Value:
        node = _dig(results, *path)
        return _mm(node) if isinstance(node, dict) else None

    return get


def _plain(*path: str) -> Getter:
    return lambda results: _dig(results, *path)


def _none(results: dict[str, Any]) -> Value:
    return None


@dataclass(frozen=True)
class Metric:
    key: str
    section: str
    label: str
    unit: str
    this: Getter
    original: Getter = _none
    floor: Getter = _none


def _first(tree: str, route: str, what: str) -> Getter:
    return _stat("first", tree, route, what)


def _warm(app: str, route: str) -> Getter:
    def get(results: dict[str, Any]) -> Value:
        node = _dig(results, "warm", app, "routes", route)
        return {"median": node["median"], "min": node["min"], "p99": node["p99"]} if node else None

    return get


def _package(app: str, what: str) -> Getter:
    return _plain("subjects", app, "package", what)


COLD = "cold start: fresh processes, clean interpreter (-S -E), bootstrap modules preimported"
FIRST = "first request of a fresh process (deployment package)"
WARM = "warm calls (µs over every call of each app's warm processes; median (min) and p99)"
CERTS = "Google certs"
PACKAGE = "package"

METRICS: tuple[Metric, ...] = (
    Metric(
        "cold_import_package", COLD, "import, package with bytecode", "ms",
        _stat("cold", "this.package", "import_ms"), _stat("cold", "original.package_pyc", "import_ms"),
    ),
    Metric(
        "cold_import_package_nopyc", COLD, "import, package without bytecode (original: as deployed)", "ms",
        _stat("cold", "this.package_nopyc", "import_ms"), _stat("cold", "original.package", "import_ms"),
    ),
    Metric(
        "cold_import_dev", COLD, "import, working tree + venv site-packages", "ms",
        _stat("cold", "this.dev", "import_ms"), _stat("cold", "original.dev", "import_ms"),
    ),
    Metric(
        "cold_ready_deployed", COLD, "spawn -> handler ready, as deployed", "ms",
        _stat("cold", "this.package", "spawn_to_ready_ms"), _stat("cold", "original.package", "spawn_to_ready_ms"),
        _stat("cold", "floor", "spawn_to_ready_ms"),
    ),
    Metric(
        "rss_after_import", COLD, "peak RSS after import, as deployed", "MiB",
        _stat("cold", "this.package", "rss_after_import_mib"), _stat("cold", "original.package", "rss_after_import_mib"),
        _stat("cold", "floor", "rss_after_import_mib"),
    ),
    Metric(
        "rss_after_import_pyc", COLD, "peak RSS after import, both with bytecode", "MiB",
        _stat("cold", "this.package", "rss_after_import_mib"), _stat("cold", "original.package_pyc", "rss_after_import_mib"),
        _stat("cold", "floor", "rss_after_import_mib"),
    ),
    Metric(
        "modules_after_import", COLD, "modules in sys.modules after import", "",
        _plain("cold", "this.package", "modules_after_import"), _plain("cold", "original.package", "modules_after_import"),
        _plain("cold", "floor", "modules_after_import"),
    ),
    Metric(
        "python_pass", COLD, "`python -S -E -c pass`, spawn -> exit", "ms",
        _none, _none, _stat("cold", "python_pass_ms"),
    ),
    Metric(
        "cold_to_first_health", FIRST, "spawn -> first /health response, as deployed", "ms",
        _first("this.package", "health", "spawn_to_first_response_ms"),
        _first("original.package", "health", "spawn_to_first_response_ms"),
        _first("floor", "health", "spawn_to_first_response_ms"),
    ),
    Metric(
        "cold_to_first_user", FIRST, "spawn -> first /api/user response, as deployed", "ms",
        _first("this.package", "user", "spawn_to_first_response_ms"),
        _first("original.package", "user", "spawn_to_first_response_ms"),
        _first("floor", "health", "spawn_to_first_response_ms"),
    ),
    Metric(
        "cold_to_first_google", FIRST, "spawn -> first POST /auth/google response, as deployed", "ms",
        _first("this.package", "google", "spawn_to_first_response_ms"),
        _first("original.package", "google", "spawn_to_first_response_ms"),
        _first("floor", "health", "spawn_to_first_response_ms"),
    ),
    Metric(
        "cold_to_first_application", FIRST, "spawn -> first GET /api/applications/{id} response", "ms",
        _first("this.package", "application", "spawn_to_first_response_ms"), _none,
        _first("floor", "health", "spawn_to_first_response_ms"),
    ),
    Metric(
        "cold_to_first_health_pyc", FIRST, "spawn -> first /health, both with bytecode", "ms",
        _first("this.package", "health", "spawn_to_first_response_ms"),
        _first("original.package_pyc", "health", "spawn_to_first_response_ms"),
    ),
    Metric(
        "cold_to_first_user_pyc", FIRST, "spawn -> first /api/user, both with bytecode", "ms",
        _first("this.package", "user", "spawn_to_first_response_ms"),
        _first("original.package_pyc", "user", "spawn_to_first_response_ms"),
    ),
    Metric(
        "cold_to_first_health_nopyc", FIRST, "spawn -> first /health, both without bytecode", "ms",
        _first("this.package_nopyc", "health", "spawn_to_first_response_ms"),
        _first("original.package", "health", "spawn_to_first_response_ms"),
    ),
    Metric(
        "cold_to_first_user_nopyc", FIRST, "spawn -> first /api/user, both without bytecode", "ms",
        _first("this.package_nopyc", "user", "spawn_to_first_response_ms"),
        _first("original.package", "user", "spawn_to_first_response_ms"),
    ),
    *(
        Metric(
            f"first_call_{route}", FIRST, f"first call, {label}", "ms",
            _first("this.package", route, "first_call_ms"),
            _first("original.package", route, "first_call_ms") if route != "application" else _none,
        )
        for route, label in (
            ("health", "GET /health"),
            ("user", "GET /api/user"),
            ("google", "POST /auth/google (fetches certs)"),
            ("application", "GET /api/applications/{id}"),
        )
    ),
    *(
        Metric(
            f"warm_{route}", WARM, label, "µs",
            _warm("this", route), _warm("original", route) if route != "application" else _none,
            _warm("floor", "health"),
        )
        for route, label in (
            ("health", "GET /health"),
            ("user", "GET /api/user"),
            ("google", "POST /auth/google (certs cached here, fetched by the original)"),
            ("application", "GET /api/applications/{id}"),
        )
    ),
    Metric(
        "cert_fetches_per_signin", CERTS, "cert fetches per sign-in, one process", "",
        _plain("fetches", "this", "per_signin"), _plain("fetches", "original", "per_signin"),
    ),
    Metric(
        "cert_fetches_warm", CERTS, "cert fetches per warm process (all its sign-ins)", "",
        _plain("warm", "this", "cert_fetches_per_process"), _plain("warm", "original", "cert_fetches_per_process"),
    ),
    Metric("package_zip", PACKAGE, "zipped", "MiB", _package("this", "zip_mib"), _package("original", "zip_mib")),
    Metric(
        "package_unpacked", PACKAGE, "unpacked", "MiB",
        _package("this", "unpacked_mib"), _package("original", "unpacked_mib"),
    ),
    Metric(
        "package_unpacked_nopyc", PACKAGE, "unpacked, without bytecode", "MiB",
        _package("this", "unpacked_mib_without_bytecode"), _package("original", "unpacked_mib"),
    ),
    Metric("package_files", PACKAGE, "files", "", _package("this", "files"), _package("original", "files")),
)  # fmt: skip

# What `--quick --skip-original` must produce for this app (tests/test_bench.py checks each).
REQUIRED_FOR_THIS = tuple(
    m.key for m in METRICS if m.key not in ("python_pass", "modules_after_import") and m.this is not _none
)


def ratio(a: Value, b: Value) -> dict[str, float] | None:
    if isinstance(a, dict) and isinstance(b, dict) and b.get("median") and b.get("min"):
        return {"median": round(a["median"] / b["median"], 3), "min": round(a["min"] / b["min"], 3)}
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
        return {"median": round(a / b, 3), "min": round(a / b, 3)}
    return None


def summarize_results(results: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for m in METRICS:
        this, original, floor = m.this(results), m.original(results), m.floor(results)
        if this is None and original is None and floor is None:
            continue
        summary[m.key] = {
            "section": m.section,
            "label": m.label,
            "unit": m.unit,
            "this": this,
            "original": original,
            "floor": floor,
            "ratio": ratio(this, original),
        }
    return summary


# ---- targets ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatioTarget:
    metric: str
    label: str
    limit: float


RATIO_TARGETS = (
    RatioTarget("cold_to_first_health", "cold start -> first /health response, deployment package", 0.25),
    RatioTarget("cold_to_first_user", "cold start -> first /api/user response, deployment package", 0.35),
    RatioTarget("rss_after_import", "peak RSS after import, deployment package", 0.6),
    RatioTarget("warm_health", "warm GET /health, median", 0.5),
    RatioTarget("warm_user", "warm GET /api/user, median", 0.5),
    RatioTarget("warm_google", "warm POST /auth/google with cached certs, median", 0.15),
)
# Like-for-like companions shown beside a target (same bytecode on both sides).
LIKE_FOR_LIKE = {
    "cold_to_first_health": "cold_to_first_health_pyc",
    "cold_to_first_user": "cold_to_first_user_pyc",
    "rss_after_import": "rss_after_import_pyc",
}
# DynamoDB round trips (API calls) allowed per route: one, two for a conditional update.
ROUNDTRIP_TARGETS = {
    "user": 1,
    "application": 1,
    "delete": 1,
    "update": 2,
    "update_if_match": 2,
    "delete_if_match": 2,
}


def targets(results: dict[str, Any], summary: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for t in RATIO_TARGETS:
        r = (summary.get(t.metric) or {}).get("ratio")
        row: dict[str, Any] = {"target": t.label, "limit": f"<= {t.limit}x the original", "metric": t.metric}
        if r is None:
            row.update(value=None, status="n/a (no original measured)")
        else:
            row["value"] = r
            met = r["median"] <= t.limit
            row["status"] = "met" if met else "gap"
            if met != (r["min"] <= t.limit):
                row["status"] += " (borderline: the min ratio says otherwise)"
            if t.metric in LIKE_FOR_LIKE:
                row["like_for_like"] = (summary.get(LIKE_FOR_LIKE[t.metric]) or {}).get("ratio")
        out.append(row)
    fetches = _dig(results, "fetches", "this", "per_signin")
    row = {"target": "cert fetches after the first sign-in, within max-age", "limit": "[1, 0, 0, ...]"}
    if fetches:
        row.update(value=fetches, status="met" if fetches[0] == 1 and not any(fetches[1:]) else "gap")
    else:
        row.update(value=None, status="n/a (not measured)")
    out.append(row)
    routes = _dig(results, "dynamodb", "routes")
    for name, limit in ROUNDTRIP_TARGETS.items():
        row = {"target": f"DynamoDB round trips, {name}", "limit": f"<= {limit}"}
        if routes and name in routes:
            calls = routes[name]["calls"]
            row.update(value=calls, status="met" if calls <= limit else "gap")
        else:
            row.update(value=None, status="n/a (run with --store dynamodb)")
        out.append(row)
    return out


# ---- rendering ------------------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[[("" if c is None else str(c)) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *(line(r) for r in cells[1:])])


def _num(x: float) -> str:
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}"


def cell(value: Value) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        text = f"{_num(value['median'])} ({_num(value['min'])})"
        return text + (f" p99 {_num(value['p99'])}" if "p99" in value else "")
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return _num(value) if isinstance(value, float) else str(value)


def ratio_cell(r: dict[str, float] | None) -> str:
    return "-" if r is None else f"{r['median']:.2f} ({r['min']:.2f})"


def render(results: dict[str, Any]) -> str:
    meta = results["meta"]
    summary = results["summary"]
    out = [
        f"# Benchmark: this app vs the original, {meta['started']}",
        f"machine: {meta['cpu']} x{meta['cpus']}, load average at start {meta['load_at_start']}, "
        f"at end {meta.get('load_at_end')}; Python {meta['python']}; store: {meta['store']}",
        "cells: median (min) over fresh processes or calls; ratio = this app / original, medians (mins)",
    ]
    section = None
    rows: list[list[object]] = []
    headers = ["metric", "this app", "original", "floor", "ratio"]
    for key, m in summary.items():
        if m["section"] != section:
            if rows:
                out += ["", table(headers, rows)]
            section, rows = m["section"], []
            out += ["", f"## {section}"]
        unit = f" ({m['unit']})" if m["unit"] else ""
        rows.append([m["label"] + unit, cell(m["this"]), cell(m["original"]), cell(m["floor"]), ratio_cell(m["ratio"])])
        del key
    if rows:
        out += ["", table(headers, rows)]
    out += _render_dynamodb(results) + _render_scale(results) + _render_importtime(results)
    out += _render_bulk_import(results)
    out += ["", "## targets (ratios on medians; mins in brackets)"]
    trows = []
    for t in results["targets"]:
        value = t.get("value")
        shown = ratio_cell(value) if isinstance(value, dict) else cell(value)
        if t.get("like_for_like"):
            shown += f"; like for like {ratio_cell(t['like_for_like'])}"
        trows.append([t["target"], t["limit"], shown, t["status"]])
    out.append(table(["target", "limit", "measured", "status"], trows))
    if meta["store"] == "dynamodb":
        out.append(
            "note: the original keeps no data, so on DynamoDB its /api/user and sign-in are compared with ours plus a"
            " store round trip (and, on the first request, boto3's import and client): the ratio targets are judged"
            " on the default SQLite run; this run is for the round trips and the time inside DynamoDB."
        )
    return "\n".join(out)


def _render_dynamodb(results: dict[str, Any]) -> list[str]:
    routes = _dig(results, "dynamodb", "routes")
    if not routes:
        return []
    rows = [
        [
            name,
            f"{r['method']} {r['route']}" + (" (If-Match)" if r["if_match"] else ""),
            r["calls"],
            r["sends"],
            " ".join(r["operations"]),
            r["ms"],
            r["dynamodb_ms"],
        ]
        for name, r in routes.items()
    ]
    out = ["", "## DynamoDB Local: calls per request (botocore before-call hook in the function's process)"]
    out.append(table(["step", "request", "API calls", "HTTP sends", "operations", "ms", "in DynamoDB ms"], rows))
    warm_rows = [
        [
            route,
            d.get("dynamodb_calls_per_request"),
            f"{100 * d.get('dynamodb_share', 0):.0f}%",
            d.get("dynamodb_us_median"),
        ]
        for route, d in (_dig(results, "warm", "this", "routes") or {}).items()
        if "dynamodb_share" in d
    ]
    if warm_rows:
        out += ["", "warm calls: share of the handler's time spent inside DynamoDB calls"]
        out.append(table(["route", "calls/request", "share in DynamoDB", "DynamoDB µs (median)"], warm_rows))
    return out


def _render_bulk_import(results: dict[str, Any]) -> list[str]:
    data = results.get("bulk_import")
    if not data:
        return []
    rows = [
        [name, r["ms"], r["created"], r["duplicates"], r.get("calls", ""), r.get("dynamodb_ms", "")]
        for name, r in data["steps"].items()
    ]
    title = f"## POST /api/import: {data['rows']:,} rows ({data['bytes']:,} bytes of CSV) on {data['store']}"
    return ["", title, table(["step", "ms", "created", "duplicates", "DynamoDB calls", "in DynamoDB ms"], rows)]


def _render_scale(results: dict[str, Any]) -> list[str]:
    data = results.get("scale")
    if not data:
        return []
    rows = []
    for size, entry in data["sizes"].items():
        row: list[object] = [size, entry.get("interviews", ""), entry["calls"]]
        for name in ("list", "list_q", "stats", "agenda"):
            if name not in entry:
                row.append("")
                continue
            st = entry[name]
            text = f"{_num(st['median'])} ({_num(st['min'])})"
            if "dynamodb_calls_per_request" in st:
                text += f" [{st['dynamodb_calls_per_request']:g} calls, {100 * st['dynamodb_share']:.0f}% in DynamoDB]"
            row.append(text)
        rows.append(row)
    return [
        "",
        f"## scaling with one user's applications ({data['store']}; warm ms, median (min); "
        f"q={data['search_term']!r} matches ~1% so it reads every application)",
        table(
            [
                "applications",
                "interviews",
                "calls",
                "GET ?limit=50",
                f"GET ?limit=50&q={data['search_term']}",
                "GET /stats",
                "GET /api/interviews",
            ],
            rows,
        ),
    ]


def _render_importtime(results: dict[str, Any]) -> list[str]:
    data = results.get("importtime")
    if not data:
        return []
    out = ["", "## python -X importtime of the handler's import (with bytecode; inflated by the tracing)"]
    for key, it in data.items():
        out.append("")
        out.append(f"{key}: {it['total_ms']} ms in {it['modules']} modules; self time per top-level package:")
        out.append("  " + ", ".join(f"{p['package']} {p['self_ms']} ({p['modules']})" for p in it["by_package"][:12]))
        out.append(
            "  largest cumulative: "
            + ", ".join(f"{m['module']} {m['cumulative_ms']}" for m in it["top_cumulative"][:10])
        )
    return out
