"""Class 2, consistency across the estate: a stack contradicting another committed stack (networks, the DR
pair, a colour stack's environment, the ingest names) ends in one clear error naming the evaluated
stack's file and key. Fixtures: committed stack files with one change, in the evaluated stack or (in a
copy of the project's stack files) in the other one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from planner.runtime import REPO, apply_overrides
from stacks.settings import SettingsError, load_settings
from stacks.settings.estate import (
    ESTATE_CHECKS,
    ESTATE_RULES,
    check_stack_in_estate,
    domain_in_zone,
    estate_errors,
)
from tests.settings.cases import Case, assert_one_clear_line, changed, committed

P = "pipeline-infra"

ESTATE = [
    # networks of the estate
    Case("staging's VPC repeats prod's", "staging", "network.cidr", "10.10.0.0/16",
         f"{P}:network.cidr", "10.10.0.0/16 repeats Pulumi.prod.yaml's network.cidr"),
    Case("staging's VPC inside the DR site's", "staging", "network.cidr", "10.30.0.0/20",
         f"{P}:network.cidr", "overlaps Pulumi.prod-dr.yaml's network.cidr 10.30.0.0/16"),
    Case("prod's VPC on staging's sources", "prod", "network.cidr", "172.20.0.0/16",
         f"{P}:network.cidr", "overlaps Pulumi.staging.yaml's network.source_cidrs 172.20.0.0/16"),
    Case("staging's sources in prod's VPC", "staging", "network.source_cidrs", ["10.10.4.0/24"],
         f"{P}:network.source_cidrs", "overlaps Pulumi.prod.yaml's VPC network.cidr 10.10.0.0/16"),
    # the DR pair
    Case("the DR site peering with itself", "prod-dr", "dr.peer_stack", "prod-dr",
         f"{P}:dr.peer_stack", "names this stack itself"),
    Case("a peer stack that does not exist", "prod-dr", "dr.peer_stack", "prod-east",
         f"{P}:dr.peer_stack", "no stack prod-east in the project (Pulumi.prod-east.yaml)"),
    Case("a peer that is no DR site", "prod", "dr.peer_stack", "staging",
         f"{P}:dr.peer_stack", "Pulumi.staging.yaml is not the other site of a DR pair"),
    Case("two primaries", "prod-dr", "dr.site", "primary",
         f"{P}:dr.site", "two primaries: Pulumi.prod.yaml is dr.site primary too"),
    Case("two DR sites", "prod", "dr.site", "dr", f"{P}:dr.site", "two DR sites"),
    Case("the peer's region is not dr.peer_region", "prod-dr", "dr.peer_region", "us-east-2",
         f"{P}:dr.peer_region", "must be Pulumi.prod.yaml's aws:region us-east-1"),
    Case("the peer's network is not dr.peer_cidr", "prod-dr", "dr.peer_cidr", "10.40.0.0/16",
         f"{P}:dr.peer_cidr", "must be Pulumi.prod.yaml's network.cidr 10.10.0.0/16"),
    Case("the primary's peer network is not the DR site's", "prod", "dr.peer_cidr", "10.31.0.0/16",
         f"{P}:dr.peer_cidr", "must be Pulumi.prod-dr.yaml's network.cidr 10.30.0.0/16"),
    # a colour stack and its environment
    Case("a colour stack attached to staging", "prod-blue", "environment_stack", "staging",
         f"{P}:environment", "must be its environment stack's environment 'staging'"),
    Case("a colour stack attached to itself", "prod-green", "environment_stack", "prod-green",
         f"{P}:environment_stack", "names this stack itself"),
    Case("a colour stack attached to a stack that does not exist", "prod-blue", "environment_stack", "prd",
         f"{P}:environment_stack", "no stack prd in the project"),
    Case("a colour stack in another region than its environment", "prod-green", "aws:region", "us-east-2",
         "aws:region", "must be its environment's region us-east-1"),
    # the traffic stack (issue 11 item 1: the weighted records moved out of prod)
    Case("the traffic switch naming the blue stack green", "prod-traffic", "traffic.colour_stacks",
         {"blue": "prod-blue", "green": "prod-blue"}, f"{P}:traffic.colour_stacks.green",
         "Pulumi.prod-blue.yaml must be a fleet-colour stack of colour green attached to prod"),
    Case("the traffic switch naming a stack that does not exist", "prod-traffic", "traffic.colour_stacks",
         {"blue": "prod-blue", "green": "prod-grean"}, f"{P}:traffic.colour_stacks.green",
         "no stack prod-grean"),
    Case("a traffic stack over an environment with its own fleets", "prod-traffic", "environment_stack",
         "staging", f"{P}:environment_stack",
         "Pulumi.staging.yaml must be an AWS environment whose fleets are colour stacks"),
    Case("a traffic stack over a stack that does not exist", "prod-traffic", "environment_stack", "prd",
         f"{P}:environment_stack", "no environment stack prd in the project"),
    Case("a traffic stack of another environment", "prod-traffic", "environment", "staging",
         f"{P}:environment", "must be its environment stack's environment 'prod'"),
    Case("the primary's traffic stack without the failover record", "prod-traffic", "traffic.failover",
         False, f"{P}:traffic.failover", "must be true: Pulumi.prod.yaml is the primary site"),
    # the ingest names: one dns section on both sites
    Case("the DR site in another hosted zone", "prod-dr", "dns.zone_name", "other-corp.net",
         f"{P}:dns", "must be Pulumi.prod.yaml's dns (ingest.pipeline.acme-corp.net in "
         "pipeline.acme-corp.net; got ingest.other-corp.net in other-corp.net)"),
    Case("the primary with another ingest domain", "prod", "dns.domain", "data.pipeline.acme-corp.net",
         f"{P}:dns", "both sites of a DR pair carry the same zone and ingest domain"),
]


def estate_error(case: Case, root: Path = REPO) -> SettingsError:
    settings = load_settings(case.config(), source=case.file, offline=True)  # valid alone
    with pytest.raises(SettingsError) as info:
        check_stack_in_estate(case.stack, settings, case.file, root)
    return info.value


@pytest.mark.parametrize("case", ESTATE, ids=[c.name for c in ESTATE])
def test_a_stack_contradicting_another_is_one_clear_error(case: Case) -> None:
    assert_one_clear_line(case, estate_error(case))


def test_the_committed_estate_is_consistent() -> None:
    assert estate_errors() == []
    for stack in ("local", "staging", "prod", "prod-dr", "prod-blue", "prod-green", "prod-traffic"):
        s = load_settings(committed(stack), source=f"Pulumi.{stack}.yaml", offline=True)
        check_stack_in_estate(stack, s, f"Pulumi.{stack}.yaml")


def test_both_roles_and_every_topic_have_two_cases() -> None:
    roles = {committed(c.stack)[f"{P}:role"] for c in ESTATE}
    assert roles == {"environment", "fleet-colour", "traffic"}
    for words in (("network",), ("dr.",), ("environment_stack", "aws:region"), ("traffic.",), ("dns.",)):
        assert len([c for c in ESTATE if c.change.startswith(words)]) >= 2, words


# --- a change in the other stack, in a copy of the project's stack files ----------------------------
def _project_with(tmp_path: Path, stack: str, key: str, value) -> Path:
    for path in REPO.glob("Pulumi.*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    doc = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    doc["config"] = apply_overrides(doc["config"], {key: value})
    if value is None:
        top, _, rest = key.partition(".")
        doc["config"].pop(f"{P}:{top}")
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc))
    return tmp_path


def _evaluate(root: Path, stack: str) -> SettingsError:
    s = load_settings(committed(stack), source=f"Pulumi.{stack}.yaml", offline=True)
    with pytest.raises(SettingsError) as info:
        check_stack_in_estate(stack, s, f"Pulumi.{stack}.yaml", root)
    return info.value


def test_a_primary_pairing_with_another_stack(tmp_path: Path) -> None:
    root = _project_with(tmp_path, "prod", "dr.peer_stack", "prod-dr2")
    assert str(_evaluate(root, "prod-dr")) == (
        "Pulumi.prod-dr.yaml: pipeline-infra:dr.peer_stack: Pulumi.prod.yaml pairs with prod-dr2, not with "
        "this stack (prod-dr)"
    )


def test_a_colour_stack_whose_environment_declares_fleets() -> None:
    from stacks.settings.estate import Member, check_stack, load_estate

    estate = load_estate()
    staging = estate["staging"].settings
    prod = estate["prod"].settings.model_copy(update={"fleets": staging.fleets, "capacity": staging.capacity})
    estate["prod"] = Member("prod", "Pulumi.prod.yaml", prod)
    with pytest.raises(SettingsError) as info:
        check_stack("prod-blue", estate)
    error = info.value
    assert error.key == f"{P}:environment_stack"
    assert "Pulumi.prod.yaml declares its own fleets" in error.message


def test_a_colour_stack_attached_to_the_local_stack(tmp_path: Path) -> None:
    case = Case("attached to local", "prod-green", "environment_stack", "local", f"{P}:environment_stack",
                "Pulumi.local.yaml is not an AWS environment")
    assert_one_clear_line(case, estate_error(case))
    # Seen from prod-traffic, whose traffic switch still names prod-green:
    root = _project_with(tmp_path, "prod-green", "environment_stack", "local")
    error = _evaluate(root, "prod-traffic")
    assert error.key == f"{P}:traffic.colour_stacks.green"
    assert "environment_stack local" in error.message


def test_a_broken_sibling_is_its_own_error(tmp_path: Path) -> None:
    root = _project_with(tmp_path, "staging", "kafka.brokers", "three")
    error = _evaluate(root, "prod")
    assert str(error).startswith("Pulumi.staging.yaml: pipeline-infra:kafka.brokers: must be a valid integer")


def test_a_what_if_file_of_a_new_name_joins_the_estate() -> None:
    # A copy of staging under another name repeats staging's VPC: a stack of its own needs its own.
    s = load_settings(changed("staging", "environment", "staging2"), source="/tmp/Pulumi.staging2.yaml",
                      offline=True)
    with pytest.raises(SettingsError, match="repeats Pulumi.staging.yaml's network.cidr"):
        check_stack_in_estate("staging2", s, "/tmp/Pulumi.staging2.yaml")
    # Under staging's own name it stands in for the committed file: no contradiction.
    check_stack_in_estate("staging", s, "/tmp/Pulumi.staging.yaml")


def test_stack_references_by_full_name_are_read_by_their_stack_name() -> None:
    cfg = changed("prod-dr", "dr.peer_stack", "acme/pipeline-infra/prod")
    s = load_settings(cfg, source="Pulumi.prod-dr.yaml", offline=True)
    check_stack_in_estate("prod-dr", s, "Pulumi.prod-dr.yaml")


def test_domain_in_zone() -> None:
    assert domain_in_zone("ingest.pipeline.example.com", "pipeline.example.com")
    assert domain_in_zone("pipeline.example.com.", "Pipeline.Example.com")
    assert not domain_in_zone("ingest.pipeline.example.com", "example.co")
    assert not domain_in_zone("badpipeline.example.com", "pipeline.example.com")


def test_estate_rules_are_one_per_settings_error_of_the_module() -> None:
    from planner.settings_doc import settings_error_raises

    source = (REPO / "stacks" / "settings" / "estate.py").read_text(encoding="utf-8")
    assert settings_error_raises(source, ESTATE_CHECKS) == len(ESTATE_RULES)
    line = '    primary = e.dr is not None and e.dr.site == "primary"\n'
    added = '    if not primary:\n        raise SettingsError(source, "x", "y")\n'
    extra = source.replace(line, line + added)
    assert extra != source
    assert settings_error_raises(extra, ESTATE_CHECKS) == len(ESTATE_RULES) + 1
    docs = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    assert "Across stacks" in docs and "two primaries" in docs
