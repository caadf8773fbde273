"""The fleets reach Kafka and PostgreSQL through the endpoints meant for them, with credentials that
exist where credentials_ref points (issue 11 item 8), asserted on the estate's plans: every fleet's
user data names its environment's fleet endpoints, each credentials_ref is an SSM SecureString the
environment stack creates, and the instance role may read exactly its own module's parameters."""

from __future__ import annotations

import base64
import gzip
import json
import re

import pytest
import yaml

from components.fleet import credentials

LT = "aws:ec2/launchTemplate:LaunchTemplate"
PARAMETER = "aws:ssm/parameter:Parameter"
# fleet stack -> the environment stack that holds its data plane (Pulumi.<stack>.yaml environment_stack)
FLEETS = {"staging": "staging", "prod-dr": "prod-dr", "prod-blue": "prod", "prod-green": "prod"}
MODULES = ("alpha", "beta", "gamma")


def _config(plan, module: str) -> dict:
    """<module>.yaml as the user data writes it."""
    [lt] = [r for r in plan.of_type(LT) if (r.inputs.get("tags") or {}).get("Module") == module]
    doc = yaml.safe_load(gzip.decompress(base64.b64decode(lt.inputs["userData"])).decode())
    [f] = [f for f in doc["write_files"] if f["path"].endswith(f"/{module}.yaml")]
    return yaml.safe_load(f["content"])


def _policy(plan, module: str) -> dict:
    [colour] = {
        r.inputs["tags"]["Colour"] for r in plan.of_type(LT) if "Colour" in (r.inputs.get("tags") or {})
    }
    return json.loads(plan.named(f"{module}-{colour}-access").inputs["policy"])


@pytest.mark.parametrize("stack", sorted(FLEETS))
@pytest.mark.parametrize("module", MODULES)
def test_the_database_is_the_environment_fleet_endpoint(plan_of, stack, module):
    env = plan_of(FLEETS[stack])
    db = _config(plan_of(stack), module)["database"]
    assert db["endpoint"] == env.outputs["postgres_fleet_endpoint"]
    assert db["sslmode"] == "require"
    assert db["credentials_ref"] == f"ssm:/pipeline/{env.settings.environment}/{module}/postgres"


@pytest.mark.parametrize("stack", sorted(FLEETS))
def test_alpha_reads_kafka_through_the_fleets_listener(plan_of, stack):
    env = plan_of(FLEETS[stack])
    kafka = _config(plan_of(stack), "alpha")["kafka"]
    assert kafka["bootstrap_servers"] == env.outputs["kafka_fleet_bootstrap"]
    assert kafka["bootstrap_servers"] != env.outputs.get("kafka_bootstrap_servers")  # not in-cluster/DR
    assert (kafka["security_protocol"], kafka["sasl_mechanism"]) == ("SASL_SSL", "SCRAM-SHA-512")
    assert kafka["credentials_ref"] == f"ssm:/pipeline/{env.settings.environment}/alpha/kafka"
    # The consumer group is one the module's KafkaUser may use (its group ACL is a prefix).
    [user] = [
        r.inputs
        for r in env.resources
        if r.inputs.get("kind") == "KafkaUser" and r.inputs["metadata"]["name"] == "fleet-alpha"
    ]
    groups = [
        a["resource"] for a in user["spec"]["authorization"]["acls"] if a["resource"]["type"] == "group"
    ]
    assert any(kafka["group_id"].startswith(g["name"]) for g in groups if g["patternType"] == "prefix")
    # The listener admits the network the fleet runs in (prod-blue/green: prod's VPC).
    [k] = [r.inputs for r in env.resources if r.inputs.get("kind") == "Kafka"]
    [lst] = [x for x in k["spec"]["kafka"]["listeners"] if x["name"] == "fleets"]
    assert lst["configuration"]["loadBalancerSourceRanges"] == [env.settings.network.cidr]


@pytest.mark.parametrize("stack", sorted(FLEETS))
@pytest.mark.parametrize("module", ("beta", "gamma"))
def test_modules_without_a_queue_source_get_no_kafka(plan_of, stack, module):
    assert "kafka" not in _config(plan_of(stack), module)


@pytest.mark.parametrize("stack", sorted(FLEETS))
def test_user_data_carries_no_secret_and_no_cluster_name(plan_of, stack):
    plan = plan_of(stack)
    for lt in [r for r in plan.of_type(LT) if "Module" in (r.inputs.get("tags") or {})]:
        text = gzip.decompress(base64.b64decode(lt.inputs["userData"])).decode()
        assert not re.search(r"\.svc(\.cluster\.local)?\b", text), lt.name
        assert not re.search(r"^\s*password\s*:", text, re.M), lt.name


@pytest.mark.parametrize("env", ["staging", "prod", "prod-dr"])
def test_the_environment_creates_every_parameter_a_credentials_ref_names(plan_of, env):
    plan = plan_of(env)
    params = {r.inputs["name"]: r.inputs for r in plan.of_type(PARAMETER)}
    environment = plan.settings.environment
    expected = {f"/pipeline/{environment}/{m}/{s}" for m in MODULES for s in credentials.services(m)}
    # alpha: postgres and kafka; beta, gamma: postgres (only alpha reads Kafka, seed 003 Module Alpha Step 1)
    assert len(expected) == 4
    assert set(params) == expected
    for p in params.values():
        assert p["type"] == "SecureString"
        assert p["value"] == "[secret]"  # a Pulumi secret: encrypted in the state, redacted in the plan
    # Every reference in the fleets reading this environment names one of them.
    for stack, owner in FLEETS.items():
        if owner != env:
            continue
        for module in MODULES:
            cfg = _config(plan_of(stack), module)
            for section in ("database", "kafka"):
                if section in cfg:
                    assert cfg[section]["credentials_ref"].removeprefix("ssm:") in params


@pytest.mark.parametrize("stack", sorted(FLEETS))
@pytest.mark.parametrize("module", MODULES)
def test_the_instance_role_reads_only_its_own_module_parameters(plan_of, stack, module):
    env = plan_of(FLEETS[stack]).settings.environment
    statements = _policy(plan_of(stack), module)["Statement"]

    def actions(st):
        return st["Action"] if isinstance(st["Action"], list) else [st["Action"]]

    ssm = [st for st in statements if any(a.startswith("ssm:") for a in actions(st))]
    assert len(ssm) == 1
    [st] = ssm
    assert st["Action"] == "ssm:GetParameter"
    names = sorted(r.split(":parameter", 1)[1] for r in st["Resource"])
    assert names == sorted(credentials.parameter(env, module, s) for s in credentials.services(module))
    assert not any("*" in r for r in st["Resource"])


def test_a_module_without_kafka_has_no_kafka_parameter():
    assert credentials.services("beta") == ("postgres",)
    with pytest.raises(ValueError, match="unknown service"):
        credentials.parameter("prod", "alpha", "scylla")
    with pytest.raises(ValueError, match="unknown module"):
        credentials.parameter("prod", "delta", "postgres")
