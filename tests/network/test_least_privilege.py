"""Across the AWS foundation: roles have no wildcard grants, keys rotate, nothing declared is a deprecated
type of the AWS provider."""

from __future__ import annotations

import json

import pytest

from tests.network.foundation import AWS_STACKS, in_component

OURS = (
    "pipeline-infra:network:Network",
    "pipeline-infra:network:VpcPeering",
    "pipeline-infra:cluster:EksCluster",
    "pipeline-infra:backups:Backups",
)


def _ours(plan):
    return [r for r in plan.resources if any(in_component(plan, r, c) for c in OURS)]


def _as_list(value):
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_inline_role_policies_grant_no_wildcards(stack, plan_of):
    plan = plan_of(stack)
    env = plan.settings.environment
    # IRSA roles other areas ask for carry those areas' policies (KubeTarget.irsa_role); the
    # foundation's own are the EBS CSI driver's and the backup writers' (BackupTarget.irsa_role).
    policies = [
        r
        for r in _ours(plan)
        if r.type == "aws:iam/rolePolicy:RolePolicy"
        and (
            not r.name.startswith(f"{env}-cluster-irsa-")
            or r.name.startswith((f"{env}-cluster-irsa-ebs-csi", f"{env}-cluster-irsa-backup-"))
        )
    ]
    assert len(policies) >= 3  # flow logs, EBS CSI, replication or writers
    for policy in policies:
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            for action in _as_list(statement["Action"]):
                assert action != "*" and not action.endswith(":*"), (policy.name, action)
            assert "*" not in _as_list(statement["Resource"]), (policy.name, statement)


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_node_role_has_exactly_the_node_policies(stack, plan_of):
    plan = plan_of(stack)
    env = plan.settings.environment
    attached = sorted(
        a.inputs["policyArn"].rsplit("/", 1)[-1]
        for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.name.startswith(f"{env}-cluster-node-")
    )
    # EKS managed node groups: worker, CNI and image pull; SSM for Session Manager instead of SSH.
    assert attached == [
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonSSMManagedInstanceCore",
    ]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_customer_key_rotates(stack, plan_of):
    keys = [r for r in _ours(plan_of(stack)) if r.type == "aws:kms/key:Key"]
    assert len(keys) >= 3  # secrets, volumes, data (+ replica)
    assert all(k.inputs["enableKeyRotation"] is True for k in keys)
    assert all(k.inputs["deletionWindowInDays"] == 30 for k in keys)


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_no_deprecated_provider_types(stack, plan_of):
    # pulumi-aws v7 deprecates BucketV2, BucketVersioningV2, ... and the inline-rule security group
    # style; the foundation uses the current resources.
    types = {r.type for r in _ours(plan_of(stack))}
    assert not [t for t in types if t.split(":")[-1].endswith("V2")]
    assert "aws:ec2/securityGroupRule:SecurityGroupRule" not in types
    sgs = [r for r in _ours(plan_of(stack)) if r.type == "aws:ec2/securityGroup:SecurityGroup"]
    assert all(not sg.inputs.get("ingress") and not sg.inputs.get("egress") for sg in sgs)


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_log_groups_are_encrypted_with_a_key_only_cloudwatch_logs_of_this_account_uses(stack, plan_of):
    plan = plan_of(stack)
    region = plan.settings.region
    groups = [r for r in _ours(plan) if r.type == "aws:cloudwatch/logGroup:LogGroup"]
    assert {g.inputs["name"] for g in groups} == {
        f"/pipeline-infra/{plan.settings.environment}/vpc-flow-logs",
        f"/aws/eks/pipeline-{plan.settings.environment}/cluster",
    }
    keys = {f"arn:aws:kms:{region}:123456789012:key/{k.id}": k for k in plan.of_type("aws:kms/key:Key")}
    for group in groups:
        key = keys[group.inputs["kmsKeyId"]]
        assert key.inputs["enableKeyRotation"] is True
        statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
        logs = statements["CloudWatchLogsOfThisAccount"]
        assert logs["Principal"] == {"Service": f"logs.{region}.amazonaws.com"}
        assert logs["Condition"]["StringLike"]["kms:EncryptionContext:aws:logs:arn"] == (
            f"arn:aws:logs:{region}:123456789012:log-group:*"
        )
        assert not any(
            a.startswith("kms:Create") or a in ("kms:*", "kms:PutKeyPolicy") for a in logs["Action"]
        )


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_iam_policies_pass_parliament(stack, plan_of):
    """parliament (an IAM policy linter with AWS's action and resource catalogue) finds nothing in the
    foundation's role, trust, bucket and key policies: every action exists, resources fit the actions."""
    parliament = pytest.importorskip("parliament")
    plan = plan_of(stack)
    documents = []
    for r in _ours(plan):
        if r.type == "aws:iam/rolePolicy:RolePolicy" or r.type == "aws:s3/bucketPolicy:BucketPolicy" or (
            r.type == "aws:kms/key:Key" and r.inputs.get("policy")
        ):
            documents.append((r.name, r.type, r.inputs["policy"]))
    assert len(documents) >= 8
    for name, typ, document in documents:
        findings = parliament.analyze_policy_string(document).findings
        if typ == "aws:kms/key:Key":
            # in a key policy, Resource "*" is the key itself
            findings = [f for f in findings if f.issue != "RESOURCE_STAR"]
        assert [(f.issue, f.detail) for f in findings] == [], name
    # the linter does catch what it is here for
    misspelt = {"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}
    typo = json.dumps({"Version": "2012-10-17", "Statement": [misspelt]})
    assert [f.issue for f in parliament.analyze_policy_string(typo).findings] == ["UNKNOWN_ACTION"]
