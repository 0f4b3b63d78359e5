#!/usr/bin/env bash
# Re-vendor Swagger UI into chalicelib/swagger_ui from the npm package swagger-ui-dist, and check
# the files against chalicelib/swagger_ui/SHA256SUMS. To upgrade: change VERSION, run with
# --update (rewrites SHA256SUMS), and review the diff.
set -euo pipefail
VERSION="${SWAGGER_UI_VERSION:-5.35.0}"
FILES=(swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt)
here="$(cd "$(dirname "$0")/.." && pwd)"
target="$here/chalicelib/swagger_ui"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "swagger-ui-dist@$VERSION" >/dev/null && tar -xzf "swagger-ui-dist-$VERSION.tgz")
for name in "${FILES[@]}"; do cp "$work/package/$name" "$target/$name"; done
cd "$target"
if [[ "${1:-}" == "--update" ]]; then
    sha256sum "${FILES[@]}" > SHA256SUMS
fi
sha256sum --check --quiet SHA256SUMS
echo "swagger-ui-dist $VERSION vendored in chalicelib/swagger_ui"
