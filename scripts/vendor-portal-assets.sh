#!/usr/bin/env bash
# Vendor the portal's charting library (uPlot, MIT) from npm into the gateway's
# static files. The vendored files are committed: the portal loads nothing from
# a CDN and works with no internet. Re-run to upgrade: scripts/vendor-portal-assets.sh [version]
set -euo pipefail

VERSION="${1:-1.6.32}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/services/gateway/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm pack --silent "uplot@$VERSION" >/dev/null && tar -xzf uplot-*.tgz)
mkdir -p "$DEST"
cp "$WORK/package/dist/uPlot.esm.js" "$DEST/uPlot.esm.js"
cp "$WORK/package/dist/uPlot.min.css" "$DEST/uPlot.min.css"
cp "$WORK/package/LICENSE" "$DEST/uPlot.LICENSE"
echo "uplot@$VERSION" > "$DEST/VERSIONS"
echo "vendored uplot@$VERSION into $DEST"
