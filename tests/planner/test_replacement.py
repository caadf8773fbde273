"""`make plan-diff` tells replacements from updates (planner/replacement.py, planner/data/force_new.yaml):
one test per type the force-new table covers, a change of a listed property replacing and a change of
another updating; URN, provider and replaceOnChanges replacements; stateful resources at risk."""

from __future__ import annotations

import copy

import pytest

from planner.replacement import diff_resources, table
from tests.planner.estate_fixtures import res

# type -> (inputs, a force-new change, an in-place change)
CASES = {
    "aws:eks/nodeGroup:NodeGroup": (
        {"instanceTypes": ["r6i.xlarge"], "scalingConfig": {"desiredSize": 3}},
        ("instanceTypes", ["r6i.2xlarge"]),
        ("scalingConfig", {"desiredSize": 4}),
    ),
    "aws:eks/cluster:Cluster": (
        {"vpcConfig": {"subnetIds": ["a", "b"], "endpointPublicAccess": False}},
        ("vpcConfig", {"subnetIds": ["a", "c"], "endpointPublicAccess": False}),
        ("vpcConfig", {"subnetIds": ["a", "b"], "endpointPublicAccess": True}),
    ),
    "aws:s3/bucket:Bucket": ({"bucket": "b1", "tags": {"a": "1"}}, ("bucket", "b2"), ("tags", {"a": "2"})),
    "aws:kms/key:Key": (
        {"keyUsage": "ENCRYPT_DECRYPT", "description": "d"},
        ("keyUsage", "SIGN_VERIFY"),
        ("description", "e"),
    ),
    "kubernetes:apps/v1:Deployment": (
        {"spec": {"selector": {"matchLabels": {"a": "1"}}, "replicas": 1}},
        ("spec", {"selector": {"matchLabels": {"a": "2"}}, "replicas": 1}),
        ("spec", {"selector": {"matchLabels": {"a": "1"}}, "replicas": 2}),
    ),
    "kubernetes:apps/v1:DaemonSet": (
        {"spec": {"selector": {"matchLabels": {"a": "1"}}, "minReadySeconds": 0}},
        ("spec", {"selector": {"matchLabels": {"a": "2"}}, "minReadySeconds": 0}),
        ("spec", {"selector": {"matchLabels": {"a": "1"}}, "minReadySeconds": 5}),
    ),
    "kubernetes:apps/v1:StatefulSet": (
        {"spec": {"volumeClaimTemplates": [{"size": "1Gi"}], "replicas": 1}},
        ("spec", {"volumeClaimTemplates": [{"size": "2Gi"}], "replicas": 1}),
        ("spec", {"volumeClaimTemplates": [{"size": "1Gi"}], "replicas": 3}),
    ),
    "kubernetes:batch/v1:Job": (
        {"spec": {"template": {"x": 1}}, "metadata": {"name": "j", "labels": {"a": "1"}}},
        ("spec", {"template": {"x": 2}}),
        ("metadata", {"name": "j", "labels": {"a": "2"}}),
    ),
    "kubernetes:core/v1:PersistentVolumeClaim": (
        {"spec": {"storageClassName": "gp3", "resources": {"requests": {"storage": "1Gi"}}}},
        ("spec", {"storageClassName": "io2", "resources": {"requests": {"storage": "1Gi"}}}),
        ("spec", {"storageClassName": "gp3", "resources": {"requests": {"storage": "2Gi"}}}),
    ),
    "kubernetes:core/v1:Service": (
        {"spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 80}]}},
        ("spec", {"clusterIP": "10.0.0.2", "ports": [{"port": 80}]}),
        ("spec", {"clusterIP": "10.0.0.1", "ports": [{"port": 81}]}),
    ),
    "aws:ec2/securityGroup:SecurityGroup": (
        {"vpcId": "vpc-1", "description": "fleet alpha", "tags": {"a": "1"}},
        ("vpcId", "vpc-2"),
        ("tags", {"a": "2"}),
    ),
    "aws:ec2/subnet:Subnet": (
        {"vpcId": "vpc-1", "cidrBlock": "10.0.0.0/20", "mapPublicIpOnLaunch": False},
        ("cidrBlock", "10.0.16.0/20"),
        ("mapPublicIpOnLaunch", True),
    ),
    "aws:lb/loadBalancer:LoadBalancer": (
        {"internal": True, "loadBalancerType": "network", "enableCrossZoneLoadBalancing": False},
        ("internal", False),
        ("enableCrossZoneLoadBalancing", True),
    ),
    "aws:lb/targetGroup:TargetGroup": (
        {"port": 8443, "protocol": "TCP", "vpcId": "vpc-1", "deregistrationDelay": 60},
        ("port", 9443),
        ("deregistrationDelay", 120),
    ),
    "aws:iam/role:Role": (
        {"name": "r", "path": "/", "assumeRolePolicy": "{}"},
        ("path", "/pipeline/"),
        ("assumeRolePolicy", '{"Version": "2012-10-17"}'),
    ),
    "kubernetes:core/v1:Secret": (
        {"type": "Opaque", "metadata": {"name": "s", "labels": {}}},
        ("type", "kubernetes.io/tls"),
        ("metadata", {"name": "s", "labels": {"a": "1"}}),
    ),
    "kubernetes:core/v1:ConfigMap": (
        {"data": {"k": "1"}, "metadata": {"name": "c", "labels": {}}},
        ("data", {"k": "2"}),
        ("metadata", {"name": "c", "labels": {"a": "1"}}),
    ),
    "kubernetes:storage.k8s.io/v1:StorageClass": (
        {"parameters": {"type": "gp3"}, "allowVolumeExpansion": False},
        ("parameters", {"type": "io2"}),
        ("allowVolumeExpansion", True),
    ),
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": (
        {"roleRef": {"name": "a"}, "subjects": [{"name": "x"}]},
        ("roleRef", {"name": "b"}),
        ("subjects", [{"name": "y"}]),
    ),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": (
        {"roleRef": {"name": "a"}, "subjects": [{"name": "x"}]},
        ("roleRef", {"name": "b"}),
        ("subjects", [{"name": "y"}]),
    ),
    "kubernetes:scylla.scylladb.com/v1:ScyllaCluster": (
        {"spec": {"datacenter": {"racks": [{"storage": {"capacity": "500Gi"}, "members": 1}]}}},
        ("spec", {"datacenter": {"racks": [{"storage": {"capacity": "1Ti"}, "members": 1}]}}),
        ("spec", {"datacenter": {"racks": [{"storage": {"capacity": "500Gi"}, "members": 2}]}}),
    ),
}


def _pair(typ, inputs, change):
    old = res(typ, "r", copy.deepcopy(inputs))
    new = copy.deepcopy(old)
    key, value = change
    new["inputs"][key] = value
    return old, new


def test_every_type_of_the_table_has_a_case():
    t = table()
    kinds = {
        f"kubernetes:{k.rsplit('/', 1)[0] if '/' in k.rsplit('/', 1)[0] else 'core/' + k.rsplit('/', 1)[0]}:"
        f"{k.rsplit('/', 1)[1]}"
        for k in [*t["kubernetes"]["kinds"], *t["kubernetes"]["mutable_unless_enabled"], *t["operators"]]
    }
    kinds = {k.replace("kubernetes:v1:", "kubernetes:core/v1:") for k in kinds}
    assert set(t["aws"]) | kinds == set(CASES)
    for typ, entry in t["aws"].items():
        assert entry["source"].startswith("hashicorp/terraform-provider-aws "), typ
    assert t["kubernetes"]["source"].startswith("pulumi/pulumi-kubernetes provider/pkg/provider/diff.go")


@pytest.mark.parametrize("typ", sorted(CASES))
def test_force_new_change_replaces(typ):
    inputs, force, _ = CASES[typ]
    old, new = _pair(typ, inputs, force)
    d = diff_resources("t", [old], [new])
    assert d["changed"] == [], d
    [r] = d["replaced"]
    assert r["name"] == "r" and "force-new" in r["reasons"][0]


@pytest.mark.parametrize("typ", sorted(CASES))
def test_other_change_updates(typ):
    inputs, _, update = CASES[typ]
    old, new = _pair(typ, inputs, update)
    d = diff_resources("t", [old], [new])
    assert d["replaced"] == [], d
    assert [c["name"] for c in d["changed"]] == ["r"]


def test_mutable_secret_data_updates_when_the_provider_enables_it():
    provider = res("pulumi:providers:kubernetes", "k8s", {"enableSecretMutable": "true"})
    old = res(
        "kubernetes:core/v1:Secret", "s", {"stringData": {"a": "1"}}, options={"provider": provider["urn"]}
    )
    new = copy.deepcopy(old)
    new["inputs"]["stringData"] = {"a": "2"}
    assert diff_resources("t", [provider, old], [provider, new])["replaced"] == []
    bare = res("pulumi:providers:kubernetes", "k8s", {})
    [r] = diff_resources("t", [bare, old], [bare, new])["replaced"]
    assert "enableSecretMutable not set" in r["reasons"][0]


def test_metadata_name_replaces_every_kind():
    old = res("kubernetes:core/v1:Namespace", "ns", {"metadata": {"name": "a"}})
    new = copy.deepcopy(old)
    new["inputs"]["metadata"]["name"] = "b"
    assert [r["name"] for r in diff_resources("t", [old], [new])["replaced"]] == ["ns"]


def test_replace_on_changes_and_provider_change_replace():
    old = res(
        "aws:ec2/vpc:Vpc",
        "v",
        {"cidrBlock": "10.0.0.0/16", "tags": {}},
        options={"replaceOnChanges": ["tags"]},
    )
    new = copy.deepcopy(old)
    new["inputs"]["tags"] = {"a": "1"}
    [r] = diff_resources("t", [old], [new])["replaced"]
    assert r["reasons"] == ["tags.a: in replaceOnChanges"]
    moved = copy.deepcopy(old)
    moved["options"]["provider"] = "urn:pulumi:t::p::pulumi:providers:aws::other"
    [r] = diff_resources("t", [old], [moved])["replaced"]
    assert "provider changes" in r["reasons"][-1]


def test_a_new_parent_without_alias_replaces_and_flags_stateful():
    old = res("aws:s3/bucket:Bucket", "backups", {"bucket": "b"})
    new = copy.deepcopy(old)
    new["urn"] = old["urn"].replace("::aws:s3", "::pipeline-infra:backups:Backups$aws:s3")
    d = diff_resources("t", [old], [new])
    assert d["created"] == d["deleted"] == []
    [r] = d["replaced"]
    assert "new parent, no alias" in r["reasons"][0]
    assert d["stateful_at_risk"] == [
        {"urn": new["urn"], "type": new["type"], "name": "backups", "why": "replaced"}
    ]
    aliased = copy.deepcopy(new)
    aliased["options"]["aliases"] = [{"urn": old["urn"]}]
    d = diff_resources("t", [old], [aliased])
    assert d["replaced"] == d["created"] == d["deleted"] == d["stateful_at_risk"] == []


def test_deleted_stateful_resource_is_flagged():
    old = res("kubernetes:postgresql.cnpg.io/v1:Cluster", "pg", {"kind": "Cluster"})
    d = diff_resources("t", [old], [])
    assert d["deleted"] and d["stateful_at_risk"][0]["why"] == "deleted"


def test_plan_diff_of_a_node_group_instance_type_is_a_replacement(plan_of):
    from planner.report import diff

    base = plan_of("staging")
    other = plan_of("staging", {"cluster.node_groups.postgres.instance_type": "r6i.2xlarge"})
    d = diff(base, other)
    [r] = [x for x in d["replaced"] if x["type"] == "aws:eks/nodeGroup:NodeGroup"]
    assert r["name"] == "staging-cluster-postgres"
    assert any(reason.startswith("instanceTypes[0]: force-new") for reason in r["reasons"])
    assert {"urn": r["urn"], "type": r["type"], "name": r["name"], "why": "replaced"} in d["stateful_at_risk"]
