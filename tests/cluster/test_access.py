"""The cluster API is usable by whoever runs Pulumi and by the CI preview role (issue 11 item 3): a
public endpoint restricted to the stack file's networks (private too), no implicit creator admin,
and an access entry per role with the least access policy it needs. The preview role must be able to
server-side-apply dry-run (PATCH) every Kubernetes object the stack declares: dry runs are authorised
like the writes. Each check shown failing on a violating input."""

from __future__ import annotations

import ipaddress

import pytest
import yaml

from components.cluster.spec import PREVIEW_GROUP, preview_may_patch
from lib.kube.target import NAMESPACES
from planner.mocks import ACCOUNT
from planner.runtime import REPO
from stacks.settings import SettingsError, load_settings

AWS_STACKS = ("staging", "prod", "prod-dr")
POLICY = "arn:aws:eks::aws:cluster-access-policy/"


def _cluster_config(stack: str) -> dict:
    return yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]["pipeline-infra:cluster"]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_the_endpoint_is_public_only_to_the_configured_networks(plan_of, stack):
    vpc = plan_of(stack).of_type("aws:eks/cluster:Cluster")[0].inputs["vpcConfig"]
    cidrs = _cluster_config(stack)["endpoint_public_cidrs"]
    assert vpc["endpointPublicAccess"] is True and vpc["endpointPrivateAccess"] is True
    assert vpc["publicAccessCidrs"] == cidrs and cidrs
    assert all(ipaddress.ip_network(c).is_global for c in cidrs)


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_access_entries_give_each_role_its_least_policy(plan_of, stack):
    plan = plan_of(stack)
    cluster = plan.of_type("aws:eks/cluster:Cluster")[0].inputs
    assert cluster["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    entries = {e.inputs["principalArn"]: e.inputs for e in plan.of_type("aws:eks/accessEntry:AccessEntry")}
    deployer = f"arn:aws:iam::{ACCOUNT}:role/pipeline-infra-deployer"
    preview = f"arn:aws:iam::{ACCOUNT}:role/pipeline-infra-preview"
    assert set(entries) == {deployer, preview}
    assert entries[preview]["kubernetesGroups"] == [PREVIEW_GROUP]
    assert not entries[deployer].get("kubernetesGroups")
    assoc = {
        (a.inputs["principalArn"], a.inputs["policyArn"].removeprefix(POLICY)): a.inputs["accessScope"]
        for a in plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    assert assoc == {
        (deployer, "AmazonEKSClusterAdminPolicy"): {"type": "cluster"},
        (preview, "AmazonEKSEditPolicy"): {"type": "namespace", "namespaces": sorted(NAMESPACES.values())},
        (preview, "AmazonEKSViewPolicy"): {"type": "cluster"},
    }


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_kubernetes_resource_waits_for_the_deployers_access(plan_of, stack):
    plan = plan_of(stack)
    provider = [r for r in plan.resources if r.type == "pulumi:providers:kubernetes"][0]
    admin = [
        a.urn
        for a in plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if a.inputs["policyArn"].endswith("AmazonEKSClusterAdminPolicy")
    ]
    assert admin and set(admin) <= set(provider.dependencies)


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_the_preview_role_may_dry_run_every_object_the_stack_applies(plan_of, stack):
    plan = plan_of(stack)
    namespaces = tuple(NAMESPACES.values())
    checked = 0
    for r in plan.kubernetes():
        if r.type == "kubernetes:helm.sh/v3:Release":
            continue  # Helm's own dry run renders the chart; nothing is applied
        if not r.inputs:
            continue  # a read (Secret.get, Service.get): get, which the edit and view policies allow
        meta = r.inputs.get("metadata") or {}
        api_version = r.inputs.get("apiVersion") or r.type.split(":")[1].replace("core/", "")
        kind = r.inputs.get("kind") or r.type.rsplit(":", 1)[-1].removesuffix("Patch")
        ok = preview_may_patch(
            str(api_version), str(kind), namespace=meta.get("namespace"), name=str(meta.get("name")),
            namespaces=namespaces,
        )
        assert ok, (stack, r.type, r.name)
        checked += 1
    assert checked > 40


def test_the_dry_run_check_refuses_what_the_preview_role_may_not_patch():
    ns = tuple(NAMESPACES.values())
    assert preview_may_patch("v1", "ConfigMap", namespace="kafka", name="x", namespaces=ns)
    assert not preview_may_patch("v1", "ConfigMap", namespace="kube-system", name="x", namespaces=ns)
    assert not preview_may_patch(
        "rbac.authorization.k8s.io/v1", "ClusterRole", namespace=None, name="cluster-admin", namespaces=ns
    )
    rbac = "rbac.authorization.k8s.io/v1"
    assert not preview_may_patch(rbac, "Role", namespace="kafka", name="r", namespaces=ns)
    assert preview_may_patch("storage.k8s.io/v1", "StorageClass", namespace=None, name="gp3", namespaces=ns)


@pytest.mark.parametrize(
    "cidrs,words",
    [
        (["10.0.0.0/8"], "private, shared or documentation range"),
        (["203.0.113.0/24"], "private, shared or documentation range"),
        (["0.0.0.0/0"], "to the internet"),
        ([], "name the networks"),
    ],
)
def test_an_endpoint_open_to_the_wrong_networks_is_refused(cidrs, words):
    cfg = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())["config"]
    cfg["pipeline-infra:cluster"] = {"endpoint_public_cidrs": cidrs}
    with pytest.raises(SettingsError) as info:
        load_settings(cfg, source="Pulumi.prod.yaml", offline=True)
    line = str(info.value)
    assert line.startswith("Pulumi.prod.yaml: pipeline-infra:cluster: ") and words in line
