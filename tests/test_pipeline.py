"""One request pipeline: configuration resolved once per request, one clock, one store handle."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.test import Client

from chalicelib import clock, settings, web
from local_google.issuer import GoogleIssuer
from tests.conftest import ALLOWED, body, sign_in


def counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    calls: list[int] = []
    original = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


@pytest.mark.parametrize("path", ["/health", "/api/user", "/api/applications", "/openapi.json"])
def test_configuration_store_and_clock_are_resolved_once_per_request(
    client: Client, issuer: GoogleIssuer, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    token = body(sign_in(client, issuer.id_token()))["access_token"]
    loads = counting(monkeypatch, settings, "load")
    secrets = counting(monkeypatch, web, "jwt_secret")
    stores = counting(monkeypatch, web, "store_for")
    clocks = counting(monkeypatch, clock.Now, "read")
    response = client.http.get(path, headers={"Authorization": f"Bearer {token}", "Origin": ALLOWED})
    assert response.status_code == 200, response.body
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED  # the CORS middleware read it too
    assert (len(loads), len(secrets), len(clocks)) == (1, 1, 1)
    assert len(stores) == (1 if path.startswith("/api/") else 0)
