#!/bin/bash
# Pin and stage the CloudWatch agent the fleet instances install (docs/fleets.md). Run on a machine with
# network access: downloads the vendor's Debian package of the release lib/versions.py pins
# (CLOUDWATCH_AGENT_VERSION), its detached signature and the vendor's public key, checks the key's
# fingerprint (the one AWS's CloudWatch agent documentation publishes) and the signature, and prints the
# CLOUDWATCH_AGENT_SHA256 line for lib/versions.py. With ARTIFACT_BUCKET set (an environment's artifact
# bucket, `pulumi stack output artifact_bucket`), also uploads the package to where the instances fetch
# it: s3://$ARTIFACT_BUCKET/vendor/amazon-cloudwatch-agent/<version>/amazon-cloudwatch-agent.deb.
set -euo pipefail
PY=${PY:-python3}
cd "$(dirname "$0")/.."
VERSION=$($PY -c "from lib.versions import CLOUDWATCH_AGENT_VERSION; print(CLOUDWATCH_AGENT_VERSION)")
FINGERPRINT=937616F3450B7D806CBD9725D58167303B789C72
URL=https://amazoncloudwatch-agent.s3.amazonaws.com
NAME=amazon-cloudwatch-agent.deb
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
curl -fsSL --retry 5 -o "$WORK/$NAME" "$URL/debian/amd64/$VERSION/$NAME"
curl -fsSL --retry 5 -o "$WORK/$NAME.sig" "$URL/debian/amd64/$VERSION/$NAME.sig"
curl -fsSL --retry 5 -o "$WORK/agent.gpg" "$URL/assets/amazon-cloudwatch-agent.gpg"
export GNUPGHOME="$WORK/gnupg"
mkdir -m 0700 "$GNUPGHOME"
gpg --batch --quiet --import "$WORK/agent.gpg"
gpg --batch --with-colons --fingerprint | grep -q "^fpr:::::::::$FINGERPRINT:" ||
  { echo "the downloaded key is not $FINGERPRINT" >&2; exit 1; }
gpg --batch --status-fd 1 --verify "$WORK/$NAME.sig" "$WORK/$NAME" 2>/dev/null | grep -q "VALIDSIG .*$FINGERPRINT" ||
  { echo "$NAME $VERSION: no valid signature by $FINGERPRINT" >&2; exit 1; }
DIGEST=$(sha256sum "$WORK/$NAME" | cut -d' ' -f1)
echo "CLOUDWATCH_AGENT_SHA256: Final = \"$DIGEST\"  # $NAME $VERSION"
if [ -n "${ARTIFACT_BUCKET:-}" ]; then
  aws s3 cp --only-show-errors "$WORK/$NAME" "s3://$ARTIFACT_BUCKET/vendor/amazon-cloudwatch-agent/$VERSION/$NAME"
  echo "staged s3://$ARTIFACT_BUCKET/vendor/amazon-cloudwatch-agent/$VERSION/$NAME" >&2
fi
