#!/usr/bin/env bash
# `make run`: the local Google stand-in on 127.0.0.1:8765 (for GET /token) and the API on $PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
.venv/bin/python -m local_google serve --port "${LOCAL_GOOGLE_PORT:-8765}" &
stand_in=$!
trap 'kill "$stand_in" 2>/dev/null || true' EXIT INT TERM
# --no-autoreload: chalice's reloader polls every file under the project (the venv included) and
# restarts on any change -- the SQLite database's own writes among them, which dropped requests.
# Restart `make run` after editing code.
echo "Serving the dev stage on http://localhost:$PORT (the Google stand-in on 127.0.0.1:${LOCAL_GOOGLE_PORT:-8765}); Ctrl-C stops both."
.venv/bin/chalice local --stage dev --port "$PORT" --no-autoreload
