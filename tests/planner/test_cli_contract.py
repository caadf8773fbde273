"""The offline plan's contract: `make plan` forms, exit codes, diff and render (issue: foundation)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from planner.mocks import PlanMocks
from planner.runtime import REPO, RecordingMonitor, run_plan
from stacks.settings import SettingsError

STACKS = ["local", "staging", "prod", "prod-blue", "prod-green", "prod-dr"]
# Exit 1: a plan that evaluated but has estate errors or failed mandatory checks (a what-if below:
# more PostgreSQL instances than prod's node group holds); 0: none (every committed stack);
# 2 is a settings error.
FINDINGS = 1
CLEAN = 0


def planner(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "planner", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def plan_ok(proc: subprocess.CompletedProcess) -> None:
    """A plan exits 0, or 1 exactly when it reports mandatory policy violations (docs/policies.md)."""
    assert proc.returncode in (0, 1), proc.stderr
    assert (proc.returncode == 1) == ("mandatory policy violation" in proc.stderr), proc.stderr


@pytest.fixture(scope="module")
def prod_json():
    proc = planner("plan", "--stack", "prod", "--format", "json")
    assert proc.returncode == CLEAN, proc.stderr
    return json.loads(proc.stdout)  # only JSON on stdout: this fails on any other line


def test_json_shape(prod_json):
    assert set(prod_json) >= {"stack", "resources", "outputs", "capacity", "policy", "estate", "checks"}
    assert prod_json["stack"] == "prod"
    assert prod_json["resources"], "prod declares resources"
    for r in prod_json["resources"]:
        assert set(r) >= {"urn", "type", "name", "parent", "custom", "inputs", "options"}
    assert isinstance(prod_json["policy"]["violations"], list)


def test_prod_capacity_is_the_active_colour_production_fleet(prod_json):
    cap = prod_json["capacity"]
    assert set(cap) == {"alpha", "beta", "gamma"}
    # seed 003 Reserved Capacity (3/5/3) and Compute Capacity (4/6/4) at the current horizon.
    assert [cap[m]["min"] for m in ("alpha", "beta", "gamma")] == [3, 5, 3]
    assert [cap[m]["desired"] >= n for m, n in (("alpha", 4), ("beta", 6), ("gamma", 4))] == [True] * 3
    for row in cap.values():
        assert {"min", "desired", "max", "vcpu", "memory_gib", "monthly_cost", "az_loss_headroom_pct"} <= set(
            row
        )


def test_every_parent_is_a_declared_resource_or_the_stack(prod_json):
    urns = {r["urn"] for r in prod_json["resources"]}
    for r in prod_json["resources"]:
        assert r["parent"] in urns or r["parent"].endswith("::pulumi:pulumi:Stack::pipeline-infra-prod"), r[
            "urn"
        ]


def test_a_failed_mandatory_check_exits_1():
    # nine PostgreSQL instances, one per node: prod's postgres node group has fewer nodes
    proc = planner("plan", "--stack", "prod", "--set", "postgres.instances=9")
    assert proc.returncode == FINDINGS, proc.stderr
    assert [ln.split()[:4] for ln in proc.stdout.splitlines() if " FAIL " in ln] == [
        ["scheduling", "critical", "mandatory", "FAIL"]
    ]


def test_human_form_exit_code_and_sections():
    proc = planner("plan", "--stack", "prod")
    assert proc.returncode == CLEAN, proc.stderr
    for section in ("Resource tree", "Counts by type", "Capacity", "Policy:", "Outputs", "Estate errors:",
                    "Checks"):
        assert section in proc.stdout


def test_invalid_configuration_exits_2_with_one_line_and_no_traceback():
    proc = planner("plan", "--stack", "prod", "--set", "kafka.brokers=zero")
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == [
        "error: Pulumi.prod.yaml: pipeline-infra:kafka.brokers: must be a valid integer, unable to "
        "parse string as an integer (got 'zero')"
    ]
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_invalid_configuration_registers_nothing():
    monitor = RecordingMonitor(PlanMocks())
    with pytest.raises(SettingsError):
        run_plan("prod", {"network.cidr": "not-a-cidr"}, monitor=monitor)
    assert monitor.records == []


def test_missing_stack_file_is_a_settings_error():
    proc = planner("plan", "--stack", "nope")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: Pulumi.nope.yaml: -: stack file not found"


def test_set_evaluates_a_what_if_without_editing_files():
    before = (REPO / "Pulumi.prod-blue.yaml").read_text()
    plan = run_plan("prod-blue", {"capacity.horizon_months": 12})  # alone: its references unresolved
    assert plan.settings.capacity.horizon_months == 12
    assert (REPO / "Pulumi.prod-blue.yaml").read_text() == before


def test_config_evaluates_any_stack_file(tmp_path):
    cfg = yaml.safe_load((REPO / "Pulumi.prod-blue.yaml").read_text())
    cfg["config"]["pipeline-infra:fleets"]["colour"] = "green"
    path = tmp_path / "Pulumi.what-if.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = planner("plan", "--config", str(path), "--format", "json")
    # a stack the README's deployment order does not name: the order check's finding
    assert proc.returncode == FINDINGS, proc.stderr
    assert json.loads(proc.stdout)["stack"] == "what-if"
    cfg["config"]["pipeline-infra:fleets"]["colour"] = "red"
    path.write_text(yaml.safe_dump(cfg))
    proc = planner("plan", "--config", str(path))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {path}: pipeline-infra:fleets.colour: must be one of")


def test_diff_of_dr_promotion():
    proc = planner("diff", "--stack", "prod-dr", "--set", "dr.role=primary", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert set(d) >= {"created", "deleted", "changed"}
    assert d["changed"], "promotion changes resources"
    for change in d["changed"]:
        assert change["paths"], change


def test_diff_of_the_same_configuration_is_empty():
    proc = planner("diff", "--stack", "prod-blue", "--format", "json")
    d = json.loads(proc.stdout)
    assert d["created"] == d["deleted"] == d["changed"] == []


def test_render_writes_artifacts_named_after_resources(tmp_path):
    proc = planner("plan", "--stack", "staging", "--render", str(tmp_path), "--format", "json")
    assert proc.returncode == CLEAN, proc.stderr  # no finding left on staging (its CDC accuracy is produced)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files
    plan = json.loads(proc.stdout)
    names = {r["name"] for r in plan["resources"]}
    for p in (tmp_path / "kubernetes").glob("*.yaml"):
        assert p.stem in {n.replace("/", "_") for n in names}
    assert any((tmp_path / "cloud-init").glob("*.yaml")), "launch templates render their user-data"


def test_no_secret_value_in_rendered_artifacts(tmp_path):
    from stacks.settings import OFFLINE_SECRET

    for stack, status in (("local", CLEAN), ("prod", CLEAN)):
        out = tmp_path / stack
        proc = planner("plan", "--stack", stack, "--render", str(out), "--format", "json")
        assert proc.returncode == status, proc.stderr
        for p in out.rglob("*"):
            if p.is_file():
                assert OFFLINE_SECRET not in p.read_text(errors="replace"), p


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_plans(stack, plan_of):
    plan = plan_of(stack)
    assert plan.resources
