"""Key policies of the project's customer managed keys, and what a policy lets use a key. Pure: JSON
documents, no Pulumi.

Every key's policy has the same first statement: the account administers the key (through IAM
policies) but may not use it; then one statement per service that uses it, so a key is usable only
by the services that need it (through `kms:ViaService`, a service principal, or a service-linked
role), never directly by an IAM principal.

- backups key (and its replica): S3 (SSE-KMS of the backup, audit, artifact and log archive buckets,
  replication), through `kms:ViaService s3.<region>`; the primary region's key also encrypts the log
  archive's Firehose delivery streams, through `kms:ViaService firehose.<region>`;
- logs key: CloudWatch Logs (the flow-log and EKS control-plane log groups), as `logs.<region>`;
- EKS secrets key: EKS envelope encryption, through `kms:ViaService eks.<region>`, and the cluster role;
- EBS key: EC2 (every EBS volume: fleets, EKS nodes, the data plane's), through
  `kms:ViaService ec2.<region>`, and the Auto Scaling service-linked role.
"""

from __future__ import annotations

import json
from typing import Any

# Key administration without cryptographic use (and without CreateGrant, which would hand use on).
ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:List*",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
USE_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")
# Actions that use a key (or hand its use on): what key_services looks for.
_USING = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt", "kms:GenerateDataKey", "kms:CreateGrant", "kms:*")
AUTOSCALING_ROLE = "aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"


def autoscaling_role_arn(account_id: str, partition: str = "aws") -> str:
    """The Auto Scaling service-linked role: it launches the instances of every Auto Scaling group
    (the fleets and the EKS managed node groups), so it must be able to use their volumes' key."""
    return f"arn:{partition}:iam::{account_id}:role/{AUTOSCALING_ROLE}"


def _admin(account_id: str, partition: str) -> dict[str, Any]:
    return {
        "Sid": "AccountAdministersKey",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": list(ADMIN_ACTIONS),
        "Resource": "*",
    }


def _via(sid: str, account_id: str, service: str, region: str, actions: tuple[str, ...]) -> dict[str, Any]:
    """This account's principals, through `service` in `region` only."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": list(actions),
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "kms:CallerAccount": account_id,
                "kms:ViaService": f"{service}.{region}.amazonaws.com",
            }
        },
    }


def _policy(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def s3_key_policy(*, account_id: str, region: str, firehose: bool = False, partition: str = "aws") -> str:
    """The backups key (and its replica in the replica region): S3 of that region only, and with
    `firehose` Kinesis Data Firehose of that region (the log archive's delivery streams encrypt with it
    and take a grant when created)."""
    statements = [
        _admin(account_id, partition),
        _via("S3OfThisAccount", account_id, "s3", region, (*USE_ACTIONS, "kms:CreateGrant")),
    ]
    if firehose:
        statements.append(
            _via("FirehoseOfThisAccount", account_id, "firehose", region, (*USE_ACTIONS, "kms:CreateGrant"))
        )
    return _policy(statements)


def ebs_key_policy(*, account_id: str, region: str, partition: str = "aws") -> str:
    """The environment's EBS key: EC2 of the region (volumes created by the EBS CSI driver, by the
    launch templates) and the Auto Scaling service-linked role, which launches the groups' instances
    and attaches their encrypted volumes through grants (AWS EC2 Auto Scaling: required key policy
    for use with encrypted volumes)."""
    slr = autoscaling_role_arn(account_id, partition)
    return _policy(
        [
            _admin(account_id, partition),
            _via("Ec2OfThisAccount", account_id, "ec2", region, (*USE_ACTIONS, "kms:CreateGrant")),
            {
                "Sid": "AutoScalingUsesKey",
                "Effect": "Allow",
                "Principal": {"AWS": slr},
                "Action": list(USE_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "AutoScalingGrantsToAwsResources",
                "Effect": "Allow",
                "Principal": {"AWS": slr},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}},
            },
        ]
    )


def eks_secrets_key_policy(
    *, account_id: str, region: str, cluster_role_arn: str, partition: str = "aws"
) -> str:
    """The EKS secrets key: EKS of the region (the cluster's creation and its grant) and the cluster's
    IAM role, which encrypts and decrypts the Kubernetes secrets' data keys."""
    return _policy(
        [
            _admin(account_id, partition),
            _via(
                "EksOfThisAccount", account_id, "eks", region, ("kms:DescribeKey", "kms:CreateGrant")
            ),
            {
                "Sid": "ClusterRoleUsesKey",
                "Effect": "Allow",
                "Principal": {"AWS": cluster_role_arn},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants"],
                "Resource": "*",
            },
        ]
    )


def logs_key_policy(*, account_id: str, region: str, partition: str = "aws") -> str:
    """The logs key: CloudWatch Logs of this region, for this account's log groups only."""
    log_groups = f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
    return _policy(
        [
            _admin(account_id, partition),
            {
                "Sid": "CloudWatchLogsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            },
            {
                "Sid": "CloudWatchLogsDescribes",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ]
    )


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def key_services(policy: str) -> set[str]:
    """Who a key policy lets use the key: `s3`, `ec2`, `eks`, `logs`, `firehose` (a service, through
    kms:ViaService or as principal), `autoscaling` (its service-linked role), `role:<name>` (an IAM
    role), `account` (any principal of an account, unconditioned: a finding), `*` (anyone: a
    finding). Administration-only statements name nobody."""
    found: set[str] = set()
    for st in json.loads(policy).get("Statement", []):
        if st.get("Effect") != "Allow":
            continue
        actions = _list(st.get("Action", []))
        if not any(a.startswith(u) for a in actions for u in _USING):
            continue
        principal = st.get("Principal", {})
        via = st.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
        if via is not None:
            found |= {v.split(".")[0] for v in _list(via)}
            continue
        if principal == "*":
            found.add("*")
            continue
        for service in _list(principal.get("Service", [])):
            found.add(service.split(".")[0])
        for arn in _list(principal.get("AWS", [])):
            if arn == "*":
                found.add("*")
            elif arn.endswith(":root"):
                found.add("account")
            elif AUTOSCALING_ROLE in arn:
                found.add("autoscaling")
            else:
                found.add("role:" + arn.rsplit("/", 1)[-1])
    return found
