#!/usr/bin/env bash
# Downloads the operator CRDs listed in tests/crds/crds.lock into a folder (default ./crds) for
# machines that do not have ../shared/crds beside the checkout (GitHub Actions). Every file must have
# the git blob id the lock file names, or the script fails. Then: PIPELINE_INFRA_CRDS=<folder> make test
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-crds}"
while read -r file repo commit path blob; do
  case "$file" in ''|'#'*) continue ;; esac
  mkdir -p "$out/$(dirname "$file")"
  curl -fsSL --retry 3 -o "$out/$file" "https://raw.githubusercontent.com/$repo/$commit/$path"
  got=$(git hash-object "$out/$file")
  if [ "$got" != "$blob" ]; then
    echo "fetch-crds: $file has blob $got, expected $blob" >&2
    exit 1
  fi
done < tests/crds/crds.lock
echo "fetch-crds: $(grep -cv '^#' tests/crds/crds.lock) CRDs in $out"
