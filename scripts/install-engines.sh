#!/usr/bin/env bash
# Installs the real engines the tests check rendered artifacts with, when they are missing:
# promtool (Debian prometheus), amtool (prometheus-alertmanager), PostgreSQL 15 server binaries,
# logrotate (the fleets' log rotation); for the host suite's local hosts (make test-hosts) debootstrap,
# systemd-nspawn, iproute2 (network namespaces), openssl (the stand-ins' CA) and the ssh client.
# Needs root (or sudo) for apt-get; without it, says what is missing and the engine tests skip.
set -euo pipefail

need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v cloud-init >/dev/null 2>&1 || need+=(cloud-init)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
command -v logrotate >/dev/null 2>&1 || need+=(logrotate)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v systemd-nspawn >/dev/null 2>&1 || need+=(systemd-container)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
for pkg in ${EXTRA_ENGINE_PACKAGES:-}; do need+=("$pkg"); done

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "engines: missing ${need[*]}; install them (apt-get install ${need[*]}) or the engine tests skip" >&2
  exit 0
fi
echo "engines: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# --no-install-recommends keeps this to the binaries; the services are not started.
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
