"""The streaming layer inside the whole program (plan_of: the real program per stack under the mock
runtime): its custom resources strictly valid, its outputs exported, DR promotion changing only the
connectors' and MirrorMaker 2's states among them."""

from __future__ import annotations

import pytest

from stacks.contract import PRIMARY_SITE_OUTPUTS
from tests.support.crds import validate_custom_resource as validate

STACKS = ["staging", "prod", "prod-dr"]


def _strimzi(plan):
    return [r for r in plan.resources if r.type.startswith("kubernetes:kafka.strimzi.io/")]


def _manifest(resource):
    return {k: resource.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}


@pytest.mark.parametrize("stack", STACKS)
def test_every_strimzi_resource_of_the_program_is_valid(plan_of, stack):
    resources = _strimzi(plan_of(stack))
    kinds = {r.inputs["kind"] for r in resources}
    assert {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "KafkaConnect", "KafkaConnector"} <= kinds
    for resource in resources:
        validate(_manifest(resource))


@pytest.mark.parametrize("stack", STACKS)
def test_streaming_outputs_are_exported(plan_of, stack):
    outputs = plan_of(stack).outputs
    assert outputs["schema_registry_url"] == "http://schema-registry.kafka.svc:8081"  # seed 000: 8081
    assert outputs["kafka_bootstrap_servers"]


def test_prod_exports_what_the_dr_site_reads(plan_of):
    outputs = plan_of("prod").outputs
    for name in ("kafka_bootstrap_servers", "kafka_cluster_ca_cert", "kafka_mirrormaker_password"):
        assert name in PRIMARY_SITE_OUTPUTS and name in outputs, name
    assert outputs["kafka_mirrormaker_password"] == "[secret]"


def test_dr_promotion_changes_only_connector_states(plan_of):
    standby, promoted = plan_of("prod-dr"), plan_of("prod-dr", {"dr.role": "primary"})
    before = {r.name: r.inputs for r in _strimzi(standby)}
    after = {r.name: r.inputs for r in _strimzi(promoted)}
    assert set(before) == set(after)
    assert {r["kind"] for r in before.values()} >= {"KafkaMirrorMaker2"}
    changed = {n for n in before if before[n] != after[n]}
    assert changed == {"kafka-connect-scylla-source", "kafka-connect-postgres-sink", "mirrormaker2-mm2"}
    for name in ("kafka-connect-scylla-source", "kafka-connect-postgres-sink"):
        assert (before[name]["spec"]["state"], after[name]["spec"]["state"]) == ("stopped", "running")
