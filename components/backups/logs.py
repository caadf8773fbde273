"""The cold tier of the log classes (seed 003 Log Aggregation > Log Retention) in S3. Pure: no Pulumi.

CloudWatch Logs keeps each class's hot and warm tiers (lib/logs/retention.yaml: retention = the warm
end). A subscription filter on every log group of a class with a cold tier streams its events into
that class's Firehose stream, which decompresses CloudWatch's envelopes, keeps the log messages and
writes them, gzipped, to s3://<log archive>/<class>/logs/yyyy/MM/dd/ under the environment's key.
The bucket's lifecycle moves a class's objects to Glacier when CloudWatch's copy expires (the warm
end) and deletes them at the cold end. Classes:
- application (fleet application and system logs): Glacier after 30 days, deleted after 1 year;
- security (VPC flow logs, EKS audit and control-plane logs): Glacier after 180 days, deleted after
  7 years;
- audit: the audit bucket (Object Lock, 7 years) through the daily audit log export, not Firehose;
- debug: no cold tier, never archived.
"""

from __future__ import annotations

import json
from typing import Any

from components.backups.layout import housekeeping_rule
from lib import logs

# the audit class has its own bucket (components/backups/component.py, Object Lock) and writer
ARCHIVED_CLASSES: tuple[str, ...] = logs.archived_classes()
# Firehose buffering: an object every 5 minutes or 64 MiB (at least 64 MiB with decompression on)
BUFFER_SECONDS = 300
BUFFER_MIB = 64


def check_class(log_class: str) -> str:
    if log_class not in ARCHIVED_CLASSES:
        archived = ", ".join(ARCHIVED_CLASSES)
        raise ValueError(f"log class {log_class!r} has no S3 archive; archived: {archived}")
    return log_class


def stream_name(environment: str, log_class: str) -> str:
    return f"pipeline-infra-{environment}-{check_class(log_class)}-logs"


def object_prefix(log_class: str) -> str:
    return f"{check_class(log_class)}/logs/!{{timestamp:yyyy/MM/dd}}/"


def error_prefix(log_class: str) -> str:
    return f"{check_class(log_class)}/errors/!{{firehose:error-output-type}}/!{{timestamp:yyyy/MM/dd}}/"


def archive_lifecycle_rules() -> list[dict[str, Any]]:
    """Per class: Glacier at the end of the warm tier (CloudWatch's copy expires), deleted at the end of
    the cold tier; delivery errors under the class's prefix follow it. Whole bucket: housekeeping."""
    rules: list[dict[str, Any]] = [
        {
            "id": f"{c}-logs",
            "status": "Enabled",
            "filter": {"prefix": f"{c}/"},
            "transitions": [{"days": logs.cloudwatch_days(c), "storage_class": "GLACIER"}],
            "expiration": {"days": logs.cold_days(c)},
        }
        for c in ARCHIVED_CLASSES
    ]
    rules.append(housekeeping_rule())
    return rules


def firehose_trust_policy(account_id: str) -> str:
    """Firehose of this account only (the external id Firehose passes is the account id)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "firehose.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": account_id}},
                }
            ],
        },
        sort_keys=True,
    )


def firehose_policy(*, bucket_arn: str, key_arn: str, region: str, log_class: str) -> str:
    """What a class's stream needs to deliver (Firehose's S3 destination access): objects under the
    class's prefix only, the bucket's listing and location, the key only through S3 for that prefix."""
    c = check_class(log_class)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Bucket",
                    "Effect": "Allow",
                    "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                    "Resource": bucket_arn,
                },
                {
                    "Sid": "ClassObjects",
                    "Effect": "Allow",
                    "Action": ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                    "Resource": f"{bucket_arn}/{c}/*",
                },
                {
                    "Sid": "KeyThroughS3",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": key_arn,
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": f"{bucket_arn}/{c}/*"},
                    },
                },
            ],
        },
        sort_keys=True,
    )


def subscription_trust_policy(*, account_id: str, region: str) -> str:
    """CloudWatch Logs of this account and region only (subscription filters deliver as this role)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "logs.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringLike": {"aws:SourceArn": f"arn:aws:logs:{region}:{account_id}:*"}},
                }
            ],
        },
        sort_keys=True,
    )


def subscription_policy(stream_arns: list[str]) -> str:
    """Put records into the archive streams, nothing else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PutIntoArchiveStreams",
                    "Effect": "Allow",
                    "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
                    "Resource": sorted(stream_arns),
                }
            ],
        },
        sort_keys=True,
    )


def extended_s3_configuration(
    *, bucket_arn: Any, role_arn: Any, key_arn: Any, log_class: str
) -> dict[str, Any]:
    """The stream's S3 destination: CloudWatch's gzipped envelopes decompressed and their messages
    extracted (one line per log event), delivered gzipped under the class's prefix with the key."""
    return {
        "bucket_arn": bucket_arn,
        "role_arn": role_arn,
        "kms_key_arn": key_arn,
        "prefix": object_prefix(log_class),
        "error_output_prefix": error_prefix(log_class),
        "buffering_interval": BUFFER_SECONDS,
        "buffering_size": BUFFER_MIB,
        "compression_format": "GZIP",
        "custom_time_zone": "UTC",
        "processing_configuration": {
            "enabled": True,
            "processors": [
                {
                    "type": "Decompression",
                    "parameters": [{"parameter_name": "CompressionFormat", "parameter_value": "GZIP"}],
                },
                {
                    "type": "CloudWatchLogProcessing",
                    "parameters": [{"parameter_name": "DataMessageExtraction", "parameter_value": "true"}],
                },
            ],
        },
    }
