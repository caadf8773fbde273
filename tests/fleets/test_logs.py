"""Logs: seed 003 Log Retention per class (CloudWatch Logs keeps the warm tier), the fleets' log groups
(KMS-encrypted) with the CloudWatch agent shipping module and system logs into them, host log rotation
(seed 003 Runbook I.2) and the security logs' retention (VPC flow logs, EKS control plane)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from lib import logs
from tests.fleets.test_cloud_init import files
from tests.support.engines import engine

MODULES = ("alpha", "beta", "gamma")
GROUP = "aws:cloudwatch/logGroup:LogGroup"
# seed 003 Log Aggregation > Log Retention: hot / warm / cold days (7 years = 2557 days)
SEED_003 = {
    "application": (7, 30, 365),
    "audit": (30, 90, 2557),
    "security": (30, 180, 2557),
    "debug": (3, 7, None),
}


def test_the_log_classes_are_the_seed_table():
    got = {k: (v["hot"], v["warm"], v["cold"]) for k, v in logs.data()["classes"].items()}
    assert got == SEED_003
    assert {k: logs.cloudwatch_days(k) for k in SEED_003} == {k: v[1] for k, v in SEED_003.items()}


def test_a_retention_cloudwatch_does_not_offer_is_rejected(tmp_path, monkeypatch):
    bad = yaml.safe_load(logs.DATA.read_text())
    bad["classes"]["application"]["warm"] = 31  # CloudWatch Logs offers 30 or 60, not 31
    path = tmp_path / "retention.yaml"
    path.write_text(yaml.safe_dump(bad))
    monkeypatch.setattr(logs, "DATA", path)
    logs.data.cache_clear()
    try:
        with pytest.raises(ValueError, match="warm must be a CloudWatch retention"):
            logs.data()
    finally:
        logs.data.cache_clear()


def test_every_fleet_has_encrypted_log_groups_with_the_class_retention(fleets_of):
    plan = fleets_of("prod-blue")
    groups = {r.inputs["name"]: r.inputs for r in plan.of_type(GROUP)}
    (key,) = [r for r in plan.of_type("aws:kms/key:Key") if r.name == "fleets-blue-logs"]
    assert key.inputs["enableKeyRotation"] is True
    policy = json.loads(key.inputs["policy"])
    assert {s["Sid"] for s in policy["Statement"]} >= {"CloudWatchLogsOfThisAccount"}
    for module in MODULES:
        for kind, days in (("application", 30), ("debug", 7), ("system", 30)):
            group = groups[f"/pipeline-infra/prod/blue/{module}/{kind}"]
            assert group["retentionInDays"] == days, (module, kind)
            assert group["kmsKeyId"].startswith("arn:aws:kms:")


@pytest.mark.parametrize("module", MODULES)
def test_the_agent_ships_module_and_system_logs_to_those_groups(module):
    f = files(module)
    cfg = json.loads(f["/var/lib/pipeline-bootstrap/amazon-cloudwatch-agent.json"]["content"])
    collected = {
        (c["file_path"], c["log_group_name"]) for c in cfg["logs"]["logs_collected"]["files"]["collect_list"]
    }
    base = f"/opt/pipeline/{module}"
    assert (f"{base}/logs/*.log", f"/pipeline-infra/staging/blue/{module}/application") in collected
    assert (f"{base}/logs/debug/*.log", f"/pipeline-infra/staging/blue/{module}/debug") in collected
    assert ("/var/log/cloud-init-output.log", f"/pipeline-infra/staging/blue/{module}/system") in collected
    bootstrap = f["/var/lib/pipeline-bootstrap/bootstrap.sh"]["content"]
    # the agent's Debian package from the artifact bucket (tests/fleets/test_cloud_init.py runs that step)
    assert 'dpkg -i "$work/amazon-cloudwatch-agent.deb"' in bootstrap
    assert "amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s" in bootstrap
    assert "set -- user volume layout artifact logs services agent exporter" in bootstrap


@pytest.mark.engine
@pytest.mark.parametrize("module", MODULES)
def test_logrotate_compresses_after_a_day_and_deletes_after_seven(module, tmp_path: Path):
    text = files(module)["/var/lib/pipeline-bootstrap/logrotate"]["content"]
    lines = [line.strip() for line in text.splitlines()]
    # seed 003 Runbook I.2: gzip > 1 day, delete > 7 days
    for want in ("daily", "compress", "rotate 7", "maxage 7", "copytruncate"):
        assert want in lines, want
    assert lines[1].startswith(f"/opt/pipeline/{module}/logs/*.log")
    tool = engine("logrotate")
    # the real logrotate parses the file (debug mode: nothing is rotated)
    logdir = tmp_path / "logs"
    (logdir / "debug").mkdir(parents=True)
    (logdir / "app.log").write_text("x\n")
    conf = tmp_path / "pipeline.conf"
    conf.write_text(
        text.replace(f"/opt/pipeline/{module}/logs", str(logdir)).replace("    su pipeline pipeline\n", "")
    )
    run = subprocess.run(
        [tool, "-d", "-s", str(tmp_path / "state"), str(conf)], capture_output=True, text=True
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "error" not in out.lower(), out
    assert "after 1 days (7 rotations)" in out and "old logs are removed" in out, out


@pytest.mark.engine
def test_logrotate_reports_a_broken_directive(tmp_path: Path):
    # the engine really checks: logrotate names an unknown option (and this test's check sees it)
    conf = tmp_path / "bad.conf"
    conf.write_text(f"{tmp_path}/*.log {{\n    daily\n    rotat 7\n}}\n")
    run = subprocess.run(
        [engine("logrotate"), "-d", "-s", str(tmp_path / "state"), str(conf)], capture_output=True, text=True
    )
    assert "unknown option 'rotat'" in run.stdout + run.stderr


def test_journald_is_bounded_like_the_module_logs():
    text = files("alpha")["/var/lib/pipeline-bootstrap/journald.conf"]["content"]
    assert "MaxRetentionSec=7day" in text.splitlines()


def test_security_logs_stay_180_days(plan_of):
    plan = plan_of("prod")
    groups = {r.name: r.inputs for r in plan.of_type(GROUP)}
    flow = [g for n, g in groups.items() if "flow-logs" in n]
    eks = [g for g in groups.values() if str(g.get("name", "")).startswith("/aws/eks/")]
    assert flow and eks
    # seed 003 Log Retention, Security: warm 180 days
    assert {g["retentionInDays"] for g in flow + eks} == {180}
