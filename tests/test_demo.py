"""`make demo`: a populated account, through the API, that shows every part of the analytics; twice adds nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from chalicelib.settings import ENV_NAMES
from local_google import demo
from tests.chalice_local import run_chalice_local
from tests.conftest import ROOT, project_dir


def get(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_make_demo_fills_a_tracker_whose_stats_and_agenda_show_everything(tmp_path: Path) -> None:
    # The dev stage as committed (it trusts the stand-in's key), with its own database.
    project = project_dir(tmp_path, {"dev": {"SQLITE_PATH": str(tmp_path / "demo.db")}})
    for name in ("app.py", "chalicelib", "local_google"):
        (project / name).symlink_to(ROOT / name)
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    with run_chalice_local(env, log_path=tmp_path / "chalice-local.log", project_dir=project, cwd=ROOT) as server:
        first = demo.populate(server.url, "demo@example.com")
        again = demo.populate(server.url, "demo@example.com")
        token = again["access_token"]
        stats = get(f"{server.url}/api/applications/stats", token)
        agenda = get(f"{server.url}/api/interviews", token)
        everything = get(f"{server.url}/api/applications?limit=100", token)
    assert first["created"] == len(demo.COMPANIES) and again["created"] == 0
    assert len(everything["items"]) == len(demo.COMPANIES)  # the second run duplicated nothing
    assert all(count > 0 for count in stats["by_status"].values())  # every status
    assert all(count > 0 for count in stats["funnel"].values()) and stats["median_days_to_response"] is not None
    assert len(stats["by_source"]) == len(demo.SOURCES)
    assert sum(week["count"] for week in stats["weekly_applied"]) > 0
    assert stats["interviews"]["upcoming"] > 0
    now = dt.datetime.now(dt.UTC).isoformat()
    assert agenda["items"] and all(item["starts_at"] >= now[:19] for item in agenda["items"])
    assert any(a["contacts"] for a in everything["items"]) and any(a["next_follow_up_on"] for a in everything["items"])
