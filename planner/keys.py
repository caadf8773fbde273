"""Which services use each KMS key of a plan, and which its policy lets use it. Pure: plan resources
in, findings out, so that a whole-platform check can use it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from lib.aws.key_policy import key_services

KEY = "aws:kms/key:Key"
# Resource type -> the services that use a key the resource names (their inputs carry its ARN).
CONSUMERS: dict[str, frozenset[str]] = {
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": frozenset(
        {"s3"}
    ),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": frozenset({"s3"}),
    "aws:cloudwatch/logGroup:LogGroup": frozenset({"logs"}),
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": frozenset({"firehose"}),
    "aws:eks/cluster:Cluster": frozenset({"eks"}),
    # a launch template's volumes: created by EC2, launched by Auto Scaling (fleets, EKS node groups)
    "aws:ec2/launchTemplate:LaunchTemplate": frozenset({"ec2", "autoscaling"}),
    # the EBS CSI driver creates the volumes through EC2
    "kubernetes:storage.k8s.io/v1:StorageClass": frozenset({"ec2"}),
}
# Resources that name a key only to grant a role its use through a service (IAM policies).
_GRANTING = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")


def consumers(resources: Iterable[Any]) -> dict[str, set[str]]:
    """key resource name -> the services the plan's resources use it through. A resource naming a key
    whose type is neither a known consumer nor an IAM policy is reported as service `?<type>`."""
    resources = list(resources)
    keys = {r.name: f"key/{r.id}" for r in resources if r.type == KEY and r.id}
    out: dict[str, set[str]] = {name: set() for name in keys}
    for r in resources:
        if r.type == KEY or r.type.startswith(_GRANTING):
            continue
        text = json.dumps(r.inputs, sort_keys=True)
        for name, ref in keys.items():
            if f"{ref}\"" in text or f"{ref}," in text:
                out[name] |= set(CONSUMERS.get(r.type, {f"?{r.type}"}))
    return out


def findings(resources: Iterable[Any]) -> list[str]:
    """Every key's policy names exactly the services that use it (roles named by the policy, such as
    the EKS cluster role, are allowed beside the services)."""
    resources = list(resources)
    used = consumers(resources)
    out = []
    for r in resources:
        if r.type != KEY:
            continue
        policy = r.inputs.get("policy")
        if not policy:
            out.append(f"{r.name}: no key policy (the default lets any IAM principal of the account use it)")
            continue
        granted = {s for s in key_services(policy) if not s.startswith("role:")}
        if granted != used[r.name]:
            out.append(f"{r.name}: policy grants {sorted(granted)}, used by {sorted(used[r.name])}")
    return out
