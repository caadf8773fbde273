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
from tests.hosts.expected import STAGE

pytestmark = pytest.mark.engine


def test_image_is_the_fleets_debian_12(host, expected):
    # The fleets boot fleets.ami_id, Debian 12 (docs/fleets.md "Image"); the local host is built from
    # the same release (scripts/host-root.sh): the host tested is the host shipped.
    os_release = dict(
        line.split("=", 1) for line in host.file("/etc/os-release").content_string.splitlines() if "=" in line
    )
    assert (os_release["ID"], os_release["VERSION_ID"].strip('"')) == ("debian", "12"), os_release
    assert host.system_info.arch == "x86_64"  # the amd64 AMI (docs/fleets.md), linux-amd64 exporter


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


def test_state_backup_uploads_stamped_and_latest_copies(host, expected, is_local, local_hosts):
    # 003 Backup Procedures > State Backup; State Recovery reads <module>-state-latest.tar.gz.
    if not is_local:
        pytest.skip(
            "real host: a backup run writes to the environment's backup bucket; the timer runs it "
            "and PipelineStateBackupStale alerts on its last success"
        )
    m = expected.module
    script = expected.files[f"{STAGE}/pipeline-state-backup"]
    bucket = re.search(r's3-put "\$f" (\S+) "state/', script)[1]
    out = host.run(f"systemctl start pipeline-{m}-state-backup.service")
    journal = host.run(f"journalctl -b -u pipeline-{m}-state-backup.service --no-pager -n 30").stdout
    assert out.rc == 0, out.stderr + journal
    keys = [k.rsplit("/", 1)[1] for k in local_hosts.s3_keys(bucket, f"state/{m}/")]
    assert f"{m}-state-latest.tar.gz" in keys, keys
    assert any(re.fullmatch(rf"{m}-state-\d{{8}}-\d{{6}}\.tar\.gz", k) for k in keys), keys
    prom = host.file("/var/lib/node_exporter/textfile/pipeline_state_backup.prom").content_string
    assert re.search(r"^pipeline_state_backup_last_success_timestamp_seconds \d+$", prom, re.M), prom


def test_log_agent_installed_and_running(host, expected):
    # The CloudWatch agent (log shipping, lib/logs): the vendor's package from the artifact bucket,
    # running with the configuration the user data rendered for this module and colour.
    conf = host.file("/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json")
    assert conf.content_string == expected.files[f"{STAGE}/amazon-cloudwatch-agent.json"]
    assert host.package("amazon-cloudwatch-agent").is_installed
    agent = host.service("amazon-cloudwatch-agent")
    assert agent.is_enabled
    assert agent.is_running, host.run("journalctl -b -u amazon-cloudwatch-agent --no-pager -n 20").stdout


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
        "/opt/aws/amazon-cloudwatch-agent/etc",
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


def test_bootstrap_finished_under_the_egress_limits(host, expected, is_local, plan):
    """The whole bootstrap ran: every download it needs came through what the security groups allow
    (on the local host only the S3 and metadata stand-ins are reachable, nothing on the internet)."""
    status = host.run("cloud-init status --long")
    out = host.run("journalctl -b -u cloud-final.service --no-pager").stdout
    assert status.rc == 0 and "status: done" in status.stdout, (status.stdout + out)[-3000:]
    assert "pipeline-bootstrap" in out and "refusing" not in out
    assert checks.internet_unreachable(host)
    if is_local:  # the local host's only egress (S3 on 443) is what the module's security group allows
        egress = [r.inputs for r in plan.resources
                  if r.type == "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
                  and r.name.startswith(f"{expected.stack}-network-{expected.module}-out-")]
        checks.egress_allows_only_s3_and_vpc(egress)


def _get(host, url: str) -> str:
    code = f"import urllib.request as u; print(u.urlopen({json.dumps(url)}, timeout=5).read().decode())"
    out = host.run(f"python3 -c '{code}'")
    assert out.rc == 0, f"GET {url}: {out.stderr}"
    return out.stdout
