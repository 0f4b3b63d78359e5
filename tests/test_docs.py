"""GET /docs: the page and its vendored assets, served as SERVE_DOCS says (the browser test is tests/e2e/test_docs.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from chalicelib import docs
from tests.conftest import MakeClient, body

SWAGGER_UI = Path(docs.__file__).resolve().parent / "swagger_ui"


def test_dev_serves_the_page_and_its_assets(make_client: MakeClient) -> None:
    client = make_client("dev")
    page = client.http.get("/docs")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    text = page.body.decode()
    for src in ('href="docs/swagger-ui.css"', 'src="docs/swagger-ui-bundle.js"', 'src="docs/init.js"'):
        assert src in text
    assert "https://" not in text and "http://" not in text  # nothing from a CDN
    for name, kind in (
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("init.js", "text/javascript"),
    ):
        response = client.http.get(f"/docs/{name}")
        assert response.status_code == 200, name
        assert response.headers["Content-Type"].startswith(kind)
    bundle = client.http.get("/docs/swagger-ui-bundle.js").body
    assert bundle == (SWAGGER_UI / "swagger-ui-bundle.js").read_bytes()
    assert b'"openapi.json"' in client.http.get("/docs/init.js").body
    for name in ("LICENSE", "SHA256SUMS", "..%2Fdocs.py", "nope.js"):
        missing = client.http.get(f"/docs/{name}")
        assert missing.status_code == 404 and body(missing)["field"] == "asset", name


def test_unknown_asset_names_are_404_and_never_cached(make_client: MakeClient) -> None:
    client = make_client("dev")
    assert client.http.get("/docs/init.js").status_code == 200
    for n in range(50):
        missing = client.http.get(f"/docs/made-up-{n}.js")
        assert missing.status_code == 404 and body(missing)["field"] == "asset"
    # Whatever docs.py caches (functools.cache), it holds at most one entry per known asset.
    cached = [f for f in vars(docs).values() if callable(f) and hasattr(f, "cache_info")]
    assert cached and all(f.cache_info().currsize <= len(docs.ASSETS) for f in cached)


def test_prod_serves_them_only_when_set(make_client: MakeClient) -> None:
    off = make_client("prod")
    assert off.http.get("/docs").status_code == 404
    assert "SERVE_DOCS" in body(off.http.get("/docs"))["message"]
    assert off.http.get("/docs/swagger-ui.css").status_code == 404
    on = make_client("prod", SERVE_DOCS="true")
    assert on.http.get("/docs").status_code == 200
    assert on.http.get("/docs/swagger-ui.css").status_code == 200
    assert make_client("dev", SERVE_DOCS="false").http.get("/docs").status_code == 404


def test_the_vendored_files_are_swagger_ui_dists_unchanged() -> None:
    sums = (SWAGGER_UI / "SHA256SUMS").read_text().split("\n")
    listed = {name: digest for digest, name in (line.split() for line in sums if line.strip())}
    assert set(listed) == {
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "LICENSE",
        "NOTICE",
        "swagger-ui-bundle.js.LICENSE.txt",
    }
    for name, digest in listed.items():
        assert hashlib.sha256((SWAGGER_UI / name).read_bytes()).hexdigest() == digest, name
