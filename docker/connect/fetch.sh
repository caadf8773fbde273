#!/bin/sh
# pipeline-fetch URL SHA256 DEST: download URL to DEST and check its SHA-256; fail on any mismatch.
# An empty SHA256 fails too: the file's checksum is not pinned in components/versions.py
# (CONNECT_ARTIFACT_SHA256; `make connect-checksums` prints it).
set -eu
url="$1" sum="$2" dest="$3"
if [ -z "$url" ]; then
    echo "pipeline-fetch: no URL given (build arguments come from components/local/artifacts.py)" >&2
    exit 1
fi
if [ -z "$sum" ]; then
    echo "pipeline-fetch: no SHA-256 pinned for $url: set it in components/versions.py" \
         "CONNECT_ARTIFACT_SHA256 (make connect-checksums prints it)" >&2
    exit 1
fi
case "$sum" in
    *[!0-9a-f]*) echo "pipeline-fetch: $sum is not a lowercase hex SHA-256" >&2; exit 1 ;;
esac
if [ "${#sum}" -ne 64 ]; then
    echo "pipeline-fetch: $sum is not a SHA-256 (64 hex digits)" >&2
    exit 1
fi
curl -fsSL --retry 3 -o "$dest" "$url"
echo "$sum  $dest" | sha256sum -c - || { rm -f "$dest"; exit 1; }
