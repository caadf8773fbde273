"""Fixtures of the fleet tests: settings of the real stack files, a stand-in environment network
and the fleets of a stack evaluated under the mock runtime."""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import pytest
import yaml

from planner.runtime import REPO
from stacks.contract import FleetNetwork
from stacks.settings import load_settings


def stack_settings(stack: str, overrides: dict[str, Any] | None = None):
    cfg = copy.deepcopy(yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"])
    for key, value in (overrides or {}).items():
        section, _, sub = key.partition(".")
        full = f"pipeline-infra:{section}"
        if sub:
            cfg.setdefault(full, {})[sub] = value
        else:
            cfg[full] = value
    return load_settings(cfg, source=f"Pulumi.{stack}.yaml", offline=True)


def stand_in_network(settings) -> FleetNetwork:
    region = settings.region or "us-east-1"
    return FleetNetwork(
        environment=settings.environment, region=region, vpc_id="vpc-0fleet", vpc_cidr="10.20.0.0/16",
        private_subnet_ids=["subnet-a", "subnet-b", "subnet-c"], public_subnet_ids=["subnet-pa"],
        artifact_bucket="pipeline-artifacts", backup_bucket="pipeline-backups",
        kms_key_arn=f"arn:aws:kms:{region}:123456789012:key/fleet-test",
        ebs_kms_key_arn=f"arn:aws:kms:{region}:123456789012:key/fleet-ebs-test",
        data_plane_security_group_id="sg-dataplane", otlp_endpoint="http://otlp.observability.internal:4317",
    )


@functools.cache
def _fleets_plan(stack: str, overrides_json: str):
    from stacks.compose.fleets import build_fleets
    from stacks.compose.traffic import build_traffic
    from tests.fleets.mockrun import record

    settings = stack_settings(stack, json.loads(overrides_json))

    def build() -> dict[str, Any]:
        out = build_fleets(settings, stand_in_network(settings))
        if settings.dr is not None:
            out |= build_traffic(settings, None)
        return out

    return record(settings, build, stack=stack)


@pytest.fixture(scope="session")
def fleets_of(plan_of):
    """fleets_of(stack, overrides) -> Plan: the whole program for fleet-colour stacks; for the
    environment stacks (staging, prod-dr) their fleets (and DR ingest) in a stand-in network."""

    def get(stack: str, overrides: dict[str, Any] | None = None):
        if stack in ("prod-blue", "prod-green"):
            return plan_of(stack, overrides)
        return _fleets_plan(stack, json.dumps(overrides or {}, sort_keys=True))

    return get
