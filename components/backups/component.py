"""Backup, audit and artifact buckets of an AWS environment (seed 003 Backup and Recovery): versioned,
SSE-KMS with a customer managed key, public access blocked, bucket owner enforced, TLS only; the
seed's retention as lifecycle rules; audit logs under S3 Object Lock (compliance mode); replication
to the DR region where configured."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws.iam as iam
import pulumi_aws.kms as kms
import pulumi_aws.s3 as s3

from components.backups.layout import (
    artifact_lifecycle_rules,
    audit_lifecycle_rules,
    audit_writer_policy,
    backup_lifecycle_rules,
    bucket_prefix,
    check_prefix,
    prefix_access_policy,
    replication_policy,
    tls_only_policy,
)
from components.backups.settings import BackupSettings
from lib.aws.iam import service_trust_policy
from lib.aws.key_policy import s3_key_policy
from lib.aws.kms import customer_key

IrsaFactory = Callable[[str, str, str, pulumi.Input[str]], pulumi.Output[str]]


@dataclass(frozen=True)
class BackupsArgs:
    settings: BackupSettings
    environment: str
    region: str
    account_id: str = ""  # the keys' account (their policies); confines the replication role's trust
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.account_id:
            raise ValueError("account_id: the account of the keys' policies")
        if self.settings.replicate_to_region == self.region:
            raise ValueError(f"replicate_to_region {self.region} is the bucket's own region")


class _Bucket:
    """One private bucket and its configuration resources."""

    def __init__(
        self,
        owner: pulumi.Resource,
        name: str,
        *,
        prefix: str,
        key: kms.Key,
        lifecycle: list[dict[str, Any]],
        tags: dict[str, str],
        lock_years: int | None = None,
        region: str | None = None,
    ) -> None:
        # `region`: another region than the stack's, per resource through the default provider
        # (pulumi-aws v7), which carries the stack's `aws:` configuration (credentials, tags, ...).
        # The compliance-locked audit buckets (and their configuration) stay in AWS when removed from
        # the program or destroyed: objects under a COMPLIANCE lock cannot be deleted before it ends.
        locked = lock_years is not None
        opts = pulumi.ResourceOptions(parent=owner, retain_on_delete=locked or None)
        r = {"region": region} if region is not None else {}
        self.bucket = s3.Bucket(
            name,
            bucket_prefix=prefix,
            object_lock_enabled=lock_years is not None or None,
            tags=tags,
            # every bucket holds data: a rename without an alias or a destroy stops here
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True)),
            **r,
        )
        self.versioning = s3.BucketVersioning(
            name, bucket=self.bucket.id, versioning_configuration={"status": "Enabled"}, opts=opts, **r
        )
        self.encryption = s3.BucketServerSideEncryptionConfiguration(
            name,
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": key.arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=opts,
            **r,
        )
        self.public_access = s3.BucketPublicAccessBlock(
            name,
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=opts,
            **r,
        )
        s3.BucketOwnershipControls(
            name, bucket=self.bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=opts, **r
        )
        s3.BucketPolicy(
            name,
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(tls_only_policy),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[self.public_access])),
            **r,
        )
        self.lifecycle = s3.BucketLifecycleConfiguration(
            name,
            bucket=self.bucket.id,
            rules=lifecycle,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[self.versioning])),
            **r,
        )
        self.lock = None
        if lock_years is not None:
            self.lock = s3.BucketObjectLockConfiguration(
                name,
                bucket=self.bucket.id,
                object_lock_enabled="Enabled",
                rule={"default_retention": {"mode": "COMPLIANCE", "years": lock_years}},
                opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[self.versioning])),
                **r,
            )


class Backups(pulumi.ComponentResource):
    def __init__(self, name: str, args: BackupsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-infra:backups:Backups", name, None, opts)
        b = args.settings
        child = pulumi.ResourceOptions(parent=self)
        tags = {"Environment": args.environment, **args.tags}
        env = args.environment

        self.key = customer_key(
            f"{name}-key",
            f"pipeline-infra {env}: backups, audit logs and artifacts",
            tags=tags,
            # the log archive (components/backups/archive.py) encrypts its delivery streams with this key
            policy=s3_key_policy(account_id=args.account_id, region=args.region, firehose=True),
            opts=child,
        )
        kms.Alias(
            f"{name}-key", name=f"alias/pipeline-infra/{env}/data", target_key_id=self.key.key_id, opts=child
        )

        self.backup = _Bucket(
            self,
            f"{name}-backups",
            prefix=bucket_prefix(env, "backups"),
            key=self.key,
            lifecycle=backup_lifecycle_rules(b),
            tags={**tags, "Purpose": "backups"},
        )
        self.audit = _Bucket(
            self,
            f"{name}-audit",
            prefix=bucket_prefix(env, "audit"),
            key=self.key,
            lifecycle=audit_lifecycle_rules(b),
            tags={**tags, "Purpose": "audit-logs"},
            lock_years=b.audit_retention_years,
        )
        self.artifacts = _Bucket(
            self,
            f"{name}-artifacts",
            prefix=bucket_prefix(env, "artifacts"),
            key=self.key,
            lifecycle=artifact_lifecycle_rules(),
            tags={**tags, "Purpose": "artifacts"},
        )

        self.replica_region = b.replicate_to_region
        self.replicas: dict[str, _Bucket] = {}
        if b.replicate_to_region is not None:
            replica = b.replicate_to_region
            self.replica_key = customer_key(
                f"{name}-replica-key",
                f"pipeline-infra {env}: replicas in {b.replicate_to_region}",
                tags=tags,
                policy=s3_key_policy(account_id=args.account_id, region=b.replicate_to_region),
                opts=child,
                region=replica,
            )
            self.replicas = {
                "backups": _Bucket(
                    self,
                    f"{name}-backups-replica",
                    prefix=bucket_prefix(env, "backups-replica"),
                    key=self.replica_key,
                    lifecycle=backup_lifecycle_rules(b),
                    tags={**tags, "Purpose": "backups-replica"},
                    region=replica,
                ),
                "audit": _Bucket(
                    self,
                    f"{name}-audit-replica",
                    prefix=bucket_prefix(env, "audit-replica"),
                    key=self.replica_key,
                    lifecycle=audit_lifecycle_rules(b),
                    tags={**tags, "Purpose": "audit-logs-replica"},
                    lock_years=b.audit_retention_years,
                    region=replica,
                ),
            }
            sources = {"backups": self.backup, "audit": self.audit}
            self.replication_role = iam.Role(
                f"{name}-replication",
                assume_role_policy=service_trust_policy("s3.amazonaws.com", source_account=args.account_id),
                tags=tags,
                opts=child,
            )
            iam.RolePolicy(
                f"{name}-replication",
                role=self.replication_role.id,
                policy=pulumi.Output.all(
                    [sources[k].bucket.arn for k in sources],
                    [self.replicas[k].bucket.arn for k in sources],
                    self.key.arn,
                    self.replica_key.arn,
                ).apply(
                    lambda a: replication_policy(
                        sources=a[0], destinations=a[1], source_key=a[2], destination_key=a[3]
                    )
                ),
                opts=child,
            )
            for kind, source in sources.items():
                target = self.replicas[kind]
                s3.BucketReplicationConfig(
                    f"{name}-{kind}-replication",
                    bucket=source.bucket.id,
                    role=self.replication_role.arn,
                    rules=[
                        {
                            "id": f"{kind}-to-{b.replicate_to_region}",
                            "status": "Enabled",
                            "filter": {},
                            "delete_marker_replication": {"status": "Disabled"},
                            "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
                            "destination": {
                                "bucket": target.bucket.arn,
                                "storage_class": "STANDARD",
                                "encryption_configuration": {"replica_kms_key_id": self.replica_key.arn},
                            },
                        }
                    ],
                    opts=pulumi.ResourceOptions(
                        parent=self, depends_on=[source.versioning, target.versioning]
                    ),
                )

        self.backup_bucket = self.backup.bucket.bucket
        self.audit_bucket = self.audit.bucket.bucket
        self.artifact_bucket = self.artifacts.bucket.bucket
        self.register_outputs(
            {
                "backup_bucket": self.backup_bucket,
                "audit_bucket": self.audit_bucket,
                "artifact_bucket": self.artifact_bucket,
                "kms_key_arn": self.key.arn,
            }
        )

    def prefix_role_factory(self, irsa_role: IrsaFactory | None) -> Callable[..., pulumi.Output[str]] | None:
        """BackupTarget.irsa_role: (name, namespace, service_account, prefix) -> role ARN that may read and
        write s3://<backup bucket>/<prefix>/* only. None where the cluster has no IRSA."""
        if irsa_role is None:
            return None

        def make(
            role_name: str,
            namespace: str,
            service_account: str,
            prefix: str,
            read_from: tuple[tuple[pulumi.Input[str], str, pulumi.Input[str]], ...] = (),
        ) -> pulumi.Output[str]:
            """read_from: (bucket name, prefix, key ARN) of other sites' buckets to read (DR replicas)."""
            check_prefix(prefix)
            peers = [pulumi.Output.all(b, p, k) for b, p, k in read_from]
            policy = pulumi.Output.all(self.backup.bucket.arn, self.key.arn, *peers).apply(
                lambda a: prefix_access_policy(
                    bucket_arn=a[0],
                    prefix=prefix,
                    key_arn=a[1],
                    read_from=[(f"arn:aws:s3:::{b}", p, k) for b, p, k in a[2:]],
                )
            )
            return irsa_role(f"backup-{role_name}", namespace, service_account, policy)

        return make

    def audit_writer_factory(self, irsa_role: IrsaFactory | None) -> Callable[..., pulumi.Output[str]] | None:
        """BackupTarget.audit_writer: (name, namespace, service_account) -> role ARN that may add objects
        under s3://<audit bucket>/audit-logs/ only. None where the cluster has no IRSA."""
        if irsa_role is None:
            return None

        def make(role_name: str, namespace: str, service_account: str) -> pulumi.Output[str]:
            policy = pulumi.Output.all(self.audit.bucket.arn, self.key.arn).apply(
                lambda a: audit_writer_policy(bucket_arn=a[0], key_arn=a[1])
            )
            return irsa_role(f"audit-{role_name}", namespace, service_account, policy)

        return make
