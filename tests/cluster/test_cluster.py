"""The EKS cluster of the AWS environments: control plane, node groups from settings (labels, taints,
sizes), IRSA, the EBS CSI driver, the encrypted default StorageClass, the existing-cluster path."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from components.cluster.spec import kubeconfig
from lib.kube.target import KubeTarget
from lib.versions import EKS_VERSION
from planner.mocks import PlanMocks
from planner.runtime import REPO, RecordingMonitor
from stacks.settings import SettingsError, load_settings
from tests.network.foundation import AWS_STACKS, foundation_plan

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ROLE = "aws:iam/role:Role"


def _config(stack: str) -> dict:
    return yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]


def _by_group(plan) -> dict[str, object]:
    groups = {}
    for ng in plan.of_type(NODE_GROUP):
        groups[ng.inputs["labels"]["pipeline-infra/workload"]] = ng
    return groups


def test_staging_node_groups_are_sized_from_its_stack_file(plan_of):
    plan = plan_of("staging")
    want = _config("staging")["pipeline-infra:cluster"]["node_groups"]
    groups = _by_group(plan)
    assert set(groups) == set(want) == {"scylla", "kafka", "postgres", "platform"}
    for group, ng in groups.items():
        scaling = ng.inputs["scalingConfig"]
        assert (scaling["minSize"], scaling["desiredSize"], scaling["maxSize"]) == (
            want[group]["min"],
            want[group]["desired"],
            want[group]["max"],
        )
        assert ng.inputs["instanceTypes"] == [want[group]["instance_type"]]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_node_groups_carry_the_placement_the_data_plane_uses(stack, plan_of):
    plan = plan_of(stack)
    groups = _by_group(plan)
    assert set(groups) == set(plan.settings.cluster.node_groups)
    for group, ng in groups.items():
        assert ng.inputs["labels"] == {"pipeline-infra/workload": group}
        placement = KubeTarget.placement(group)
        assert placement["nodeSelector"] == ng.inputs["labels"]
        taints = ng.inputs.get("taints") or []
        if group == "platform":
            assert taints == []  # platform: label only (operators, monitoring run there untolerated)
            continue
        (toleration,) = placement["tolerations"]
        assert taints == [{"key": toleration["key"], "value": toleration["value"], "effect": "NO_SCHEDULE"}]
        assert toleration["effect"] == "NoSchedule"
        assert ng.inputs["subnetIds"] == plan.outputs["private_subnet_ids"]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_node_launch_templates_require_imdsv2_and_encrypt_disks(stack, plan_of):
    plan = plan_of(stack)
    templates = {t.id: t for t in plan.of_type("aws:ec2/launchTemplate:LaunchTemplate")}
    for group, ng in _by_group(plan).items():
        template = templates[ng.inputs["launchTemplate"]["id"]]
        assert template.inputs["metadataOptions"]["httpTokens"] == "required"
        (root,) = template.inputs["blockDeviceMappings"]
        assert root["ebs"]["encrypted"] == "true"
        assert root["ebs"]["volumeType"] == "gp3"
        assert root["ebs"]["volumeSize"] == plan.settings.cluster.node_groups[group].disk_gib
        assert plan.outputs["data_plane_security_group_id"] in template.inputs["vpcSecurityGroupIds"]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_control_plane_is_private_and_restricted_public_encrypted_and_logged(stack, plan_of):
    plan = plan_of(stack)
    (cluster,) = plan.of_type(CLUSTER)
    assert cluster.inputs["version"] == EKS_VERSION
    vpc = cluster.inputs["vpcConfig"]
    # private in the VPC, public only to the stack file's networks (tests/cluster/test_access.py)
    assert vpc["endpointPrivateAccess"] is True and vpc["publicAccessCidrs"]
    assert vpc["subnetIds"] == plan.outputs["private_subnet_ids"]
    (enc,) = [cluster.inputs["encryptionConfig"]]
    assert enc["resources"] == ["secrets"]
    keys = {k.inputs.get("description", ""): k for k in plan.of_type("aws:kms/key:Key")}
    secrets_key = [k for d, k in keys.items() if "secrets" in d]
    assert len(secrets_key) == 1 and secrets_key[0].inputs["enableKeyRotation"] is True
    assert enc["provider"]["keyArn"].endswith(secrets_key[0].id)
    assert set(cluster.inputs["enabledClusterLogTypes"]) == {
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    }


def test_cluster_version_and_private_endpoint_follow_settings(plan_of):
    # endpoint_public false: for a deployment whose every `up` and preview runs inside the VPC
    plan = plan_of(
        "staging",
        {"cluster.version": "1.32", "cluster.endpoint_public": False, "cluster.endpoint_public_cidrs": ()},
    )
    (cluster,) = plan.of_type(CLUSTER)
    assert cluster.inputs["version"] == "1.32"
    assert cluster.inputs["vpcConfig"]["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in cluster.inputs["vpcConfig"]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_ebs_csi_driver_runs_with_an_irsa_role_for_its_service_account_only(stack, plan_of):
    plan = plan_of(stack)
    (cluster,) = plan.of_type(CLUSTER)
    (oidc,) = plan.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert oidc.inputs["url"].startswith("https://oidc.eks.")
    (addon,) = plan.of_type("aws:eks/addon:Addon")
    assert addon.inputs["addonName"] == "aws-ebs-csi-driver"
    assert addon.inputs["addonVersion"]
    roles = {r.inputs.get("description"): r for r in plan.of_type(ROLE)}
    role = roles["IRSA: kube-system/ebs-csi-controller-sa"]
    assert (
        addon.inputs["serviceAccountRoleArn"].endswith("/" + role.name)
        or role.id in addon.inputs["serviceAccountRoleArn"]
    )
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    host = oidc.inputs["url"].removeprefix("https://")
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{host}"}
    assert statement["Condition"] == {
        "StringEquals": {
            f"{host}:sub": "system:serviceaccount:kube-system:ebs-csi-controller-sa",
            f"{host}:aud": "sts.amazonaws.com",
        }
    }
    attached = [
        a.inputs["policyArn"]
        for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.name.endswith("-ebs-csi")
    ]
    assert attached == ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_default_storage_class_is_encrypted_gp3_with_a_customer_key(stack, plan_of):
    plan = plan_of(stack)
    (sc,) = plan.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
    meta = sc.inputs["metadata"]
    assert meta["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert sc.inputs["provisioner"] == "ebs.csi.aws.com"
    params = sc.inputs["parameters"]
    assert params["type"] == "gp3" and params["encrypted"] == "true"
    volume_keys = [
        k for k in plan.of_type("aws:kms/key:Key") if "EBS volumes" in k.inputs.get("description", "")
    ]
    assert len(volume_keys) == 1 and params["kmsKeyId"].endswith(volume_keys[0].id)
    assert sc.inputs["volumeBindingMode"] == "WaitForFirstConsumer"  # a volume in its pod's AZ


def test_existing_cluster_from_a_secret_kubeconfig_declares_no_eks():
    plan = foundation_plan(
        "staging",
        {
            "kubernetes": {"kubeconfig": {"secure": "v1:AAAA"}},
            # Without IRSA the Kafka Connect image build pushes to a registry with a push secret.
            "connect.image_repository": "registry.example.com/pipeline/connect",
            "connect.push_secret": "connect-push",
        },
    )
    assert plan.of_type(CLUSTER) == [] and plan.of_type(NODE_GROUP) == []
    assert plan.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    (provider,) = plan.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    # The network and buckets are still the stack's.
    assert len(plan.of_type("aws:ec2/vpc:Vpc")) == 1


def test_kubeconfig_authenticates_with_short_lived_tokens():
    doc = json.loads(
        kubeconfig(
            cluster_name="pipeline-prod",
            endpoint="https://x.eks.amazonaws.com",
            ca_data="Q0E=",
            region="us-east-1",
        )
    )
    (user,) = doc["users"]
    assert "token" not in user["user"]
    exec_ = user["user"]["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"][:4] == ["eks", "get-token", "--cluster-name", "pipeline-prod"]
    assert "--region" in exec_["args"] and "us-east-1" in exec_["args"]


@pulumi.runtime.test
def test_irsa_role_trusts_exactly_one_service_account():
    monitor = RecordingMonitor(PlanMocks(region="eu-west-1"))
    pulumi.runtime.set_mocks(
        monitor.mocks, project="pipeline-infra", stack="staging", preview=False, monitor=monitor
    )
    from stacks.compose.aws_infra import build_aws_infra

    config = _config("staging")
    flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    infra = build_aws_infra(load_settings(flat, source="Pulumi.staging.yaml", offline=True))
    assert infra.kube.irsa_role is not None
    arn = infra.kube.irsa_role("writer", "postgres", "warehouse", json.dumps({"Version": "2012-10-17"}))
    backup_arn = infra.backups.irsa_role("pg", "postgres", "warehouse", "database/full")

    def check(arns: list[str]) -> None:
        roles = {r.name: r for r in monitor.records if r.type == ROLE}
        role = roles["staging-cluster-irsa-writer"]
        assert arns[0] == "arn:aws:iam::123456789012:role/staging-cluster-irsa-writer"
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        (sub,) = [v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")]
        (aud,) = [v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":aud")]
        assert (sub, aud) == ("system:serviceaccount:postgres:warehouse", "sts.amazonaws.com")
        assert arns[1].endswith("staging-cluster-irsa-backup-pg")

    return pulumi.Output.all(arn, backup_arn).apply(check)


# --- the settings contract ------------------------------------------------------------------------
def _load(stack: str, **changes):
    config = dict(_config(stack))
    for key, value in changes.items():
        config[f"pipeline-infra:{key}"] = value
    flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    return load_settings(flat, source=f"Pulumi.{stack}.yaml", offline=True)


@pytest.mark.parametrize(
    ("cluster", "key", "fragment"),
    [
        (
            {"node_groups": {"kafka": {"instance_type": "r6i.large", "min": 3, "desired": 2, "max": 4}}},
            "cluster.node_groups.kafka",
            "min <= desired <= max",
        ),
        (
            {"node_groups": {"kafka": {"instance_type": "r6i.large", "min": 0, "desired": 0, "max": 0}}},
            "cluster.node_groups.kafka.max",
            "greater than or equal to 1",
        ),
        (
            {"node_groups": {"redis": {"instance_type": "r6i.large", "min": 1, "desired": 1, "max": 1}}},
            "cluster.node_groups.redis",
            "'scylla', 'kafka', 'postgres' or 'platform'",
        ),
        ({"version": "2"}, "cluster.version", "pattern"),
        (
            {"node_groups": {"kafka": {"instance_type": "r6i.large", "min": 3, "desired": 3, "max": 3}}},
            "cluster",
            "missing scylla, postgres, platform",
        ),
        ({"endpoint_public": True}, "cluster", "name the networks"),
        ({"endpoint_public": True, "endpoint_public_cidrs": ["0.0.0.0/0"]}, "cluster", "to the internet"),
        (
            {"endpoint_public": False, "endpoint_public_cidrs": ["81.2.69.192/28"]},
            "cluster",
            "only used with endpoint_public",
        ),
    ],
)
def test_bad_cluster_settings_are_one_settings_error(cluster, key, fragment):
    with pytest.raises(SettingsError) as err:
        _load("staging", cluster=cluster)
    assert err.value.key.startswith(f"pipeline-infra:{key}")
    assert fragment in err.value.message


def test_bad_existing_cluster_storage_class_is_rejected():
    with pytest.raises(SettingsError) as err:
        load_settings(
            {
                **{k: v if isinstance(v, str) else json.dumps(v) for k, v in _config("staging").items()},
                "pipeline-infra:kubernetes": json.dumps(
                    {"kubeconfig": "apiVersion: v1", "storage_class": "GP3 fast"}
                ),
            },
            source="Pulumi.staging.yaml",
            secret_keys={"pipeline-infra:kubernetes"},
            offline=True,
        )
    assert err.value.key == "pipeline-infra:kubernetes.storage_class"


def test_scylla_node_group_must_hold_a_member_per_node_in_every_rack():
    # staging: 3 zones x 2 members per rack = 6 ScyllaDB nodes, but its scylla group starts with 3.
    with pytest.raises(SettingsError) as err:
        _load("staging", scylla={**_config("staging")["pipeline-infra:scylla"], "members_per_rack": 2})
    assert err.value.key == "pipeline-infra:cluster.node_groups.scylla.min"
    assert "= 6" in err.value.message


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_storage_class_is_a_valid_kubernetes_object(stack, plan_of):
    import kubernetes_validate

    (sc,) = plan_of(stack).of_type("kubernetes:storage.k8s.io/v1:StorageClass")
    manifest = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", **sc.inputs}
    kubernetes_validate.validate(manifest, EKS_VERSION, strict=True)


@pytest.mark.engine
def test_kubectl_reads_the_generated_kubeconfig(tmp_path):
    import subprocess

    from tests.support.engines import engine

    kubectl = engine("kubectl")
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig(cluster_name="pipeline-prod", endpoint="https://ABC.gr7.us-east-1.eks.amazonaws.com",
                               ca_data="Q0E=", region="us-east-1"))

    def view(jsonpath: str) -> str:
        return subprocess.run([kubectl, "config", "view", "--kubeconfig", str(path), "--raw", "-o",
                               f"jsonpath={jsonpath}"], check=True, capture_output=True, text=True).stdout

    assert view("{.current-context}") == "pipeline-prod"
    assert view("{.clusters[0].cluster.server}") == "https://ABC.gr7.us-east-1.eks.amazonaws.com"
    assert view("{.users[0].user.exec.command}") == "aws"
    assert view("{.users[0].user.exec.apiVersion}") == "client.authentication.k8s.io/v1beta1"
