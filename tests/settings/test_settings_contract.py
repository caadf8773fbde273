"""The settings contract: every invalid value ends in exactly one error line naming the stack file,
the key path and what is allowed (exit 2 from the CLI, no traceback, nothing registered)."""

from __future__ import annotations

import copy

import pytest
import yaml

from planner.runtime import REPO
from stacks.settings import SettingsError, load_settings


def config(stack: str) -> dict:
    return yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]


def load(cfg: dict, source: str = "Pulumi.test.yaml", **kw):
    return load_settings(cfg, source=source, offline=True, **kw)


def with_(stack: str, key: str, value, *path) -> dict:
    cfg = copy.deepcopy(config(stack))
    node = cfg
    if path:
        node = cfg.setdefault(key, {})
        for p in path[:-1]:
            node = node.setdefault(p, {})
        node[path[-1]] = value
    else:
        cfg[key] = value
    return cfg


def without(stack: str, key: str) -> dict:
    cfg = copy.deepcopy(config(stack))
    del cfg[key]
    return cfg


@pytest.mark.parametrize(
    "stack", ["local", "staging", "prod", "prod-dr", "prod-blue", "prod-green", "prod-traffic"]
)
def test_every_stack_file_is_valid(stack):
    s = load(config(stack), source=f"Pulumi.{stack}.yaml")
    assert s.environment in {"local", "staging", "prod", "prod-dr"}


# (name, stack, config, key path in the message, words of what is allowed)
BAD = [
    (
        "wrong type: text for an integer",
        "prod",
        with_("prod", "pipeline-infra:kafka", "three", "brokers"),
        "pipeline-infra:kafka.brokers",
        "valid integer",
    ),
    (
        "wrong type: mapping for a scalar",
        "prod",
        with_("prod", "pipeline-infra:role", {"a": 1}),
        "pipeline-infra:role",
        "one of",
    ),
    (
        "out of range: above maximum",
        "prod-blue",
        with_("prod-blue", "pipeline-infra:capacity", 99, "horizon_months"),
        "pipeline-infra:capacity.horizon_months",
        "less than or equal to 36",
    ),
    (
        "out of range: below minimum",
        "prod",
        with_("prod", "pipeline-infra:postgres", 0, "instances"),
        "pipeline-infra:postgres.instances",
        "greater than or equal to 1",
    ),
    (
        "enum: unknown role",
        "prod",
        with_("prod", "pipeline-infra:role", "primary"),
        "pipeline-infra:role",
        "'environment', 'fleet-colour' or 'traffic'",
    ),
    (
        "enum: unknown colour",
        "prod-traffic",
        with_("prod-traffic", "pipeline-infra:traffic", "purple", "active"),
        "pipeline-infra:traffic.active",
        "'blue' or 'green'",
    ),
    (
        "unknown top-level key (typo)",
        "prod",
        with_("prod", "pipeline-infra:netwrok", {"cidr": "10.0.0.0/16"}),
        "pipeline-infra:netwrok",
        "unknown key; allowed: network, role, target",
    ),
    (
        "unknown nested key (typo)",
        "prod",
        with_("prod", "pipeline-infra:kafka", 3, "brokerz"),
        "pipeline-infra:kafka.brokerz",
        "unknown key; allowed: brokers, controllers",
    ),
    (
        "unknown namespace",
        "prod",
        with_("prod", "pipline-infra:role", "environment"),
        "pipline-infra:role",
        "unknown namespace",
    ),
    (
        "missing required key",
        "prod",
        without("prod", "pipeline-infra:environment"),
        "pipeline-infra:environment",
        "required key is missing",
    ),
    (
        "missing section for the role",
        "prod",
        without("prod", "pipeline-infra:network"),
        "pipeline-infra:network",
        "required in a stack of role environment on target aws",
    ),
    (
        "section not allowed for the role",
        "prod-blue",
        with_("prod-blue", "pipeline-infra:kafka", {}),
        "pipeline-infra:kafka",
        "not allowed in a stack of role fleet-colour",
    ),
    (
        "inconsistent: fleet colour on docker",
        "prod-blue",
        with_("prod-blue", "pipeline-infra:target", "docker"),
        "pipeline-infra:target",
        "runs on target aws only",
    ),
    (
        "inconsistent: horizon and growth factor",
        "prod-blue",
        with_("prod-blue", "pipeline-infra:capacity", 1.5, "growth_factor"),
        "pipeline-infra:capacity",
        "horizon_months or growth_factor, not both",
    ),
    (
        "inconsistent: replication factor above brokers",
        "local",
        with_("local", "pipeline-infra:kafka", 3, "replication_factor"),
        "pipeline-infra:kafka",
        "exceeds brokers",
    ),
    (
        "inconsistent: weights not summing to 100",
        "prod-traffic",
        with_("prod-traffic", "pipeline-infra:traffic", {"blue": 60, "green": 30}, "weights"),
        "pipeline-infra:traffic",
        "must sum to 100",
    ),
    (
        "inconsistent: peer CIDR overlaps",
        "prod-dr",
        with_("prod-dr", "pipeline-infra:dr", "10.30.128.0/17", "peer_cidr"),
        "pipeline-infra:dr.peer_cidr",
        "overlaps",
    ),
    (
        "bad CIDR",
        "prod",
        with_("prod", "pipeline-infra:network", "10.10.0.0/33", "cidr"),
        "pipeline-infra:network.cidr",
        "CIDR notation",
    ),
    ("bad region", "prod", with_("prod", "aws:region", "mars-1"), "aws:region", "must be an AWS region"),
    (
        "count below the reserved baseline",
        "prod-blue",
        with_("prod-blue", "pipeline-infra:fleets", {"alpha": {"min": 2}}, "overrides"),
        "pipeline-infra:fleets.overrides.alpha.min",
        "reserved baseline 3",
    ),
    (
        "override of a module not deployed",
        "prod-blue",
        with_(
            "prod-blue",
            "pipeline-infra:fleets",
            {"modules": ["alpha", "beta"], "colour": "blue", "overrides": {"gamma": {"desired": 5}}},
        ),
        "pipeline-infra:fleets.overrides.gamma",
        "not in fleets.modules",
    ),
    (
        "unknown module",
        "prod-blue",
        with_("prod-blue", "pipeline-infra:fleets", ["alpha", "delta"], "modules"),
        "pipeline-infra:fleets.modules[1]",
        "'alpha', 'beta' or 'gamma'",
    ),
    (
        "promotion token without promotion",
        "prod-dr",
        with_("prod-dr", "pipeline-infra:dr", "token-123", "promotion_token"),
        "pipeline-infra:dr.promotion_token",
        "only used with dr.role primary",
    ),
    (
        "unknown key of a mapping (colour)",
        "prod-traffic",
        with_("prod-traffic", "pipeline-infra:traffic", {"purple": 100}, "weights"),
        "pipeline-infra:traffic.weights.purple",
        "one of 'blue' or 'green'",
    ),
    (
        "placeholder zone (reserved name)",
        "prod",
        with_("prod", "pipeline-infra:dns", "pipeline.example.com", "zone_name"),
        "pipeline-infra:dns",
        "reserved placeholder name",
    ),
    (
        "ingest domain outside its zone",
        "prod-dr",
        with_("prod-dr", "pipeline-infra:dns", "ingest.elsewhere.net", "domain"),
        "pipeline-infra:dns",
        "is not inside zone_name",
    ),
    (
        "a DR site without the ingest zone",
        "prod-dr",
        without("prod-dr", "pipeline-infra:dns"),
        "pipeline-infra:dns",
        "required on a site of a DR pair",
    ),
    (
        "a traffic stack carries no zone of its own (it reads its environment's)",
        "prod-traffic",
        with_("prod-traffic", "pipeline-infra:dns", {"zone_name": "pipeline.acme-corp.net"}),
        "pipeline-infra:dns",
        "not allowed in a stack of role traffic",
    ),
    (
        "a partly qualified stack name",
        "prod-blue",
        with_("prod-blue", "pipeline-infra:environment_stack", "acme/prod"),
        "pipeline-infra:environment_stack",
        "should match pattern",
    ),
    (
        # a site's role is standby or primary (the primary site is demoted to standby in a failback)
        "unknown dr role",
        "prod",
        with_("prod", "pipeline-infra:dr", "demoted", "role"),
        "pipeline-infra:dr.role",
        "'standby'",
    ),
    (
        "token on a demoted primary site",
        "prod",
        {**with_("prod", "pipeline-infra:dr", "standby", "role"),
         "pipeline-infra:dr": {**with_("prod", "pipeline-infra:dr", "standby", "role")["pipeline-infra:dr"],
                               "promotion_token": "token-123"}},
        "pipeline-infra:dr.promotion_token",
        "only used with dr.role primary",
    ),
]


@pytest.mark.parametrize("name,stack,cfg,key,allowed", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_clear_error(name, stack, cfg, key, allowed):
    with pytest.raises(SettingsError) as info:
        load(cfg, source=f"Pulumi.{stack}.yaml")
    line = str(info.value)
    assert "\n" not in line
    assert line.startswith(f"Pulumi.{stack}.yaml: {key}: "), line
    assert allowed in line, line


def test_at_least_fifteen_kinds_of_bad_input():
    assert len(BAD) >= 15


def test_secret_in_plain_text_is_rejected():
    cfg = with_("prod", "pipeline-infra:pagerduty_critical_key", "abc123")
    with pytest.raises(SettingsError) as info:
        load(cfg, source="Pulumi.prod.yaml")
    assert "must be a Pulumi secret" in str(info.value)
    assert "abc123" not in str(info.value)


def test_secret_from_the_secret_store_is_accepted():
    cfg = with_("prod", "pipeline-infra:pagerduty_critical_key", "abc123")
    cfg["pipeline-infra:secrets"] = {"source": "config"}
    s = load(cfg, secret_keys={"pipeline-infra:pagerduty_critical_key"})
    assert s.pagerduty_critical_key.get_secret_value() == "abc123"
    assert "abc123" not in repr(s)


def test_missing_alerting_secret_is_an_error_for_a_real_deployment():
    # with secrets.source config; by default they come from AWS Secrets Manager
    cfg = with_("prod", "pipeline-infra:secrets", {"source": "config"})
    with pytest.raises(SettingsError) as info:
        load_settings(cfg, source="Pulumi.prod.yaml", offline=False)
    assert "pipeline-infra:pagerduty_critical_key: required secret is not set" in str(info.value)


def test_values_as_the_engine_passes_them_json_text_and_strings():
    # The engine hands structured config to the program as JSON text and scalars as strings.
    import json

    raw = config("prod-blue")
    cfg = {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    s = load(cfg)
    assert s.capacity.horizon_months == 0 and s.fleets.colour == "blue"


def test_overrides_are_checked_against_the_promoted_dr_sizing():
    # A promoted DR site sizes as production (desired alpha 4, seed 003 Compute Capacity), so a
    # max of 3 cannot hold it, although it fits the warm-standby size (2).
    cfg = with_("prod-dr", "pipeline-infra:fleets", {"alpha": {"max": 3}}, "overrides")
    cfg["pipeline-infra:dr"] = {**cfg["pipeline-infra:dr"], "role": "primary"}
    with pytest.raises(SettingsError) as info:
        load(cfg, source="Pulumi.prod-dr.yaml")
    assert str(info.value) == (
        "Pulumi.prod-dr.yaml: pipeline-infra:fleets.overrides.alpha: needs min <= desired <= max (got 3/4/3)"
    )
    cfg["pipeline-infra:dr"]["role"] = "standby"
    assert load(cfg, source="Pulumi.prod-dr.yaml").fleets.overrides["alpha"].max == 3
