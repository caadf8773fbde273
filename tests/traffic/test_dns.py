"""DNS (issue 11 item 5): one hosted zone and ingest domain that both sites of the DR pair carry,
checked for agreement across the stack files and, at deploy time, by the DR site against the
primary's outputs; no placeholder zone in a committed stack. Each check shown failing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from components.traffic.settings import reserved
from planner.report import stack_names
from planner.runtime import REPO, read_stack_file
from stacks.compose.traffic import agreeing_dns
from stacks.contract import DR_GATE_OUTPUTS, INGEST_OUTPUTS
from stacks.settings import SettingsError, load_settings
from stacks.settings.estate import Member, check_stack, estate_errors


def committed():
    out = {}
    for name in stack_names():
        path = REPO / f"Pulumi.{name}.yaml"
        out[name] = load_settings(read_stack_file(path, path.name), source=path.name, offline=True)
    return out


def _members(stacks):
    return {n: Member(n, f"Pulumi.{n}.yaml", s) for n, s in stacks.items()}


def test_both_sites_carry_one_zone_and_the_stack_set_agrees():
    stacks = committed()
    assert stacks["prod"].dns == stacks["prod-dr"].dns is not None
    assert estate_errors() == []


def test_a_dr_site_with_another_zone_is_refused_from_either_side():
    stacks = committed()
    dns = stacks["prod-dr"].dns.model_copy(update={"zone_name": "other-corp.net"})
    stacks["prod-dr"] = stacks["prod-dr"].model_copy(update={"dns": dns})
    for name, peer in (("prod-dr", "Pulumi.prod.yaml"), ("prod", "Pulumi.prod-dr.yaml")):
        with pytest.raises(SettingsError, match=f"must be {peer}'s dns") as info:
            check_stack(name, _members(stacks))
        assert info.value.key == "pipeline-infra:dns"


def test_a_traffic_stack_without_failover_on_a_dr_primary_is_refused():
    stacks = committed()
    t = stacks["prod-traffic"].traffic.model_copy(update={"failover": False})
    stacks["prod-traffic"] = stacks["prod-traffic"].model_copy(update={"traffic": t})
    with pytest.raises(SettingsError, match="must be true: Pulumi.prod.yaml is the primary site"):
        check_stack("prod-traffic", _members(stacks))


def test_prod_exports_what_its_traffic_stack_and_the_dr_site_read(plan_of):
    outputs = plan_of("prod").outputs
    assert {n: outputs[n] for n in (*INGEST_OUTPUTS, *DR_GATE_OUTPUTS)} == {
        "ingest_zone_name": "pipeline.acme-corp.net",
        "ingest_domain": "ingest.pipeline.acme-corp.net",
        # the alarm prod-dr owns (dr-ingest-promotion-gate) in prod's dr.peer_region
        "dr_gate_alarm_name": "pipeline-prod-dr-dr-promoted",
        "dr_gate_alarm_region": "us-west-2",
    }


def test_no_committed_stack_names_a_placeholder_zone():
    zones = {n: s.dns.zone_name for n, s in committed().items() if s.dns is not None}
    assert set(zones) == {"prod", "prod-dr"}
    assert {n: reserved(z) for n, z in zones.items()} == {"prod": None, "prod-dr": None}
    for name in stack_names():
        text = (REPO / f"Pulumi.{name}.yaml").read_text()
        assert "example." not in text, name
    assert reserved("pipeline.example.com") == "example.com" and reserved("ingest.test") == "test"


def test_every_route53_record_lies_in_the_committed_zone(plan_of):
    for stack in ("prod-traffic", "prod-dr"):
        records = plan_of(stack).of_type("aws:route53/record:Record")
        assert records
        for r in records:
            assert r.inputs["name"].endswith(".pipeline.acme-corp.net"), (stack, r.inputs["name"])


def test_the_dr_site_refuses_a_zone_that_is_not_the_primarys():
    assert agreeing_dns(("z.net", "ingest.z.net"), ("z.net", "ingest.z.net"), peer_stack="prod") == (
        "z.net",
        "ingest.z.net",
    )
    with pytest.raises(ValueError, match="set the same pipeline-infra:dns on both sites"):
        agreeing_dns(("a.net", "ingest.a.net"), ("z.net", "ingest.z.net"), peer_stack="prod")
    # the whole DR program (in its own process) with a dns.zone_name that is not prod's: the settings
    # refuse it before anything is registered (stacks/settings/estate.py); against a prod deployed from
    # other files, agreeing_dns above stops the run on prod's real outputs
    proc = subprocess.run(
        [sys.executable, "-m", "planner", "plan", "--stack", "prod-dr", "--set", "dns.zone_name=x-corp.net"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 2
    assert "pipeline-infra:dns: must be Pulumi.prod.yaml's dns" in proc.stderr
