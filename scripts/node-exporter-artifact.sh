#!/bin/bash
# Pin and stage the node exporter the fleet instances install (docs/fleets.md). Run on a machine with
# network access: downloads node_exporter-<version>.linux-amd64.tar.gz of the release lib/versions.py
# pins (NODE_EXPORTER_VERSION) and the release's sha256sums.txt, checks one against the
# other, and prints the NODE_EXPORTER_SHA256 line for lib/versions.py. With ARTIFACT_BUCKET set (an
# environment's artifact bucket, `pulumi stack output artifact_bucket`), also uploads the tarball to
# where the instances fetch it: s3://$ARTIFACT_BUCKET/vendor/node_exporter/<version>/.
set -euo pipefail
PY=${PY:-python3}
cd "$(dirname "$0")/.."
VERSION=$($PY -c "from lib.versions import NODE_EXPORTER_VERSION; print(NODE_EXPORTER_VERSION)")
NAME=node_exporter-$VERSION.linux-amd64
URL=https://github.com/prometheus/node_exporter/releases/download/v$VERSION
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
curl -fsSL --retry 5 -o "$WORK/$NAME.tar.gz" "$URL/$NAME.tar.gz"
curl -fsSL --retry 5 -o "$WORK/sha256sums.txt" "$URL/sha256sums.txt"
(cd "$WORK" && grep " $NAME.tar.gz\$" sha256sums.txt | sha256sum --strict -c - >&2)
DIGEST=$(sha256sum "$WORK/$NAME.tar.gz" | cut -d' ' -f1)
echo "NODE_EXPORTER_SHA256: Final = \"$DIGEST\"  # $NAME.tar.gz"
if [ -n "${ARTIFACT_BUCKET:-}" ]; then
  aws s3 cp --only-show-errors "$WORK/$NAME.tar.gz" \
    "s3://$ARTIFACT_BUCKET/vendor/node_exporter/$VERSION/$NAME.tar.gz"
  echo "staged s3://$ARTIFACT_BUCKET/vendor/node_exporter/$VERSION/$NAME.tar.gz" >&2
fi
