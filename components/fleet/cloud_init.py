"""cloud-init of a module instance, rendered by pure functions (no Pulumi, no I/O).

The user data is a `#cloud-config` document that stages files under /var/lib/pipeline-bootstrap and
runs one script, `bootstrap.sh all`, whose steps are:

  user       the `pipeline` system user and group
  volume     the data volume (device name /dev/sdf, NVMe on Nitro) formatted if blank, mounted on
             /opt/pipeline/<module>/data (fstab by UUID, nofail); beta's cache/ and gamma's dlq/ are
             bind mounts of directories on it
  layout     /opt/pipeline/<module>/{bin,config,lib,logs,data,...} with seed 003's permissions, the
             module's config, helper scripts and systemd units. Honours PIPELINE_ROOT (a filesystem
             prefix) so that the tree can be laid out and checked under a temporary root.
  artifact   download from the artifact bucket, sha256 verification (seed 003 Artifact
             Verification), install; a mismatch stops the bootstrap and nothing is started
  logs       logrotate (seed 003 Log Rotation), journald bounds, the CloudWatch agent's configuration
  services   systemd: the module service and the 4-hourly state backup timer
  agent      the CloudWatch agent's Debian package from the artifact bucket
             (vendor/amazon-cloudwatch-agent/<version>/), checked against the digest pinned in
             lib/versions.py, installed with dpkg and started with the configuration of `logs`
  exporter   the node exporter tarball from the artifact bucket (vendor/node_exporter/<version>/),
             checked against the digest pinned in lib/versions.py
  agent and exporter run after the module has started, each on its own: without a pin, or on a
  mismatch, that one is not installed (fails closed) and the bootstrap exits non-zero

Nothing comes from the internet: every download is from the artifact bucket through the VPC's S3
gateway endpoint, by `pipeline-http` (Python standard library, SigV4 with the instance role). The
commands used are those of a Debian 12 (bookworm) base system (docs/fleets.md), which is the fleets'
image; the bootstrap checks for them first.
"""

from __future__ import annotations

import gzip
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.fleet import credentials
from components.fleet.profile import HEALTH_PATH, STATE_BACKUP_CALENDAR, profile
from lib import logs

STAGE = "/var/lib/pipeline-bootstrap"
# the CloudWatch agent's configuration directory (its package's layout)
AGENT_DIR = "/opt/aws/amazon-cloudwatch-agent/etc"
# node exporter textfile collector: the state backup writes its last success here
TEXTFILE_DIR = "/var/lib/node_exporter/textfile"
STATE_METRIC = "pipeline_state_backup_last_success_timestamp_seconds"
DATA_DEVICE = "/dev/sdf"
SERVICE_USER = "pipeline"
# EC2 accepts at most 16 KiB of user data (before base64; here: gzip-compressed).
USER_DATA_LIMIT = 16384
# Directories on the data volume that other module directories bind-mount (the volume's purpose
# in capacity-plan.yaml: beta cache, gamma DLQ).
VOLUME_BINDS: dict[str, tuple[str, ...]] = {"alpha": (), "beta": ("cache",), "gamma": ("dlq",)}
# The fetch/upload helper every script uses (installed in bin/ and run from the stage before).
HTTP_HELPER = Path(__file__).with_name("pipeline_http.py")
# Commands the bootstrap and the helper scripts run: all in a Debian 12 base system (coreutils,
# util-linux, e2fsprogs, passwd, tar, gzip, iproute2, systemd, python3 for cloud-init itself).
REQUIRED_COMMANDS = (
    "python3", "sha256sum", "tar", "gzip", "lsblk", "blkid", "mkfs.ext4", "mount", "mountpoint",
    "useradd", "groupadd", "getent", "install", "systemctl", "ss", "find", "xargs", "sort", "dpkg",
)
# The CloudWatch agent's Debian package in the artifact bucket (the vendor's package, staged there
# with `make cloudwatch-agent-artifact`; installed with dpkg, no package repository).
AGENT_PACKAGE = "amazon-cloudwatch-agent.deb"


def node_exporter_key(version: str) -> str:
    """Where the node exporter release tarball sits in the artifact bucket (staged there with
    `make node-exporter-artifact`, docs/fleets.md)."""
    return f"vendor/node_exporter/{version}/node_exporter-{version}.linux-amd64.tar.gz"


def agent_key(version: str) -> str:
    """Where the CloudWatch agent's Debian package sits in the artifact bucket."""
    return f"vendor/amazon-cloudwatch-agent/{version}/{AGENT_PACKAGE}"
# Names only a Kubernetes cluster's DNS resolves; an EC2 instance cannot reach them.
CLUSTER_INTERNAL = re.compile(r"\.svc(\.cluster\.local)?(:|/|$)|\.cluster\.local(:|/|$)")


def cluster_internal(address: str) -> bool:
    """Whether `address` (host, host:port or URL) is a cluster-internal name (*.svc, *.cluster.local)."""
    return bool(CLUSTER_INTERNAL.search(address))


def _is_digest(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


@dataclass(frozen=True)
class CloudInitSpec:
    """Everything the user data of one module's instances depends on (resolved values)."""

    module: str
    environment: str
    colour: str
    region: str
    params: dict[str, int | float | bool | str]
    artifact_bucket: str
    artifact_version: str
    backup_bucket: str
    otlp_endpoint: str
    listen_ports: tuple[int, ...]
    health_port: int
    metrics_port: int
    drain_seconds: int
    node_exporter_version: str
    # The node exporter tarball's sha256 (lib/versions.py NODE_EXPORTER_SHA256); "" = not pinned yet.
    node_exporter_sha256: str = ""
    # The CloudWatch agent's release and its .deb's sha256 (lib/versions.py CLOUDWATCH_AGENT_*).
    agent_version: str = ""
    agent_sha256: str = ""
    artifact_sha256: str | None = None
    handoff_target: str | None = None  # host:port of the downstream module's load balancer
    kafka_bootstrap_servers: str | None = None
    database_endpoint: str | None = None  # host:port of the fleets' PostgreSQL endpoint

    def __post_init__(self) -> None:
        profile(self.module)  # raises on an unknown module
        if self.artifact_sha256 is not None and not _is_digest(self.artifact_sha256):
            raise ValueError("artifact_sha256 must be 64 lowercase hex characters")
        if self.node_exporter_sha256 and not _is_digest(self.node_exporter_sha256):
            raise ValueError("node_exporter_sha256 must be empty or 64 lowercase hex characters")
        if self.agent_sha256 and not _is_digest(self.agent_sha256):
            raise ValueError("agent_sha256 must be empty or 64 lowercase hex characters")
        for name in ("otlp_endpoint", "handoff_target", "kafka_bootstrap_servers"):
            value = getattr(self, name)
            if value and any(cluster_internal(v) for v in value.split(",")):
                raise ValueError(f"{name} {value!r} is a cluster-internal name: EC2 cannot resolve it")
        if not self.listen_ports:
            raise ValueError("listen_ports: at least one port")
        if self.drain_seconds < 1:
            raise ValueError("drain_seconds must be positive")

    @property
    def base(self) -> str:
        return f"/opt/pipeline/{self.module}"


def module_config(spec: CloudInitSpec) -> dict[str, Any]:
    """<module>.yaml: the seed's environment parameters (003 Step 3) and the endpoints. No secret:
    credentials are references the application resolves at run time (003 Step 3, credential
    reference setup)."""
    p = profile(spec.module)
    doc: dict[str, Any] = {
        "module": spec.module,
        "role": p.role,
        "environment": spec.environment,
        "colour": spec.colour,
        "version": spec.artifact_version,
        **{k: spec.params[k] for k in sorted(spec.params)},
        "listen": {
            "ports": list(spec.listen_ports),
            "health_port": spec.health_port,
            "health_path": HEALTH_PATH,
            "metrics_path": "/metrics",
        },
        "drain_timeout_seconds": spec.drain_seconds,
        "paths": {d: f"{spec.base}/{d}" for d in ("data", "logs", *p.extra_dirs)},
        "telemetry": {"otlp_endpoint": spec.otlp_endpoint, "service_name": f"pipeline-{spec.module}"},
    }
    if p.downstream is not None:
        doc["handoff"] = {"module": p.downstream, "target": spec.handoff_target}
    if p.uses_kafka and spec.kafka_bootstrap_servers:
        # The fleets' listener (SCRAM-SHA-512 over TLS); user, password and CA from credentials_ref.
        doc["kafka"] = {
            "bootstrap_servers": spec.kafka_bootstrap_servers,
            "security_protocol": credentials.KAFKA_PROTOCOL,
            "sasl_mechanism": credentials.KAFKA_MECHANISM,
            "group_id": f"pipeline-{spec.module}",
            "credentials_ref": credentials.credentials_ref(spec.environment, spec.module, "kafka"),
        }
    # Every module keeps its state in pipeline_db (seed 003 Database Maintenance: validation_cache,
    # transformation_state, delivery_tracking), through the fleets' endpoint (PgBouncer, TLS).
    doc["database"] = {
        "name": "pipeline_db",
        **({"endpoint": spec.database_endpoint, "sslmode": "require"} if spec.database_endpoint else {}),
        "credentials_ref": credentials.credentials_ref(spec.environment, spec.module, "postgres"),
    }
    return doc


def module_yaml(spec: CloudInitSpec) -> str:
    header = (
        f"# {spec.module}.yaml: rendered by pipeline-infra (seed 003 Module {spec.module.title()} Step 3)\n"
    )
    return header + yaml.safe_dump(module_config(spec), sort_keys=False, default_flow_style=False)


# --- systemd units ------------------------------------------------------------------------------
def service_unit(spec: CloudInitSpec) -> str:
    p = profile(spec.module)
    base = spec.base
    rw = " ".join(f"{base}/{d}" for d in ("data", "logs", *(d for d in p.extra_dirs if d != "templates")))
    return f"""[Unit]
Description=Pipeline module {spec.module} ({p.role})
Wants=network-online.target
After=network-online.target
RequiresMountsFor={base}/data

[Service]
Type=simple
User={SERVICE_USER}
Group={SERVICE_USER}
WorkingDirectory={base}
ExecStartPre={base}/bin/pipeline-verify-artifact
ExecStart={base}/bin/{spec.module} --config {base}/config/{spec.module}.yaml
ExecStop={base}/bin/pipeline-drain $MAINPID
TimeoutStopSec={spec.drain_seconds + 30}
KillMode=mixed
Restart=on-failure
RestartSec=5s
LimitNOFILE=65536
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
MemoryDenyWriteExecute=no
CapabilityBoundingSet=
AmbientCapabilities=
SystemCallArchitectures=native
UMask=0027
ReadWritePaths={rw}

[Install]
WantedBy=multi-user.target
"""


def backup_service_unit(spec: CloudInitSpec) -> str:
    return f"""[Unit]
Description=State backup of pipeline module {spec.module} to s3://{spec.backup_bucket}/state/{spec.module}/
Wants=network-online.target
After=network-online.target
RequiresMountsFor={spec.base}/data

[Service]
Type=oneshot
ExecStart={spec.base}/bin/pipeline-state-backup
Nice=10
IOSchedulingClass=idle
NoNewPrivileges=yes
PrivateTmp=yes
ProtectHome=yes
"""


def backup_timer_unit(spec: CloudInitSpec) -> str:
    return f"""[Unit]
Description=Every 4 hours at :00: state backup of pipeline module {spec.module} (seed 003 Backup Schedules)

[Timer]
OnCalendar={STATE_BACKUP_CALENDAR}
Persistent=true
Unit=pipeline-{spec.module}-state-backup.service

[Install]
WantedBy=timers.target
"""


def node_exporter_unit(spec: CloudInitSpec) -> str:
    return f"""[Unit]
Description=Prometheus node exporter {spec.node_exporter_version}
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
DynamicUser=yes
ExecStart=/usr/local/bin/node_exporter --web.listen-address=:{spec.metrics_port} --collector.systemd \\
  --collector.textfile.directory={TEXTFILE_DIR}
Restart=on-failure
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
"""


def units(spec: CloudInitSpec) -> dict[str, str]:
    m = spec.module
    return {
        f"pipeline-{m}.service": service_unit(spec),
        f"pipeline-{m}-state-backup.service": backup_service_unit(spec),
        f"pipeline-{m}-state-backup.timer": backup_timer_unit(spec),
        "node_exporter.service": node_exporter_unit(spec),
    }


# --- helper scripts installed in bin/ -------------------------------------------------------------
def drain_script(spec: CloudInitSpec) -> str:
    ports = " ".join(str(p) for p in spec.listen_ports)
    return f"""#!/bin/bash
# Drain {spec.module} before stop (seed 003 Rolling Update: stop taking records, let in-flight work
# finish, at most {spec.drain_seconds} s, then verify no data flow remains).
set -u
"{spec.base}/bin/pipeline-http" post http://127.0.0.1:{spec.health_port}/admin/drain >/dev/null 2>&1 || true
deadline=$((SECONDS + {spec.drain_seconds}))
while [ "$SECONDS" -lt "$deadline" ]; do
  open=0
  for port in {ports}; do
    n=$(ss -Htn state established "( sport = :$port )" 2>/dev/null | wc -l)
    open=$((open + n))
  done
  [ "$open" -eq 0 ] && exit 0
  sleep 2
done
echo "drain: connections still open after {spec.drain_seconds} s" >&2
exit 0
"""


def verify_script(spec: CloudInitSpec) -> str:
    return f"""#!/bin/bash
# Refuse to start {spec.module} unless the installed artifact matches its sha256 (seed 003 Artifact
# Verification) and the installed files match the manifest written at installation.
set -euo pipefail
BASE="${{PIPELINE_ROOT:-}}{spec.base}"
cd "$BASE/lib/artifact"
sha256sum --quiet --strict -c "$BASE/config/artifact.sha256"
cd "$BASE"
sha256sum --quiet --strict -c "$BASE/config/installed.sha256"
"""


def state_backup_script(spec: CloudInitSpec) -> str:
    """003 Backup Procedures > State Backup, per module; uploads to s3://<backup>/state/<module>/."""
    m, base, admin = spec.module, spec.base, f"http://127.0.0.1:{spec.health_port}/admin"
    http = f"{base}/bin/pipeline-http"
    lines = [
        "#!/bin/bash",
        f"# 4-hourly state backup of {m} (seed 003 Backup Procedures > State Backup).",
        "set -euo pipefail",
        "STAMP=$(date -u +%Y%m%d-%H%M%S)",
        f"HTTP={http}",
        'HOST=$("$HTTP" imds meta-data/instance-id || hostname)',
        "WORK=$(mktemp -d)",
        "trap 'rm -rf \"$WORK\"' EXIT",
    ]
    if m == "alpha":
        lines += [
            f'"$HTTP" post {admin}/pause',
            "trap '\"$HTTP\" post " + admin + '/resume; rm -rf "$WORK"\' EXIT',
            f'tar -czf "$WORK/alpha-state-$STAMP.tar.gz" -C {base} data',
            f'"$HTTP" post {admin}/resume',
        ]
    elif m == "beta":
        lines += [
            f'"$HTTP" post {admin}/drain',
            f'"$HTTP" get {admin}/cache/export "$WORK/beta-cache-$STAMP.json"',
            f'tar -czf "$WORK/beta-state-$STAMP.tar.gz" -C {base} data',
            f'"$HTTP" post {admin}/resume || true',
        ]
    else:
        lines += [
            f'tar -czf "$WORK/gamma-dlq-$STAMP.tar.gz" -C {base} dlq',
            f'tar -czf "$WORK/gamma-state-$STAMP.tar.gz" -C {base} data',
        ]
    lines += [
        # seed 003 State Recovery downloads <module>-state-latest.tar.gz (beta-cache-latest.json, ...):
        # each file under its stamped name and as the latest copy
        'for f in "$WORK"/*; do n=${f##*/}; for k in "$n" "${n/$STAMP/latest}"; do',
        f'  AWS_REGION={spec.region} "$HTTP" s3-put "$f" {shlex.quote(spec.backup_bucket)} '
        f'"state/{m}/$HOST/$k"',
        "done; done",
        # the last success, for the node exporter's textfile collector (alert PipelineStateBackupStale)
        f"mkdir -p {TEXTFILE_DIR}",
        f"printf '# TYPE {STATE_METRIC} gauge\\n{STATE_METRIC} %s\\n' \"$(date +%s)\""
        f" > {TEXTFILE_DIR}/.state.tmp",
        f"mv {TEXTFILE_DIR}/.state.tmp {TEXTFILE_DIR}/pipeline_state_backup.prom",
        "",
    ]
    return "\n".join(lines)


# --- bootstrap ------------------------------------------------------------------------------------
def bootstrap_script(spec: CloudInitSpec) -> str:
    p = profile(spec.module)
    m = spec.module
    pipeline_dirs = " ".join(d for d in ("data", "logs", *p.extra_dirs) if d != "templates")
    root_group_dirs = "config" + (" templates" if "templates" in p.extra_dirs else "")
    binds = " ".join(VOLUME_BINDS[m])
    sha = spec.artifact_sha256 or ""
    key = f"artifacts/{m}/{spec.artifact_version}/{m}-{spec.artifact_version}.tar.gz"
    q = shlex.quote
    return f"""#!/bin/bash
# Bootstrap of a pipeline module {m} instance. Steps: user volume layout artifact logs services agent
# exporter (`all` runs them in that order). PIPELINE_ROOT prefixes every path the steps write.
set -euo pipefail
umask 027
ROOT="${{PIPELINE_ROOT:-}}"
MODULE={m}
BASE="$ROOT/opt/pipeline/$MODULE"
STAGE="$ROOT{STAGE}"
HTTP="$STAGE/pipeline-http"
USR={SERVICE_USER}
export AWS_REGION={q(spec.region)}
ARTIFACT_BUCKET={q(spec.artifact_bucket)}
ARTIFACT_KEY={q(key)}
ARTIFACT_FILE={q(f"{m}-{spec.artifact_version}.tar.gz")}
ARTIFACT_SHA256={q(sha)}
DATA_DEVICE={DATA_DEVICE}
NE_VERSION={q(spec.node_exporter_version)}
NE_KEY={q(node_exporter_key(spec.node_exporter_version))}
NE_SHA256={q(spec.node_exporter_sha256)}
CWA_VERSION={q(spec.agent_version)}
CWA_KEY={q(agent_key(spec.agent_version))}
CWA_SHA256={q(spec.agent_sha256)}

CLEAN=()
trap 'rm -rf "${{CLEAN[@]}}"' EXIT

log() {{ echo "pipeline-bootstrap[$MODULE]: $*" >&2; }}

preflight() {{
  local c missing=()
  for c in {" ".join(REQUIRED_COMMANDS)}; do command -v "$c" >/dev/null || missing+=("$c"); done
  [ ${{#missing[@]}} -eq 0 ] && return 0
  log "missing commands: ${{missing[*]}} (a Debian 12 image has them)"; exit 1
}}

step_user() {{
  getent group "$USR" >/dev/null || groupadd --system "$USR"
  id -u "$USR" >/dev/null 2>&1 || useradd --system --gid "$USR" --no-create-home \\
    --home-dir /opt/pipeline --shell /usr/sbin/nologin "$USR"
}}

dir() {{ # dir MODE OWNER GROUP PATH...
  local mode=$1 owner=$2 group=$3; shift 3
  (umask 022; mkdir -p "$@"); chown "$owner:$group" "$@"; chmod "$mode" "$@"
}}

step_layout() {{
  dir 0755 root root "$ROOT/opt/pipeline"
  dir 0755 root "$USR" "$BASE"
  dir 0755 root root "$BASE/bin" "$BASE/lib" "$BASE/lib/artifact"
  for d in {root_group_dirs}; do dir 0750 root "$USR" "$BASE/$d"; done
  for d in {pipeline_dirs}; do dir 0750 "$USR" "$USR" "$BASE/$d"; done
  install -m 0640 -o root -g "$USR" "$STAGE/$MODULE.yaml" "$BASE/config/$MODULE.yaml"
  for s in pipeline-drain pipeline-verify-artifact pipeline-state-backup pipeline-http; do
    install -m 0755 -o root -g root "$STAGE/$s" "$BASE/bin/$s"
  done
  dir 0755 root root "$ROOT/etc/systemd/system"
  for u in "$STAGE"/units/*; do install -m 0644 -o root -g root "$u" "$ROOT/etc/systemd/system/"; done
}}

find_device() {{
  # Nitro instances show EBS volumes as NVMe disks in no fixed order, and Debian makes no /dev/sdf
  # link: the data volume is the EBS disk that is not the root disk (the launch template maps
  # exactly two). /dev/sdf or /dev/xvdf exist on Xen instance types.
  local i dev root
  root=$(lsblk -no PKNAME "$(findmnt -no SOURCE /)" 2>/dev/null | head -n1)
  for i in $(seq 60); do
    for dev in "$DATA_DEVICE" /dev/xvdf; do [ -b "$dev" ] && {{ readlink -f "$dev"; return 0; }}; done
    dev=$(lsblk -dn -o NAME,MODEL |
      awk -v r="$root" '$1 != r && /Elastic Block Store/ {{print "/dev/" $1; exit}}')
    [ -n "$dev" ] && {{ echo "$dev"; return 0; }}
    sleep 2
  done
  return 1
}}

step_volume() {{
  local dev uuid b
  dev=$(find_device) || {{ log "data volume $DATA_DEVICE not found"; return 1; }}
  blkid -p "$dev" >/dev/null 2>&1 || mkfs.ext4 -q -L "$MODULE-data" "$dev"
  uuid=$(blkid -s UUID -o value "$dev")
  mkdir -p "$BASE/data"
  grep -q "UUID=$uuid" /etc/fstab || \\
    echo "UUID=$uuid $BASE/data ext4 defaults,noatime,nofail,x-systemd.device-timeout=60s 0 2" >> /etc/fstab
  mountpoint -q "$BASE/data" || mount "$BASE/data"
  for b in {binds}; do
    mkdir -p "$BASE/data/$b" "$BASE/$b"
    grep -q " $BASE/$b none bind" /etc/fstab || \\
      echo "$BASE/data/$b $BASE/$b none bind,nofail,x-systemd.requires-mounts-for=$BASE/data 0 0" \\
        >> /etc/fstab
    mountpoint -q "$BASE/$b" || mount "$BASE/$b"
  done
}}

step_artifact() {{
  local work expected
  work=$(mktemp -d); CLEAN+=("$work")
  "$HTTP" s3-get "$ARTIFACT_BUCKET" "$ARTIFACT_KEY" "$work/$ARTIFACT_FILE"
  expected=$ARTIFACT_SHA256
  if [ -z "$expected" ]; then  # no pinned digest: the checksum published beside the artifact
    "$HTTP" s3-get "$ARTIFACT_BUCKET" "$ARTIFACT_KEY.sha256" "$work/published.sha256"
    expected=$(cut -d' ' -f1 "$work/published.sha256")
  fi
  echo "$expected  $ARTIFACT_FILE" > "$work/artifact.sha256"
  if ! (cd "$work" && sha256sum --quiet --strict -c artifact.sha256); then
    log "sha256 of s3://$ARTIFACT_BUCKET/$ARTIFACT_KEY does not match $expected: refusing to install or start"
    return 1
  fi
  mkdir "$work/x"
  tar -xzf "$work/$ARTIFACT_FILE" -C "$work/x" --no-same-owner
  for d in bin lib templates; do
    [ -d "$work/x/$d" ] && [ -d "$BASE/$d" ] && cp -R "$work/x/$d/." "$BASE/$d/"
  done
  [ -d "$work/x/config" ] && cp -Rn "$work/x/config/." "$BASE/config/"
  chown -R root:root "$BASE/bin" "$BASE/lib"; chmod -R u=rwX,go=rX "$BASE/lib"; chmod 0755 "$BASE"/bin/*
  chown -R root:"$USR" "$BASE/config"
  find "$BASE/config" -type f -exec chmod 0640 {{}} +
  find "$BASE/config" -mindepth 1 -type d -exec chmod 0750 {{}} +
  rm -f "$BASE"/lib/artifact/*
  install -m 0644 "$work/$ARTIFACT_FILE" "$BASE/lib/artifact/$ARTIFACT_FILE"
  install -m 0640 -g "$USR" "$work/artifact.sha256" "$BASE/config/artifact.sha256"
  (cd "$BASE" && find bin lib -type f ! -path 'lib/artifact/*' -print0 | sort -z | xargs -0 sha256sum) \\
    > "$work/installed.sha256"
  install -m 0640 -g "$USR" "$work/installed.sha256" "$BASE/config/installed.sha256"
}}

step_services() {{
  [ -z "$ROOT" ] || return 0  # a laid-out test tree has no systemd to start
  systemctl daemon-reload
  systemctl enable --now "pipeline-$MODULE-state-backup.timer"
  systemctl enable --now "pipeline-$MODULE.service"
}}

step_logs() {{
  # seed 003 Log Rotation / Runbook I.2 (logrotate), journald bounds, the CloudWatch agent's files
  dir 0750 "$USR" "$USR" "$BASE/logs/debug"
  dir 0755 root root "$ROOT/etc/logrotate.d" "$ROOT/etc/systemd/journald.conf.d" "$ROOT{AGENT_DIR}"
  install -m 0644 -o root -g root "$STAGE/logrotate" "$ROOT/etc/logrotate.d/pipeline-$MODULE"
  install -m 0644 -o root -g root "$STAGE/journald.conf" "$ROOT/etc/systemd/journald.conf.d/50-pipeline.conf"
  install -m 0644 -o root -g root "$STAGE/amazon-cloudwatch-agent.json" \\
    "$ROOT{AGENT_DIR}/amazon-cloudwatch-agent.json"
  [ -z "$ROOT" ] || return 0
  systemctl restart systemd-journald
}}

fetch_pinned() {{ # fetch_pinned WHAT KEY SHA256 FILE PIN: from the artifact bucket, checked, or fail closed
  if [ -z "$3" ]; then
    log "$1 not installed: no sha256 pinned (lib/versions.py $5)"; return 1
  fi
  "$HTTP" s3-get "$ARTIFACT_BUCKET" "$2" "$4"
  if ! (cd "$(dirname "$4")" && echo "$3  $(basename "$4")" | sha256sum --quiet --strict -c -); then
    log "sha256 of s3://$ARTIFACT_BUCKET/$2 does not match $3: $1 not installed"; return 1
  fi
}}

step_agent() {{
  # After the services: module and system logs to CloudWatch Logs (the log groups: the fleet
  # component, KMS-encrypted). The agent's Debian package from the artifact bucket, checksum-pinned;
  # its configuration is the one step_logs installed.
  local work
  work=$(mktemp -d); CLEAN+=("$work")
  fetch_pinned "CloudWatch agent $CWA_VERSION" "$CWA_KEY" "$CWA_SHA256" "$work/{AGENT_PACKAGE}" \\
    CLOUDWATCH_AGENT_SHA256
  [ -z "$ROOT" ] || return 0
  dpkg -i "$work/{AGENT_PACKAGE}"
  /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \\
    -c "file:{AGENT_DIR}/amazon-cloudwatch-agent.json"
}}

step_exporter() {{
  # After the services: a missing pin keeps the node exporter off, never the module.
  local work name=node_exporter-$NE_VERSION.linux-amd64
  work=$(mktemp -d); CLEAN+=("$work")
  fetch_pinned "node exporter $NE_VERSION" "$NE_KEY" "$NE_SHA256" "$work/$name.tar.gz" NODE_EXPORTER_SHA256
  tar -xzf "$work/$name.tar.gz" -C "$work" --no-same-owner
  mkdir -p "$ROOT/usr/local/bin"
  install -m 0755 "$work/$name/node_exporter" "$ROOT/usr/local/bin/node_exporter"
  [ -z "$ROOT" ] || return 0
  systemctl daemon-reload
  systemctl enable --now node_exporter.service
}}

main() {{
  local s failed=()
  [ $# -gt 0 ] || set -- all
  [ "$1" = all ] && set -- user volume layout artifact logs services agent exporter
  preflight
  for s in "$@"; do
    case $s in
      user|volume|layout|artifact|logs|services) log "step $s"; "step_$s" ;;
      # each in its own process (its own errexit): one failing leaves the other to run
      agent|exporter) log "step $s"
        if [ $# -eq 1 ]; then "step_$s"; else bash "$0" "$s" || failed+=("$s"); fi ;;
      *) log "unknown step $s (user volume layout artifact logs services agent exporter all)"; exit 2 ;;
    esac
  done
  [ ${{#failed[@]}} -eq 0 ] || {{ log "failed: ${{failed[*]}} (the module runs)"; exit 1; }}
}}
main "$@"
"""


def staged_files(spec: CloudInitSpec) -> dict[str, tuple[str, str]]:
    """path -> (permissions, content) of every file the user data writes."""
    m = spec.module
    files: dict[str, tuple[str, str]] = {
        f"{STAGE}/bootstrap.sh": ("0700", bootstrap_script(spec)),
        f"{STAGE}/{m}.yaml": ("0600", module_yaml(spec)),
        f"{STAGE}/pipeline-drain": ("0700", drain_script(spec)),
        f"{STAGE}/pipeline-verify-artifact": ("0700", verify_script(spec)),
        f"{STAGE}/pipeline-state-backup": ("0700", state_backup_script(spec)),
        f"{STAGE}/logrotate": ("0600", logs.logrotate_config(module=m, base=spec.base, user=SERVICE_USER)),
        f"{STAGE}/journald.conf": ("0600", logs.journald_config()),
        f"{STAGE}/amazon-cloudwatch-agent.json": (
            "0600",
            logs.agent_config(environment=spec.environment, colour=spec.colour, module=m, base=spec.base),
        ),
        f"{STAGE}/pipeline-http": ("0700", HTTP_HELPER.read_text(encoding="utf-8")),
    }
    for name, text in units(spec).items():
        files[f"{STAGE}/units/{name}"] = ("0600", text)
    return files


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_Dumper.add_representer(str, _str)


def _entry(path: str, perms: str, content: str) -> dict[str, Any]:
    # plain text: user_data() compresses the whole document for EC2's 16 KiB
    return {"path": path, "owner": "root:root", "permissions": perms, "content": content}


def cloud_config(spec: CloudInitSpec) -> dict[str, Any]:
    return {
        "write_files": [_entry(path, perms, text) for path, (perms, text) in staged_files(spec).items()],
        "runcmd": [[f"{STAGE}/bootstrap.sh", "all"]],
    }


def render_cloud_init(spec: CloudInitSpec) -> str:
    """The user data as text (what cloud-init reads once it has decompressed user_data())."""
    head = (
        f"#cloud-config\n# pipeline module {spec.module} ({profile(spec.module).role}), environment "
        f"{spec.environment}, colour {spec.colour}, artifact {spec.artifact_version}\n"
    )
    return head + yaml.dump(cloud_config(spec), Dumper=_Dumper, sort_keys=False, width=1000)


def user_data(spec: CloudInitSpec) -> bytes:
    """The user data as EC2 receives it: the text gzip-compressed (cloud-init recognises and
    decompresses gzip user data), byte-stable (no timestamp), within EC2's 16 KiB."""
    data = gzip.compress(render_cloud_init(spec).encode(), compresslevel=9, mtime=0)
    if len(data) > USER_DATA_LIMIT:
        raise ValueError(f"user data of {spec.module} is {len(data)} bytes; EC2 allows {USER_DATA_LIMIT}")
    return data
