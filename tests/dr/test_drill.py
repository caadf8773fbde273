"""The DR drill (planner/drill.py, make dr-drill): the figures of lib/dr.yaml pinned to the seeds, the
offline drill over the real estate (promotion and failback diffs, checks of the promoted estate), the
live drill against stand-ins for the Pulumi CLI, kubectl and the AWS CLI that record their calls, and
the drill-age tracking."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import os
import re
import stat
from pathlib import Path

import pytest
import yaml

from lib import dr
from planner import drill

# --- the figures ---------------------------------------------------------------------------------


def test_figures_are_the_seeds():
    f = dr.figures()
    # seed 004 Metrics and SLAs > Service Level Objectives: RTO < 5 minutes, RPO < 1 minute
    assert (f["targets"]["design"]["rto_seconds"], f["targets"]["design"]["rpo_seconds"]) == (300, 60)
    # seed 003 Disaster Recovery > DR Metrics: declared RTO 4 hours, RPO 1 hour
    assert (f["targets"]["declared"]["rto_seconds"], f["targets"]["declared"]["rpo_seconds"]) == (14400, 3600)
    # seed 003 Runbook M.1 Trigger Criteria: primary site unavailable > 30 minutes
    assert f["activation"]["unavailable_minutes"] == 30
    # seed 003 DR Metrics: time since last drill < 90 days
    assert f["drills"]["max_age_days"] == 90
    # seed 003 DR Testing Schedule: four test types
    assert [t["test"] for t in f["drills"]["schedule"]] == [
        "tabletop exercise", "component recovery", "full DR drill", "surprise DR test"]
    # seed 003 M.2 Quarterly DR Drill: 8 steps, each one covered, in order
    covered = [int(n) for step in f["steps"] for n in re.findall(r"M\.2 (\d)", step["seed"])]
    assert covered == list(range(1, 9))
    assert dr.rto_budget() == 270 < 300
    assert dr.archive_timeout() == "30s"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["steps"][4].update(budget_seconds=400), "RTO budget"),
        (lambda d: d["replication"]["postgres"].update(archive_timeout_seconds=60), "archive_timeout"),
        (lambda d: d["paths"][0].update(fallback_rpo_seconds=300), "path postgres RPO"),
        (lambda d: d["steps"][0].update(who="nobody"), "step schedule"),
    ],
)
def test_figures_that_break_the_targets_are_refused(change, message):
    data = copy.deepcopy(yaml.safe_load(dr.DATA.read_text()))
    dr.check(data)
    change(data)
    with pytest.raises(ValueError, match=message):
        dr.check(data)


# --- offline, over the real estate ---------------------------------------------------------------


@functools.cache
def _offline():
    return drill.offline()


def _phase(report, name):
    (found,) = [p for p in report["phases"] if p["phase"] == name]
    return found


def test_offline_drill_passes_and_replaces_nothing_stateful():
    report = _offline()
    assert report["result"] == "pass", [(p["phase"], p["stateful_at_risk"], p["new_estate_errors"])
                                        for p in report["phases"]]
    assert {"prod", "prod-dr"} <= set(report["stacks"])
    assert [p["phase"] for p in report["phases"]] == [
        "promotion", "failback-1", "failback-2", "failback-3", "failback-4"]
    for p in report["phases"]:
        assert p["stateful_at_risk"] == [] and p["new_estate_errors"] == [], p["phase"]
        assert all(d["replaced"] == [] for d in p["diff"].values()), p["phase"]
        # one configuration value per step (the token goes with the promotion it enables)
        assert len([k for k in p["set"] if not k.endswith("promotion_token")]) <= 1 <= len(p["set"]), p

    assert report["checks"]["new_failed_mandatory"] == []

    promo = _phase(report, "promotion")
    assert promo["set"] == {"prod-dr dr.role": "primary"}
    d = promo["diff"]["prod-dr"]
    assert d["deleted"] == []
    # PostgreSQL: only the distributed topology's primary changes on the Cluster
    assert d["changed"]["postgres-cluster"] == ["spec.replica.primary"]
    # no traffic before promotion: the DR ingest alarm and the gate change in place
    assert set(d["changed"]["dr-ingest-ingest-unhealthy"]) == {"comparisonOperator", "threshold"}
    assert set(d["changed"]["dr-ingest-promotion-gate"]) == {"comparisonOperator", "treatMissingData"}
    assert d["changed"]["mirrormaker2-mm2"] == [
        "spec.mirrors[0].checkpointConnector.state", "spec.mirrors[0].sourceConnector.state"]
    # the primary site is untouched by the DR site's promotion
    assert not any(promo["diff"]["prod"].values())


def test_failback_demotes_prod_reverses_mirrormaker_and_switches_back():
    report = _offline()
    one = _phase(report, "failback-1")
    assert one["set"] == {"prod dr.role": "standby"}
    prod = one["diff"]["prod"]
    # PostgreSQL demoted in the distributed topology: a replica of warehouse-dr, bootstrap untouched
    assert set(prod["changed"]["postgres-cluster"]) == {"spec.externalClusters", "spec.replica"}
    # MirrorMaker 2 reversed: prod runs one from the DR site; its connectors stop
    assert "mirrormaker2-mm2" in prod["created"]
    assert prod["changed"]["kafka-connect-postgres-sink"] == ["spec.state"]
    assert not any(one["diff"]["prod-dr"].values())
    # prod reads prod-dr while prod-dr reads prod: the cycle is reported, as expected
    assert one["expected_estate_errors"] and all("prod-dr" in e for e in one["expected_estate_errors"])

    two = _phase(report, "failback-2")
    assert two["set"] == {"prod-dr dr.role": "(as committed)"}
    assert two["diff"]["prod-dr"]["changed"]["postgres-cluster"] == ["spec.replica.primary"]

    three = _phase(report, "failback-3")
    assert three["set"] == {"prod dr.role": "primary", "prod dr.promotion_token": drill.DRILL_TOKEN}
    changed = three["diff"]["prod"]["changed"]
    assert set(changed["postgres-cluster"]) == {"spec.replica.primary", "spec.replica.promotionToken"}
    assert changed["mirrormaker2-mm2"] == [
        "spec.mirrors[0].checkpointConnector.state", "spec.mirrors[0].sourceConnector.state"]

    four = _phase(report, "failback-4")
    assert four["set"] == {"prod dr.promotion_token": "(as committed)"}
    assert "mirrormaker2-mm2" in four["diff"]["prod"]["deleted"]


def test_offline_report_states_the_plan(tmp_path):
    js, md = drill.write_report(_offline(), tmp_path, now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    doc = json.loads(js.read_text())
    assert doc["date"] == "2026-12-01T00:00:00+00:00" and doc["mode"] == "offline"
    text = md.read_text()
    assert "RTO budget in total: 270 s (design target < 300 s)" in text
    for path in ("postgres", "scylla", "kafka"):
        assert f"| {path} |" in text
    assert "### failback-1:" in text and "only a live drill measures them" in text


def test_a_promotion_that_replaces_a_stateful_resource_fails_the_drill(monkeypatch):
    from planner.estate import evaluate

    def replacing(selection, overrides=None, **kw):
        # the violating fixture: the promotion also changes the ScyllaDB racks' storage, which
        # scylla-operator refuses in place (a replacement of the ScyllaCluster)
        if overrides and overrides.get("prod-dr", {}).get("dr.role") == "primary":
            overrides = {**overrides, "prod-dr": {**overrides["prod-dr"], "scylla.storage_gib": 900}}
        return evaluate(selection, overrides=overrides, **kw)

    monkeypatch.setattr(drill, "PHASES", drill.PHASES[:1])
    report = drill.offline(replacing)
    assert report["result"] == "fail"
    assert [r["name"] for r in report["phases"][0]["stateful_at_risk"]] == ["scylla-cluster"]


# --- live, against recording stand-ins ------------------------------------------------------------

_STANDIN = """#!/usr/bin/env python3
import json, os, sys
argv = sys.argv[1:]
with open(os.environ["DRILL_CALLS"], "a") as out:
    out.write(json.dumps([os.path.basename(sys.argv[0])] + argv) + "\\n")
answers = json.loads(open(os.environ["DRILL_ANSWERS"]).read())
name = os.path.basename(sys.argv[0])
line = " ".join(argv)
for needle, (rc, stdout) in answers.get(name, {}).items():
    if needle in line:
        sys.stdout.write(stdout)
        sys.exit(rc)
sys.exit(0)
"""


def _prom(value):
    return json.dumps({"status": "success", "data": {"resultType": "vector",
                                                     "result": [{"metric": {}, "value": [0, str(value)]}]}})


ANSWERS = {
    "kubectl": {
        "cnpg_pg_replication_lag": [0, _prom(0.4)],
        "scylla_hints_manager": [0, _prom(0)],
        "mirrorsourceconnector_replication_latency_ms_max": [0, _prom(2.5)],
        "get cluster warehouse-dr": [0, "Cluster in healthy state"],
        "get kafkaconnector": [0, "RUNNING RUNNING"],
        "get kafkamirrormaker2": [0, "stopped"],
    },
    "aws": {"describe-alarms": [0, "ALARM\n"]},
    "pulumi": {},
}


@pytest.fixture()
def standins(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("pulumi", "kubectl", "aws"):
        tool = bin_dir / name
        tool.write_text(_STANDIN)
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    calls, answers = tmp_path / "calls.jsonl", tmp_path / "answers.json"

    def make(extra: dict | None = None):
        a = copy.deepcopy(ANSWERS)
        for tool, more in (extra or {}).items():
            # the extra answers first (the stand-in answers with the first needle that matches)
            a[tool] = {**more, **{k: v for k, v in a[tool].items() if k not in more}}
        answers.write_text(json.dumps(a))
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
               "DRILL_CALLS": str(calls), "DRILL_ANSWERS": str(answers)}
        ticks = iter(range(0, 10_000, 5))
        return drill.Runner(env=env, clock=lambda: float(next(ticks)))

    def recorded():
        return [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []

    return make, recorded


def test_live_drill_runs_the_steps_in_order_and_measures_rto_and_rpo(standins, tmp_path):
    make, recorded = standins
    report = drill.live(make(), probe_wait=lambda: None, hosts_suite=tmp_path / "absent")
    calls = recorded()
    tools = [(c[0], c[1]) for c in calls]
    pulumi = [c for c in calls if c[0] == "pulumi"]
    assert [c[1] for c in pulumi] == ["config", "preview", "up"]
    assert pulumi[0][1:] == ["config", "set", "--path", "pipeline-infra:dr.role", "primary",
                             "--stack", "prod-dr"]
    # replication positions before the preview, at the cutover before `up`, and after the probes
    first_up = tools.index(("pulumi", "up"))
    lag = "cnpg_pg_replication_lag"
    assert any(lag in " ".join(c) for c in calls[:tools.index(("pulumi", "config"))])
    assert any(lag in " ".join(c) for c in calls[tools.index(("pulumi", "preview")):first_up])
    assert any("describe-alarms" in c for c in calls[first_up:])
    assert report["result"] == "pass"
    a = report["achieved"]
    # failover without a token: the RPO is the largest lag at the cutover (MirrorMaker 2.5 s)
    assert a["rpo_seconds"] == 2.5
    assert a["rto_seconds"] is not None and 0 < a["rto_seconds"] < 300
    # a successful drill is recorded where DrDrillOverdue looks (the primary's monitoring namespace)
    assert calls[-1][:6] == ["kubectl", "--context", "prod", "-n", "monitoring", "create"]
    assert report["steps"]["host suite"]["note"].startswith("not run")
    js, md = drill.write_report(report, tmp_path / "reports")
    assert "RPO: 2.5 s" in md.read_text() and json.loads(js.read_text())["result"] == "pass"


def test_live_switchover_with_a_token_loses_nothing(standins, tmp_path):
    make, recorded = standins
    report = drill.live(make(), token="tok3n", probe_wait=lambda: None, hosts_suite=tmp_path / "absent")
    sets = [c for c in recorded() if c[:3] == ["pulumi", "config", "set"]]
    assert ["pulumi", "config", "set", "--secret", "--path", "pipeline-infra:dr.promotion_token", "tok3n",
            "--stack", "prod-dr"] in sets
    assert report["achieved"]["rpo_seconds"] == 0.0 and report["result"] == "pass"


def test_a_failed_apply_fails_the_drill_and_records_no_success(standins, tmp_path):
    make, recorded = standins
    report = drill.live(make({"pulumi": {"up ": [1, ""]}}), probe_wait=lambda: None,
                        hosts_suite=tmp_path / "absent")
    assert report["result"] == "fail" and report["steps"]["promote"]["ok"] is False
    assert not any("create" in c and "configmap" in c for c in recorded())
    assert report["achieved"]["rto_seconds"] is None


def test_unhealthy_probes_fail_the_drill(standins, tmp_path):
    make, _ = standins
    report = drill.live(make({"aws": {"describe-alarms": [0, "OK\n"]}}), probe_attempts=3,
                        probe_wait=lambda: None, hosts_suite=tmp_path / "absent")
    assert report["result"] == "fail" and report["steps"]["verify"]["ok"] is False


# --- drills are tracked ---------------------------------------------------------------------------


def _write(folder: Path, mode: str, result: str, when: dt.datetime):
    report = {"mode": mode, "result": result, "plan": drill.plan(), "steps": {}, "achieved": {
        "rto_seconds": 1, "rpo_seconds": 0, "rto_target_seconds": 300, "rpo_target_seconds": 60,
        "rpo_basis": "x"}, "commands": [], "phases": [],
        "checks": {"promoted_failed_mandatory": 0, "new_failed_mandatory": []}}
    drill.write_report(report, folder, now=when)


def test_the_last_successful_live_drill_must_be_younger_than_90_days(tmp_path):
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert drill.overdue(tmp_path, now)[0]  # none yet
    _write(tmp_path, "live", "pass", now - dt.timedelta(days=91))
    _write(tmp_path, "live", "fail", now - dt.timedelta(days=5))      # a failed drill does not count
    _write(tmp_path, "offline", "pass", now - dt.timedelta(days=1))   # nor does an offline run
    late, message = drill.overdue(tmp_path, now)
    assert late and "91 days ago" in message
    _write(tmp_path, "live", "pass", now - dt.timedelta(days=89))
    assert drill.overdue(tmp_path, now) == (False, drill.overdue(tmp_path, now)[1])
    assert "89 days ago" in drill.overdue(tmp_path, now)[1]


def test_the_committed_example_is_an_offline_report():
    examples = sorted((drill.REPO / "reports" / "drills").glob("drill-*-offline.json"))
    assert examples, "an offline drill report is committed as an example"
    doc = json.loads(examples[-1].read_text())
    assert doc["mode"] == "offline" and doc["result"] == "pass" and doc["date"]
    assert examples[-1].with_suffix(".md").exists()
