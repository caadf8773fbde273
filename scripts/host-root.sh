#!/bin/bash
# Builds, once per machine, the root of the local host tests/hosts boots: Debian 12 (bookworm, the
# fleets' image) by debootstrap with the packages of tests/hosts/image/packages.txt, in a cache
# directory named by the digest of that list, the suite and this script. Prints the root's path.
# A root whose build did not finish is never used: it is built under a temporary name and renamed.
#   scripts/host-root.sh            build if missing, print the path
#   HOST_ROOT_CACHE=/dir            where roots are kept (default /var/cache/pipeline-infra)
set -euo pipefail
cd "$(dirname "$0")/.."
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
LIST=tests/hosts/image/packages.txt
CACHE=${HOST_ROOT_CACHE:-/var/cache/pipeline-infra}
packages=$(grep -v '^\s*#' "$LIST" | grep -v '^\s*$' | sort -u | paste -sd, -)
key=$( (echo "$SUITE $packages"; cat "$0") | sha256sum | cut -c1-16)
root="$CACHE/debian-12-$key"
if [ -f "$root/.pipeline-host-root" ]; then
  echo "$root"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "host-root: debootstrap needs root" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "host-root: debootstrap missing (make engines)" >&2; exit 1; }
mkdir -p "$CACHE"
tmp="$root.building.$$"
trap 'rm -rf "$tmp"' EXIT
echo "host-root: debootstrap $SUITE into $root (once per machine, a few minutes)" >&2
debootstrap --variant=minbase --include="$packages" "$SUITE" "$tmp" "$MIRROR" >"$CACHE/debootstrap-$key.log" 2>&1 \
  || { tail -20 "$CACHE/debootstrap-$key.log" >&2; exit 1; }
# The image's own state, not a test host's: the en_US.UTF-8 locale cloud-init sets by default (its
# locale module fails without it), no machine id (systemd makes one at first boot), apt's downloaded
# packages dropped.
sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' "$tmp/etc/locale.gen"
chroot "$tmp" locale-gen >/dev/null
: > "$tmp/etc/machine-id"
rm -f "$tmp"/var/cache/apt/archives/*.deb
echo "$SUITE $packages" > "$tmp/.pipeline-host-root"
mv "$tmp" "$root"
trap - EXIT
echo "$root"
