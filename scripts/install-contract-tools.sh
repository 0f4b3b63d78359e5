#!/usr/bin/env bash
# Install the tools the contract tests (tests/contract) run, as a frontend developer would:
# openapi-typescript, TypeScript (tsc) and Redocly CLI, at the versions package-lock.json pins.
#
# Only the npm registry is contacted (npm's cache is used first), and no package scripts run
# (--ignore-scripts). Idempotent: does nothing when node_modules already matches the lock file.
# The Python client generator (openapi-python-client) comes from requirements-dev.txt.
#
# Usage: bash scripts/install-contract-tools.sh
set -euo pipefail

contract_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/contract" && pwd)"
stamp="${contract_dir}/node_modules/.installed-from-lock"

if ! command -v npm >/dev/null 2>&1; then
    echo "error: 'npm' was not found; the contract tests need Node.js 20.19+ and npm." >&2
    echo "       On Debian/Ubuntu: apt-get install -y nodejs npm" >&2
    exit 1
fi

lock_sum="$(sha256sum "${contract_dir}/package-lock.json" | cut -d' ' -f1)"
if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${lock_sum}" ]]; then
    exit 0
fi
(cd "${contract_dir}" && npm ci --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error)
echo "${lock_sum}" > "${stamp}"
