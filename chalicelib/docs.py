"""GET /docs: Swagger UI for /openapi.json, from files vendored in chalicelib/swagger_ui (no CDN).

The page and its script are ours; the bundle and stylesheet are swagger-ui-dist's, read from the
package on first request and kept. Every URL here is relative, so the page works at /docs and
behind API Gateway's stage prefix alike: its assets are at docs/<name>, the document at
openapi.json, and "Try it out" calls the API at the document's own origin and path.
"""

from __future__ import annotations

import functools
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "swagger_ui"
TITLE = "Job Hunt Tracker API: interactive docs"

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{TITLE}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
"""

# Sign in with POST /auth/google (or `make token`), press Authorize and paste the access_token.
INIT = """window.ui = SwaggerUIBundle({
  url: new URL("openapi.json", document.baseURI).href,
  dom_id: "#swagger-ui",
  deepLinking: true,
  displayOperationId: true,
  docExpansion: "list",
  tryItOutEnabled: true,
});
"""

# What /docs/<name> serves: name -> content type. Nothing else in the folder is reachable.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "init.js": "text/javascript; charset=utf-8",
}


def asset(name: str) -> tuple[str, str] | None:
    """The text and content type of a docs asset, or None when there is no such asset."""
    content_type = ASSETS.get(name)
    if content_type is None:
        return None  # looked up before any cache: a client's made-up names are never kept
    return _read(name), content_type


@functools.cache
def _read(name: str) -> str:
    """A known asset's text (read once per process; only ASSETS' names reach here)."""
    if name == "init.js":
        return INIT
    return (ASSETS_DIR / name).read_text(encoding="utf-8")
