"""Kafka's listener for the module fleets (issue 11 item 8): an internal load balancer admitting only
the environment's VPC network, SCRAM-SHA-512 over TLS, and one KafkaUser per module that reads Kafka
with ACLs limited to what it consumes. Every manifest strictly valid against the Strimzi 1.2 CRDs."""

from __future__ import annotations

import copy

import pytest
import yaml

from components.network.flows import DATA_PLANE_PORTS
from planner.runtime import REPO
from tests.streaming.harness import streaming_plan
from tests.support.crds import validate_custom_resource as validate

STACKS = ["staging", "prod", "prod-dr"]
INTERNAL = {
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
}


def _stack_file(stack: str) -> dict:
    return yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]


def _kafka(plan) -> dict:
    [kafka] = plan.custom_resources("Kafka")
    return kafka


def _listener(plan, name="fleets") -> dict:
    [lst] = [x for x in _kafka(plan)["spec"]["kafka"]["listeners"] if x["name"] == name]
    return lst


def _fleet_users(plan) -> dict[str, dict]:
    return {
        u["metadata"]["name"]: u
        for u in plan.custom_resources("KafkaUser")
        if u["metadata"]["name"].startswith("fleet-")
    }


@pytest.mark.parametrize("stack", STACKS)
def test_the_fleets_listener_admits_only_the_environment_network(stack):
    plan = streaming_plan(stack)
    lst = _listener(plan)
    # The environment's VPC (network.cidr of its stack file): its own fleets (staging, prod-dr) or its
    # colour stacks' (prod-blue, prod-green run in prod's VPC).
    assert lst["configuration"]["loadBalancerSourceRanges"] == [
        _stack_file(stack)["pipeline-infra:network"]["cidr"]
    ]
    assert (lst["type"], lst["tls"], lst["authentication"]) == (
        "loadbalancer",
        True,
        {"type": "scram-sha-512"},
    )
    # Inside the Kafka range the fleets' security groups open to the VPC (components/network/flows.py).
    first, last = DATA_PLANE_PORTS["kafka"]
    assert first <= lst["port"] <= last
    ports = [x["port"] for x in _kafka(plan)["spec"]["kafka"]["listeners"]]
    assert len(ports) == len(set(ports))
    # Both the bootstrap and the per-broker load balancers are internal (never internet-facing).
    template = _kafka(plan)["spec"]["kafka"]["template"]
    for service in ("externalBootstrapService", "perPodService"):
        assert template[service]["metadata"]["annotations"] == INTERNAL


@pytest.mark.parametrize("stack", STACKS)
def test_one_user_per_module_that_reads_kafka_with_read_only_acls(stack):
    plan = streaming_plan(stack)
    users = _fleet_users(plan)
    # seed 003: only alpha has a message-queue source (Module Alpha Step 1); beta and gamma hand off
    # through load balancers and read no Kafka.
    assert sorted(users) == ["fleet-alpha"]
    user = users["fleet-alpha"]
    validate(user)
    auth = user["spec"]["authentication"]
    assert auth["type"] == "scram-sha-512"
    assert auth["password"]["valueFrom"]["secretKeyRef"] == {
        "name": "fleet-alpha-password",
        "key": "password",
    }
    acls = user["spec"]["authorization"]["acls"]
    topics = sorted(a["resource"]["name"] for a in acls if a["resource"]["type"] == "topic")
    # seed 000: one topic per CDC table, <topic_prefix>.<keyspace>.<table>; the stack's tables.
    prefix = plan.settings.connect.topic_prefix
    tables = plan.settings.scylla.tables
    expected = sorted(f"{prefix}.{plan.settings.scylla.keyspace}.{t.name}" for t in tables)
    assert topics == expected
    assert all(a["resource"]["patternType"] == "literal" for a in acls if a["resource"]["type"] == "topic")
    assert {op for a in acls for op in a["operations"]} == {"Read", "Describe"}
    groups = [a["resource"] for a in acls if a["resource"]["type"] == "group"]
    assert groups == [{"type": "group", "name": "pipeline-alpha", "patternType": "prefix"}]
    assert not [a for a in acls if a["resource"]["type"] in ("cluster", "transactionalId")]


def test_the_fleet_user_password_is_a_secret_the_user_reads():
    plan = streaming_plan("prod")
    # (not the Secrets read back from the cluster: those have no metadata input)
    secrets = {
        r.inputs["metadata"]["name"]: r.inputs
        for r in plan.of_type("kubernetes:core/v1:Secret")
        if "metadata" in r.inputs
    }
    assert secrets["fleet-alpha-password"]["stringData"] == {"password": "[secret]"}


def test_strict_validation_rejects_an_acl_operation_strimzi_does_not_know():
    user = copy.deepcopy(_fleet_users(streaming_plan("prod"))["fleet-alpha"])
    user["spec"]["authorization"]["acls"][0]["operations"] = ["Consume"]
    with pytest.raises(Exception, match="Consume"):
        validate(user)


def test_strict_validation_rejects_a_listener_field_strimzi_does_not_know():
    kafka = copy.deepcopy(_kafka(streaming_plan("prod")))
    fleets = next(x for x in kafka["spec"]["kafka"]["listeners"] if x["name"] == "fleets")
    fleets["configuration"]["sourceRanges"] = fleets["configuration"].pop("loadBalancerSourceRanges")
    with pytest.raises(AssertionError, match="sourceRanges"):
        validate(kafka)


@pytest.mark.parametrize("stack", STACKS)
def test_the_fleets_bootstrap_is_the_listener_load_balancer(stack):
    plan = streaming_plan(stack)
    bootstrap = plan.outputs["kafka_fleet_bootstrap"]
    host, port = bootstrap.rsplit(":", 1)
    # The NLB Strimzi's bootstrap Service gets (read back from the cluster): an AWS name the VPC
    # resolver answers, never a cluster-internal one.
    assert ".elb." in host and host.endswith(".amazonaws.com")
    assert int(port) == _listener(plan)["port"]
