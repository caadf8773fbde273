"""LogArchive: the S3 cold tier of the environment's logs (seed 003 Log Retention; layout and policies:
components/backups/logs.py). A bucket like the backup buckets (versioned, SSE-KMS with the
environment's key, public access blocked, TLS only) with a lifecycle per log class, a Firehose stream
per archived class writing under that class's prefix only, and the role CloudWatch Logs subscription
filters deliver as (it may put records into these streams, nothing else)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws.cloudwatch as cloudwatch
import pulumi_aws.iam as iam
import pulumi_aws.kinesis as kinesis

from components.backups import logs
from components.backups.component import _Bucket
from components.backups.layout import bucket_prefix


@dataclass(frozen=True)
class LogArchiveArgs:
    environment: str
    region: str
    account_id: str
    key: object  # the environment's data key (kms.Key): the bucket's and the streams' encryption
    tags: dict[str, str] = field(default_factory=dict)


class LogArchive(pulumi.ComponentResource):
    def __init__(self, name: str, args: LogArchiveArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-infra:backups:LogArchive", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        env, key = args.environment, args.key
        tags = {"Environment": env, **args.tags}
        self.archive = _Bucket(
            self,
            f"{name}-bucket",
            prefix=bucket_prefix(env, "logs"),
            key=key,  # type: ignore[arg-type]
            lifecycle=logs.archive_lifecycle_rules(),
            tags={**tags, "Purpose": "log-archive"},
        )
        bucket = self.archive.bucket
        self.streams: dict[str, kinesis.FirehoseDeliveryStream] = {}
        for log_class in logs.ARCHIVED_CLASSES:
            role = iam.Role(
                f"{name}-{log_class}-firehose",
                assume_role_policy=logs.firehose_trust_policy(args.account_id),
                tags=tags,
                opts=child,
            )
            policy = iam.RolePolicy(
                f"{name}-{log_class}-firehose",
                role=role.id,
                policy=pulumi.Output.all(bucket.arn, key.arn).apply(  # type: ignore[attr-defined]
                    lambda a, c=log_class: logs.firehose_policy(
                        bucket_arn=a[0], key_arn=a[1], region=args.region, log_class=c
                    )
                ),
                opts=child,
            )
            self.streams[log_class] = kinesis.FirehoseDeliveryStream(
                f"{name}-{log_class}",
                name=logs.stream_name(env, log_class),
                destination="extended_s3",
                server_side_encryption={
                    "enabled": True,
                    "key_type": "CUSTOMER_MANAGED_CMK",
                    "key_arn": key.arn,  # type: ignore[attr-defined]
                },
                extended_s3_configuration=logs.extended_s3_configuration(
                    bucket_arn=bucket.arn,
                    role_arn=role.arn,
                    key_arn=key.arn,  # type: ignore[attr-defined]
                    log_class=log_class,
                ),
                tags={**tags, "LogClass": log_class},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, self.archive.encryption]),
            )
        self.subscription_role = iam.Role(
            f"{name}-subscription",
            assume_role_policy=logs.subscription_trust_policy(account_id=args.account_id, region=args.region),
            tags=tags,
            opts=child,
        )
        self.subscription_policy = iam.RolePolicy(
            f"{name}-subscription",
            role=self.subscription_role.id,
            policy=pulumi.Output.all(*[s.arn for s in self.streams.values()]).apply(
                lambda arns: logs.subscription_policy(list(arns))
            ),
            opts=child,
        )
        self.bucket_name = bucket.bucket
        self.stream_arns = pulumi.Output.all(**{c: s.arn for c, s in self.streams.items()})
        self.register_outputs(
            {
                "bucket": self.bucket_name,
                "stream_arns": self.stream_arns,
                "subscription_role_arn": self.subscription_role.arn,
            }
        )

    def subscribe(
        self, name: str, log_group: pulumi.Input[str], log_class: str
    ) -> cloudwatch.LogSubscriptionFilter:
        """Stream every event of `log_group` into the archive of `log_class` (empty pattern: all)."""
        return cloudwatch.LogSubscriptionFilter(
            name,
            name="log-archive",
            log_group=log_group,
            filter_pattern="",
            destination_arn=self.streams[logs.check_class(log_class)].arn,
            role_arn=self.subscription_role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.subscription_policy]),
        )
