"""What the bootstrap of a module host must have produced (seed 003 Module Deployment, Backup
Schedules, Log Rotation), checked on the host itself with testinfra: real instances after `pulumi up`,
in a cutover or a DR drill (--hosts/--ssh-config/--ansible-inventory and --stack), and in CI local
hosts booted from the fleets' image with the plan's user data (--local-host). Checks that need what a
local host cannot have (an EBS volume is a loop device there; no real metadata service) say so."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.hosts import checks

pytestmark = pytest.mark.engine


def test_layout_and_permissions(host, expected):
    # 003 Step 2: bin, config, lib, logs, data and the module's own directories (its config's paths).
    dirs = {"bin", "config", "lib", *expected.config["paths"]}
    checks.layout(host, expected.base, dirs)
    binary = host.file(f"{expected.base}/bin/{expected.module}")
    assert binary.exists, "the module's artifact is not installed"


def test_config_has_the_environments_values_and_no_secret(host, expected):
    text = host.file(f"{expected.base}/config/{expected.module}.yaml").content_string
    doc = yaml.safe_load(text)
    assert doc == expected.config  # the plan's values for this stack, module and colour
    assert doc["environment"] == expected.config["environment"]
    assert checks.secret_keys(doc) == []
    assert not any(re.search(p, text) for p in checks.SECRET_PATTERNS)


def test_data_volume_mounted(host, expected):
    if not expected.has_volume:
        pytest.skip(f"the launch template of {expected.module} maps no data volume")
    mount = host.mount_point(f"{expected.base}/data")
    assert mount.exists, f"{expected.base}/data is not a mount point"
    assert mount.filesystem in ("ext4", "xfs"), mount.filesystem
    assert host.run(f"test -b {mount.device}").rc == 0, mount.device  # a loop device on the local host
    fstab = host.file("/etc/fstab").content_string
    assert re.search(rf"^UUID=\S+ {re.escape(expected.base)}/data \S+ \S*nofail", fstab, re.M), fstab
    data = host.file(f"{expected.base}/data")
    assert (data.user, data.mode) == ("pipeline", 0o750)


def test_module_service_installed_enabled_active(host, expected):
    name = f"pipeline-{expected.module}.service"
    unit = host.file(f"/etc/systemd/system/{name}")
    assert unit.content_string == expected.units[name]
    assert (unit.mode, unit.user) == (0o644, "root")
    svc = host.service(f"pipeline-{expected.module}")
    assert svc.is_enabled
    assert svc.is_running, host.run(f"journalctl -b -u {name} --no-pager -n 30").stdout
    out = host.run(f"systemd-analyze verify /etc/systemd/system/{name}")
    assert out.rc == 0 and "pipeline" not in out.stderr, out.stderr


def test_health_endpoint_answers(host, expected):
    port, path = expected.config["listen"]["health_port"], expected.config["listen"]["health_path"]
    assert host.socket(f"tcp://0.0.0.0:{port}").is_listening
    _get(host, f"http://127.0.0.1:{port}{path}")


def test_node_exporter_listening(host, expected):
    unit = expected.units["node_exporter.service"]
    port = int(re.search(r"--web\.listen-address=\S*:(\d+)", unit)[1])
    assert host.service("node_exporter").is_enabled
    assert host.service("node_exporter").is_running
    assert host.socket(f"tcp://0.0.0.0:{port}").is_listening or host.socket(f"tcp://:::{port}").is_listening
    body = _get(host, f"http://127.0.0.1:{port}/metrics")
    assert "node_exporter_build_info" in body


def test_state_backup_every_four_hours(host, expected):
    timer = f"pipeline-{expected.module}-state-backup.timer"
    assert host.file(f"/etc/systemd/system/{timer}").content_string == expected.units[timer]
    assert host.service(timer).is_enabled
    assert host.run(f"systemctl is-active {timer}").stdout.strip() == "active"
    # 003 Backup Schedules: every 4 hours at :00; the timer's own next elapses, from systemd.
    cal = host.check_output(f"systemctl show -P TimersCalendar {timer}")
    spec = re.search(r"OnCalendar=(.+?) ;", cal)[1]
    out = host.check_output(f"systemd-analyze calendar --iterations=6 '{spec}'")
    checks.every_four_hours(re.findall(r"(\d\d:\d\d:\d\d)", out)[1:])  # [0] is the normalized form


def test_logs_rotated(host, expected, is_local):
    # 003 Log Rotation: automated, compressed, old archives purged (Application: 7 days hot).
    conf = f"/etc/logrotate.d/pipeline-{expected.module}"
    f = host.file(conf)
    assert f.exists, f"{conf} missing: the logs are not rotated"
    assert (f.mode, f.user) == (0o644, "root")
    assert host.service("logrotate.timer").is_enabled
    dry = host.run(f"logrotate --debug {conf}")
    assert dry.rc == 0, dry.stderr
    assert f"{expected.base}/logs/" in dry.stderr + dry.stdout
    if is_local:  # a forced rotation, with its own state file (not on a real host: it rotates for real)
        log = f"{expected.base}/logs/{expected.module}.log"
        assert host.file(log).exists, "the module writes no log under logs/"
        state = f"/run/logrotate-check-{expected.module}.state"
        out = host.run(f"logrotate --force --state {state} {conf}")
        assert out.rc == 0, out.stderr
        assert host.file(f"{log}.1.gz").exists or host.file(f"{log}.1").exists, host.run(
            f"ls -l {expected.base}/logs"
        ).stdout


def test_no_world_readable_secret(host, expected):
    roots = [
        "/opt/pipeline",
        "/var/lib/pipeline-bootstrap",
        "/etc/systemd/system",
        "/var/lib/cloud",
        "/etc/logrotate.d",
        "/usr/local/bin",
    ]
    assert checks.world_readable_secrets(host, roots) == []
    # the staged user data (the config, the scripts) is root's only, whatever it holds
    readable = host.check_output("find /var/lib/pipeline-bootstrap -type f -perm /o+r")
    assert readable == "", readable


def test_metadata_service_needs_imdsv2_tokens(host, is_local, plan, expected):
    template = next(r for r in plan.resources if r.name == f"{expected.module}-{expected.colour}-lt")
    assert template.inputs["metadataOptions"]["httpTokens"] == "required"  # what the plan asks of EC2
    if is_local:
        pytest.skip(
            "local host: its metadata service is a stand-in (moto), not EC2's; the IMDSv2-only "
            "answer is checked on real hosts"
        )
    probe = (
        'python3 -c "import urllib.request as u\n'
        "try:\n u.urlopen('http://169.254.169.254/latest/meta-data/', timeout=3); print(200)\n"
        "except Exception as e: print(getattr(e, 'code', e))\""
    )
    assert host.check_output(probe) == "401"  # no token: refused
    token = host.check_output(
        'python3 -c "import urllib.request as u; print(u.urlopen(u.Request('
        "'http://169.254.169.254/latest/api/token', method='PUT', "
        "headers={'X-aws-ec2-metadata-token-ttl-seconds': '60'}), timeout=3).read().decode())\""
    )
    assert token


def test_bootstrap_finished_under_the_egress_limits(host, expected, is_local):
    """The whole bootstrap ran: every download it needs came through what the security groups allow
    (on the local host only the S3 and metadata stand-ins are reachable, nothing on the internet)."""
    status = host.run("cloud-init status --long")
    out = host.run("journalctl -b -u cloud-final.service --no-pager").stdout
    assert status.rc == 0 and "status: done" in status.stdout, (status.stdout + out)[-3000:]
    assert "pipeline-bootstrap" in out and "refusing" not in out


def _get(host, url: str) -> str:
    code = f"import urllib.request as u; print(u.urlopen({json.dumps(url)}, timeout=5).read().decode())"
    out = host.run(f"python3 -c '{code}'")
    assert out.rc == 0, f"GET {url}: {out.stderr}"
    return out.stdout
