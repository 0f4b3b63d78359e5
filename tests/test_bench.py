"""`python -m bench --quick --skip-original` end to end: every metric present, with sane values.

No timing thresholds (the machine is shared and noisy): only that each number was measured and is
plausible, that the issuer saw one cert fetch for the first sign-in and none after, and that the
JSON and the printed table are complete.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.report import METRICS, REQUIRED_FOR_THIS
from deploy.build import chalice_config
from deploy.wheelhouse import DEFAULT_DIR as WHEELHOUSE
from deploy.wheelhouse import staleness
from tests.conftest import ROOT
from tests.dynamodb_local import dynamodb_local_required

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    why_not = staleness(WHEELHOUSE, ROOT / "requirements.txt", chalice_config(ROOT, "prod").lambda_architecture)
    if why_not is not None:  # the bench builds the prod zip: offline only from an up-to-date wheelhouse
        message = f"{why_not}: run `make wheelhouse` so the bench's package builds offline"
        if dynamodb_local_required():
            pytest.fail(message)
        pytest.skip(message)
    work = tmp_path_factory.mktemp("bench")
    out = work / "bench.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--skip-original", "--out", str(out), "--cache-dir", str(work)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(out.read_text()), run.stdout


def _positive(value: Any) -> bool:
    if isinstance(value, dict):
        return 0 < value["min"] <= value["median"] and all(v > 0 for v in value.values())
    return isinstance(value, (int, float)) and value > 0


def test_every_metric_of_this_app_is_measured_and_positive(quick_run: tuple[dict[str, Any], str]) -> None:
    summary = quick_run[0]["summary"]
    for key in REQUIRED_FOR_THIS:
        value = summary[key]["this"]
        if key.startswith("cert_fetches"):
            continue  # lists of counts, checked below
        assert _positive(value), (key, value)
        assert summary[key]["original"] is None and summary[key]["ratio"] is None, key  # --skip-original


def test_the_first_sign_in_fetches_googles_certs_and_later_ones_do_not(quick_run: tuple[dict[str, Any], str]) -> None:
    results = quick_run[0]
    assert results["fetches"]["this"]["per_signin"] == [1, 0, 0]
    assert results["summary"]["cert_fetches_per_signin"]["this"] == [1, 0, 0]
    # A warm process signs in dozens of times and fetches once.
    assert results["warm"]["this"]["cert_fetches_per_process"] == [1, 1]
    # A fresh process's first sign-in fetches them (two sign-ins per process there).
    assert set(results["first"]["this.package"]["google"]["cert_fetches_per_process"]) == {1}


def test_the_floor_is_below_the_app(quick_run: tuple[dict[str, Any], str]) -> None:
    cold = quick_run[0]["cold"]
    floor, app = cold["floor"], cold["this.package"]
    assert floor["rss_after_import_mib"]["median"] < app["rss_after_import_mib"]["median"]
    assert floor["modules_after_import"] < app["modules_after_import"]
    assert cold["python_pass_ms"]["median"] > 0


def test_package_sizes_come_from_the_zip(quick_run: tuple[dict[str, Any], str]) -> None:
    package = quick_run[0]["subjects"]["this"]["package"]
    assert package["zip_mib"] < package["unpacked_mib_without_bytecode"] < package["unpacked_mib"]
    assert package["files_without_bytecode"] < package["files"]
    assert package["source"].endswith("-python3.13.zip")


def test_scaling_covers_each_size_and_route(quick_run: tuple[dict[str, Any], str]) -> None:
    scale = quick_run[0]["scale"]
    assert scale["store"] == "sqlite"
    assert set(scale["sizes"]) == {"100", "1000"}
    for entry in scale["sizes"].values():
        for route in ("list", "list_q", "stats"):
            assert _positive({k: entry[route][k] for k in ("median", "min")}), (route, entry[route])


def test_targets_are_reported_not_asserted(quick_run: tuple[dict[str, Any], str]) -> None:
    results, stdout = quick_run
    statuses = {t["target"]: t["status"] for t in results["targets"]}
    assert statuses["cert fetches after the first sign-in, within max-age"] == "met"
    ratio_targets = [t for t in results["targets"] if "the original" in t["limit"]]
    assert ratio_targets and all(t["status"].startswith("n/a") for t in ratio_targets)
    assert all(t["status"].startswith("n/a") for t in results["targets"] if t["target"].startswith("DynamoDB"))
    assert "## targets" in stdout
    for m in METRICS:
        if m.key in REQUIRED_FOR_THIS:
            assert m.label in stdout, m.label


def test_an_earlier_run_prints_again(quick_run: tuple[dict[str, Any], str], tmp_path: Path) -> None:
    saved = tmp_path / "bench.json"
    saved.write_text(json.dumps(quick_run[0]))
    run = subprocess.run(
        [sys.executable, "-m", "bench", "report", str(saved)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == quick_run[1].strip().rsplit("\nresults: ", 1)[0].strip()


def test_the_reminder_bench_reports_its_three_passes(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import reminders as reminder_bench

    assert reminder_bench.main(["--store", "sqlite", "--people", "3", "--apps", "2"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| 0")]
    assert [row.split(" | ")[:3] for row in rows] == [
        ["| 08 UTC", "3", "3"],
        ["| 08 UTC again", "3", "0"],
        ["| 09 UTC", "0", "0"],
    ]
