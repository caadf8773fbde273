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
    ("an SSM parameter outside Debian's dated releases",
     colour_stack(ami_id="/aws/service/debian/amd64/latest/debian-12-amd64"),
     "pipeline-infra:fleets.ami_id", "ami-<8 to 17 hex> or the dated Debian 12 amd64 public parameter"),
    # the parameter Debian moves on every release: an up would roll the fleets unasked
    ("Debian's latest parameter",
     colour_stack(ami_id="/aws/service/debian/release/bookworm/latest/amd64"),
     "pipeline-infra:fleets.ami_id", "never latest or daily"),
    ("a daily build", colour_stack(ami_id="/aws/service/debian/daily/bookworm/20250101-1234/amd64"),
     "pipeline-infra:fleets.ami_id", "/aws/service/debian/release/bookworm/<YYYYMMDD>-<build>/amd64"),
    ("another release", colour_stack(ami_id="/aws/service/debian/release/13/20250101-1234/amd64"),
     "pipeline-infra:fleets.ami_id", "Debian 12 amd64"),
    ("another architecture", colour_stack(ami_id="/aws/service/debian/release/12/20250101-1234/arm64"),
     "pipeline-infra:fleets.ami_id", "Debian 12 amd64"),
    ("a release without its build", colour_stack(ami_id="/aws/service/debian/release/12/20250101/amd64"),
     "pipeline-infra:fleets.ami_id", "<YYYYMMDD>-<build>"),
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


# seed 003 Runbook H.1-H.3: knob -> (baseline, the runbook's optimised value)
RUNBOOK_H = {
    "alpha": {
        "DEFAULT_BATCH_SIZE": (1000, 2000),
        "PARSER_THREAD_COUNT": (4, 8),
        "CONNECTION_POOL_SIZE": (10, 20),
        "CONNECTION_IDLE_TIMEOUT_MS": (300_000, 600_000),
        "VALIDATION_PARALLEL_RULES": (False, True),
        "VALIDATION_STRICT_MODE": (True, False),
    },
    "beta": {
        "TRANSFORM_PARALLELISM": (8, 16),
        "TRANSFORM_BATCH_SIZE": (500, 1000),
        "ENRICHMENT_CACHE_TTL": (3600, 7200),
        "ENRICHMENT_CACHE_MAX_SIZE": (100_000, 200_000),
    },
    "gamma": {
        "OUTPUT_BATCH_SIZE": (500, 1000),
        "ACK_WAIT_TIMEOUT_MS": (60_000, 30_000),
        "ACK_TIMEOUT_ACTION": ("RETRY_DELIVERY", "ASSUME_SUCCESS"),
    },
}


def test_runbook_h_knobs_default_to_the_baselines_and_take_the_runbook_values():
    from components.fleet.settings import ModuleParams

    defaults = ModuleParams()
    for module, knobs in RUNBOOK_H.items():
        got = getattr(defaults, module).model_dump()
        assert {k: got[k] for k in knobs} == {k: v[0] for k, v in knobs.items()}, module
    tuned = colour_stack(params={m: {k: v[1] for k, v in knobs.items()} for m, knobs in RUNBOOK_H.items()})
    s = load_settings(tuned, source="Pulumi.prod-blue.yaml", offline=True)
    for module, knobs in RUNBOOK_H.items():
        got = getattr(s.fleets.params, module).model_dump()
        assert {k: got[k] for k in knobs} == {k: v[1] for k, v in knobs.items()}, module


@pytest.mark.parametrize(
    "key,value,allowed",
    [
        ("PARSER_THREAD_COUNT", 0, "greater than or equal to 1"),
        ("CONNECTION_POOL_SIZE", 5000, "less than or equal to 500"),
    ],
)
def test_a_knob_out_of_range_is_one_clear_error(key, value, allowed):
    with pytest.raises(SettingsError) as info:
        load_settings(
            colour_stack(params={"alpha": {key: value}}), source="Pulumi.prod-blue.yaml", offline=True
        )
    assert str(info.value).startswith(f"Pulumi.prod-blue.yaml: pipeline-infra:fleets.params.alpha.{key}")
    assert allowed in str(info.value)


def test_gamma_ack_action_accepts_only_the_seeds_values():
    cfg = colour_stack(params={"gamma": {"ACK_TIMEOUT_ACTION": "DROP"}})
    with pytest.raises(SettingsError, match="ACK_TIMEOUT_ACTION.*'RETRY_DELIVERY' or 'ASSUME_SUCCESS'"):
        load_settings(cfg, source="Pulumi.prod-blue.yaml", offline=True)


def test_the_knobs_reach_the_module_config(fleets_of):
    import yaml as _yaml

    plan = fleets_of("staging", {"fleets.params": {"alpha": {"PARSER_THREAD_COUNT": 8}}})
    (template,) = [
        r for r in plan.of_type("aws:ec2/launchTemplate:LaunchTemplate") if r.name.startswith("alpha-")
    ]
    import base64
    import gzip

    user_data = gzip.decompress(base64.b64decode(template.inputs["userData"])).decode()
    doc = _yaml.safe_load(user_data)
    (cfg,) = [f for f in doc["write_files"] if f["path"].endswith("/alpha.yaml")]
    assert _yaml.safe_load(cfg["content"])["PARSER_THREAD_COUNT"] == 8


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
    for release in ("/aws/service/debian/release/bookworm/20250101-1234/amd64",
                    "/aws/service/debian/release/12/20250101-1234/amd64"):
        dated = colour_stack(ami_id=release)
        assert load_settings(dated, source="Pulumi.prod-blue.yaml", offline=False).fleets.ami_id == release
