"""Class 5, no validation after registration: a fault of every class ends before the first resource is
registered; a failed plan leaves nothing behind for the next plan of the process; a successful plan
prints nothing on stderr, at exit included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from planner.mocks import PlanMocks
from planner.report import to_json
from planner.runtime import REPO, RecordingMonitor, run_plan
from policies import mandatory
from stacks.settings import SettingsError
from tests.settings.test_files import committed_text

# (class, stack, overrides) : a fault of each class, in each stack role where the class applies
FAULTS = [
    ("1 consistency", "prod", {"kafka.min_insync_replicas": 3}),
    ("1 consistency, colour stack", "prod-blue", {"fleets.colour": "green"}),
    ("2 estate: the peer's network", "prod-dr", {"dr.peer_cidr": "10.40.0.0/16"}),
    ("2 estate: a colour stack's environment", "prod-green", {"environment_stack": "staging"}),
    ("2 estate: the hosted zone", "prod", {"traffic.domain": "ingest.example.org"}),
    ("3 provider values", "staging", {"aws:regoin": "eu-west-1"}),
    ("3 provider values, colour stack", "prod-blue", {"aws:region": "us-east-9"}),
    ("3 a secure value where no secret is allowed", "prod", {"environment": {"secure": "v1:abc"}}),
    ("6 unknown key", "local", {"kafka.brokerz": 3}),
]


@pytest.mark.parametrize("name,stack,overrides", FAULTS, ids=[f[0] for f in FAULTS])
def test_a_fault_of_every_class_registers_nothing(name: str, stack: str, overrides: dict) -> None:
    monitor = RecordingMonitor(PlanMocks())
    with pytest.raises(SettingsError):
        run_plan(stack, overrides, monitor=monitor)
    assert monitor.records == []


def test_a_bad_file_registers_nothing(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(committed_text("prod") + "  pipeline-infra:role: fleet-colour\n")  # class 4
    monitor = RecordingMonitor(PlanMocks())
    with pytest.raises(SettingsError, match="duplicate key"):
        run_plan(config_path=path, monitor=monitor)
    assert monitor.records == []


def _plan_json(stack: str) -> str:
    return json.dumps(to_json(run_plan(stack)), sort_keys=True, default=str)


def test_a_plan_that_failed_after_registering_leaves_nothing_for_the_next(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    import components.network.peering as peering

    fresh_blue, fresh_dr = _plan_json("prod-blue"), _plan_json("prod-dr")

    # A check on a live output (the peer stack's deployed VPC network) can only fail in an apply,
    # after registration; here it is made to fail, half-way through prod-dr's resources.
    def differs(declared: str, actual: str, peer_stack: str) -> str:
        raise ValueError(f"{peer_stack}'s deployed network differs")

    monkeypatch.setattr(peering, "checked_peer_network", differs)
    # Through the estate, so that prod-dr's StackReference answers with prod's planned outputs and the
    # apply that checks the peer network runs.
    from planner.estate import evaluate

    with pytest.raises(ValueError, match="deployed network differs"):
        evaluate(["prod-dr"])
    monkeypatch.undo()

    assert _plan_json("prod-blue") == fresh_blue
    assert _plan_json("prod-dr") == fresh_dr
    assert capfd.readouterr().err == ""


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_a_successful_plan_prints_nothing_on_stderr_at_exit() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "planner", "plan", "--stack", "prod-dr", "--format", "json"],
        cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    # exit 0: no estate finding left (tests/planner/known_findings.py is empty) and no mandatory policy
    # violation (tests/policies/current_findings.yaml), so no summary line; nothing at exit
    doc = json.loads(proc.stdout)
    assert proc.returncode == 0
    violations = len(mandatory(doc["policy"]["violations"]))
    summary = [f"{violations} mandatory policy violation(s) in stack prod-dr"] if violations else []
    assert proc.stderr.splitlines() == summary


def test_after_a_failed_plan_the_process_exits_quietly() -> None:
    code = (
        "import components.network.peering as p\n"
        "from planner.runtime import run_plan\n"
        "ok = p.checked_peer_network\n"
        "def differs(*a):\n    raise ValueError('differs')\n"
        "p.checked_peer_network = differs\n"
        "from planner.estate import evaluate\n"
        "try:\n    evaluate(['prod-dr'])\nexcept ValueError:\n    print('failed')\n"
        "p.checked_peer_network = ok\n"
        "print(len(run_plan('prod-blue').resources))\n"
    )
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[0] == "failed" and int(proc.stdout.splitlines()[1]) > 0
    assert proc.stderr == "", proc.stderr[-2000:]
