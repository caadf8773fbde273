"""PostgreSQL's endpoint for the module fleets (issue 11 item 8): a CloudNativePG PgBouncer Pooler in
front of the read-write service, behind an internal network load balancer that admits only the
environment's VPC network. The Pooler strictly valid against the CNPG CRD, the Service against
Kubernetes 1.33; the plans of every AWS environment carry both and export the endpoint."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest
import yaml

from components.dataplane.postgres import manifests
from lib.kube.target import KubeTarget
from planner.runtime import REPO
from tests.support.crds import validate_custom_resource

STACKS = {"staging": "warehouse", "prod": "warehouse", "prod-dr": "warehouse-dr"}
SERVICE = "kubernetes:core/v1:Service"


def _cidr(stack: str) -> str:
    return yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]["pipeline-infra:network"][
        "cidr"
    ]


def test_pooler_matches_the_crd_strictly():
    doc = manifests.pooler(
        cluster_name="warehouse", namespace="postgres", placement=KubeTarget.placement("platform")
    )
    validate_custom_resource(doc)
    assert doc["spec"]["cluster"] == {"name": "warehouse"}
    assert doc["spec"]["type"] == "rw"  # the primary: the modules write their state
    assert doc["metadata"]["name"] != "warehouse"  # CloudNativePG: a Pooler may not take its Cluster's name


def test_strict_validation_rejects_a_misspelled_pooler_field():
    doc = manifests.pooler(
        cluster_name="warehouse", namespace="postgres", placement=KubeTarget.placement("platform")
    )
    broken = copy.deepcopy(doc)
    broken["spec"]["pgbouncer"]["poolmode"] = broken["spec"]["pgbouncer"].pop("poolMode")
    with pytest.raises(AssertionError, match="poolmode"):
        validate_custom_resource(broken)


def test_fleet_service_is_an_internal_load_balancer_on_the_pooler():
    doc = manifests.fleet_service(
        cluster_name="warehouse", namespace="postgres", source_ranges=["10.10.0.0/16"]
    )
    kubernetes_validate.validate(copy.deepcopy(doc), "1.33", strict=True)
    spec = doc["spec"]
    assert spec["type"] == "LoadBalancer"
    assert spec["loadBalancerSourceRanges"] == ["10.10.0.0/16"]
    # CloudNativePG labels the Pooler's pods cnpg.io/poolerName=<pooler>; PgBouncer listens on 5432,
    # container port "pgbouncer" (pkg/specs/pgbouncer).
    assert spec["selector"] == {"cnpg.io/poolerName": manifests.pooler_name("warehouse")}
    assert spec["ports"] == [{"name": "postgres", "port": 5432, "targetPort": "pgbouncer", "protocol": "TCP"}]
    ann = doc["metadata"]["annotations"]
    assert ann["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal"
    assert ann["service.beta.kubernetes.io/aws-load-balancer-internal"] == "true"


def test_fleet_service_refuses_to_admit_everyone():
    # No source ranges would let any address of the VPC (and peered networks) in.
    with pytest.raises(ValueError, match="networks it admits"):
        manifests.fleet_service(cluster_name="warehouse", namespace="postgres", source_ranges=[])


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_every_environment_exports_the_fleets_endpoint(plan_of, stack):
    plan = plan_of(stack)
    cluster = STACKS[stack]
    [pooler] = [r.inputs for r in plan.resources if r.inputs.get("kind") == "Pooler"]
    assert pooler["spec"]["cluster"]["name"] == cluster
    [svc] = [r for r in plan.of_type(SERVICE) if r.name == "postgres-fleet-endpoint"]
    spec = svc.inputs["spec"]
    assert spec["selector"] == {"cnpg.io/poolerName": pooler["metadata"]["name"]}
    # Only the environment's VPC (network.cidr of its stack file): its fleets, or its colour stacks'.
    assert spec["loadBalancerSourceRanges"] == [_cidr(stack)]
    host, port = plan.outputs["postgres_fleet_endpoint"].rsplit(":", 1)
    assert int(port) == 5432
    assert host == svc.state["status"]["loadBalancer"]["ingress"][0]["hostname"]
    assert host.endswith(".amazonaws.com")
    # The pooler waits for its cluster, the load balancer for its pooler.
    [cluster_r] = [r for r in plan.resources if r.inputs.get("kind") == "Cluster"]
    [pooler_r] = [r for r in plan.resources if r.inputs.get("kind") == "Pooler"]
    assert cluster_r.urn in pooler_r.dependencies and pooler_r.urn in svc.dependencies
