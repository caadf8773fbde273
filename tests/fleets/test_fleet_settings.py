"""Bad fleet inputs end in one settings error line (stack file, key, what is allowed), before
anything is registered."""

from __future__ import annotations

import copy

import pytest
import yaml

from planner.runtime import REPO
from stacks.settings import SettingsError, load_settings


def colour_stack(**fleets) -> dict:
    cfg = copy.deepcopy(yaml.safe_load((REPO / "Pulumi.prod-blue.yaml").read_text())["config"])
    cfg["pipeline-infra:fleets"] = {**cfg["pipeline-infra:fleets"], **fleets}
    return cfg


BAD = [
    ("bad sha256", colour_stack(artifact_sha256={"alpha": "not-a-digest"}),
     "pipeline-infra:fleets", "64 lowercase hex"),
    ("sha256 of an unknown module", colour_stack(artifact_sha256={"delta": "a" * 64}),
     "pipeline-infra:fleets.artifact_sha256.delta", "'alpha', 'beta' or 'gamma'"),
    ("unknown module", colour_stack(modules=["alpha", "omega"]),
     "pipeline-infra:fleets.modules[1]", "'alpha', 'beta' or 'gamma'"),
    # 003 Reserved Capacity: beta baseline 5
    ("beta below the reserved baseline", colour_stack(overrides={"beta": {"min": 4}}),
     "pipeline-infra:fleets.overrides.beta.min", "reserved baseline 5"),
    ("min above max", colour_stack(overrides={"alpha": {"min": 8, "max": 6}}),
     "pipeline-infra:fleets.overrides.alpha", "min <= desired <= max"),
    ("unknown seed parameter", colour_stack(params={"alpha": {"BATCH": 10}}),
     "pipeline-infra:fleets.params.alpha.BATCH", "unknown key"),
    ("handoff port equal to the health port", colour_stack(handoff_port=8080),
     "pipeline-infra:fleets", "must differ"),
    ("an SSM parameter name instead of an AMI id",
     colour_stack(ami_id="/aws/service/debian/amd64/latest/debian-12-amd64"),
     "pipeline-infra:fleets.ami_id", "ami-[0-9a-f]{8,17}"),
]


@pytest.mark.parametrize("name,cfg,key,allowed", BAD, ids=[b[0] for b in BAD])
def test_bad_fleet_input_is_one_clear_error(name, cfg, key, allowed):
    with pytest.raises(SettingsError) as info:
        load_settings(cfg, source="Pulumi.prod-blue.yaml", offline=True)
    line = str(info.value)
    assert "\n" not in line
    assert line.startswith(f"Pulumi.prod-blue.yaml: {key}"), line
    assert allowed in line, line


def test_nothing_is_registered_on_bad_input():
    from planner.mocks import PlanMocks
    from planner.runtime import RecordingMonitor, run_plan

    monitor = RecordingMonitor(PlanMocks())
    with pytest.raises(SettingsError, match="reserved baseline 3"):  # 003 Reserved Capacity: gamma 3
        run_plan("prod-blue", {"fleets.overrides": {"gamma": {"min": 1}}}, monitor=monitor)
    assert monitor.records == []


def test_the_fleet_image_is_required_outside_the_offline_plan():
    # a real preview stops with the key and how to find the value; the offline plan stands one in
    cfg = colour_stack()
    cfg["pipeline-infra:fleets"].pop("ami_id", None)
    with pytest.raises(SettingsError) as info:
        load_settings(cfg, source="Pulumi.prod-blue.yaml", offline=False)
    assert str(info.value).startswith("Pulumi.prod-blue.yaml: pipeline-infra:fleets.ami_id: required: the "
                                      "Debian 12 (bookworm) amd64 AMI of us-east-1")
    assert load_settings(cfg, source="Pulumi.prod-blue.yaml", offline=True).fleets.ami_id == (
        "ami-00000000000000000")
    pinned = colour_stack(ami_id="ami-0123456789abcdef0")
    assert load_settings(pinned, source="Pulumi.prod-blue.yaml", offline=True).fleets.ami_id == (
        "ami-0123456789abcdef0")
