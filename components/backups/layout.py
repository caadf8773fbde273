"""Layout and retention of the backup buckets (seed 003 Backup and Recovery). Pure: no Pulumi.

Backup bucket prefixes (writers get a role for their prefix only, BackupTarget.irsa_role):
- ``state/``                module state backups of the fleets, every 4 hours, kept 7 days
- ``database/full/``        database full backups (daily), kept 30 days
- ``database/incremental/`` database incremental backups / WAL (hourly), kept 7 days
Backup tools that keep a catalog manage their own retention under their own prefix, and the bucket
does not expire their objects by age (an old ScyllaDB SSTable or a WAL segment may still belong to a
recent backup): ``backup/`` (Scylla Manager, its task's retention) and ``postgres/`` (CloudNativePG's
barman-cloud, `postgres.backup_retention_days`). What they delete leaves the bucket NONCURRENT_DAYS
later (housekeeping rule over the whole bucket).
Audit logs live in their own bucket, under S3 Object Lock in compliance mode for 7 years: a
bucket's default lock retention applies to every object in it, so the short-lived backups above
must not share the audit bucket.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from components.backups.settings import BackupSettings

STATE_PREFIX = "state"
DATABASE_FULL_PREFIX = "database/full"
DATABASE_INCREMENTAL_PREFIX = "database/incremental"
# Noncurrent (overwritten or deleted) versions stay this long: a window to undo a mistaken delete.
NONCURRENT_DAYS = 7
ABORT_MULTIPART_DAYS = 7
# seed 003 Log Aggregation > Log Retention, Audit: hot 30 days, warm 90 days, cold 7 years.
AUDIT_WARM_AFTER_DAYS = 30
AUDIT_COLD_AFTER_DAYS = 90

# S3 `bucket_prefix` is at most 37 characters (the provider appends a unique suffix).
BUCKET_PREFIX_MAX = 37
_KIND_SHORT = {
    "backups": "backup",
    "audit": "audit",
    "artifacts": "artifact",
    "logs": "logs",
    "backups-replica": "backup-r",
    "audit-replica": "audit-r",
}

_PREFIX = re.compile(r"^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$")


def years_in_days(years: int) -> int:
    """Calendar years as lifecycle days, leap days included (never shorter than the lock)."""
    return math.ceil(years * 365.25)


def housekeeping_rule() -> dict[str, Any]:
    """Whole bucket: versions that were overwritten or deleted (by a lifecycle expiry or by a backup
    tool's own retention) go after NONCURRENT_DAYS; dangling delete markers and uploads too."""
    return {
        "id": "housekeeping",
        "status": "Enabled",
        "filter": {},
        "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_DAYS},
        "expiration": {"expired_object_delete_marker": True},
        "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_DAYS},
    }


def backup_lifecycle_rules(b: BackupSettings) -> list[dict[str, Any]]:
    """Lifecycle rules of the backup bucket (aws.s3.BucketLifecycleConfiguration `rules`)."""
    rules = []
    for rule_id, prefix, days in (
        ("module-state", STATE_PREFIX, b.state_retention_days),
        ("database-full", DATABASE_FULL_PREFIX, b.db_full_retention_days),
        ("database-incremental", DATABASE_INCREMENTAL_PREFIX, b.db_incremental_retention_days),
    ):
        rules.append(
            {
                "id": rule_id,
                "status": "Enabled",
                "filter": {"prefix": f"{prefix}/"},
                "expiration": {"days": days},
            }
        )
    return [*rules, housekeeping_rule()]


def audit_lifecycle_rules(b: BackupSettings) -> list[dict[str, Any]]:
    """Audit bucket: warm after 30 days, cold after 90, expire when the compliance lock has ended."""
    return [
        {
            "id": "audit-logs",
            "status": "Enabled",
            "filter": {},
            "transitions": [
                {"days": AUDIT_WARM_AFTER_DAYS, "storage_class": "STANDARD_IA"},
                {"days": AUDIT_COLD_AFTER_DAYS, "storage_class": "GLACIER"},
            ],
            "expiration": {"days": years_in_days(b.audit_retention_years)},
            "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_DAYS},
        },
        {
            "id": "housekeeping",
            "status": "Enabled",
            "filter": {},
            "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_DAYS},
        },
    ]


def artifact_lifecycle_rules() -> list[dict[str, Any]]:
    return [{**housekeeping_rule(), "noncurrent_version_expiration": {"noncurrent_days": 90}}]


def check_prefix(prefix: str) -> str:
    if not _PREFIX.match(prefix):
        raise ValueError(f"backup prefix {prefix!r}: lowercase path segments without leading or trailing '/'")
    return prefix


def _list_statements(bucket_arn: str, prefix: str, *, list_sid: str, locate_sid: str) -> list[dict[str, Any]]:
    """List the bucket only under the prefix; find its region (GetBucketLocation has no prefix)."""
    return [
        {
            "Sid": list_sid,
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/", f"{prefix}/*"]}},
        },
        {"Sid": locate_sid, "Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": bucket_arn},
    ]


def read_only_statements(*, bucket_arn: str, prefix: str, key_arn: str, sid: str) -> list[dict[str, Any]]:
    """Read s3://bucket/<prefix>/* of another site's bucket (list under the prefix, get, decrypt)."""
    check_prefix(prefix)
    return [
        *_list_statements(bucket_arn, prefix, list_sid=f"{sid}List", locate_sid=f"{sid}Locate"),
        {
            "Sid": f"{sid}Read",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"{bucket_arn}/{prefix}/*",
        },
        {
            "Sid": f"{sid}Key",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": key_arn,
        },
    ]


def prefix_access_policy(
    *, bucket_arn: str, prefix: str, key_arn: str, read_from: Sequence[tuple[str, str, str]] = ()
) -> str:
    """Read and write s3://bucket/<prefix>/* only (list only under the prefix), with the bucket's key;
    plus read-only access to each (bucket ARN, prefix, key ARN) of `read_from` (the DR site reading
    the primary's backups)."""
    check_prefix(prefix)
    extra = [
        st
        for i, (arn, pfx, key) in enumerate(read_from)
        for st in read_only_statements(bucket_arn=arn, prefix=pfx, key_arn=key, sid=f"Peer{i}")
    ]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                *_list_statements(bucket_arn, prefix, list_sid="ListPrefix", locate_sid="Locate"),
                {
                    "Sid": "ObjectsUnderPrefix",
                    "Effect": "Allow",
                    "Action": [
                        "s3:GetObject",
                        "s3:PutObject",
                        "s3:DeleteObject",
                        "s3:AbortMultipartUpload",
                        "s3:ListMultipartUploadParts",
                    ],
                    "Resource": f"{bucket_arn}/{prefix}/*",
                },
                {
                    "Sid": "BucketKey",
                    "Effect": "Allow",
                    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                    "Resource": key_arn,
                },
                *extra,
            ],
        },
        sort_keys=True,
    )


AUDIT_EXPORT_PREFIX = "audit-logs"


def audit_writer_policy(*, bucket_arn: str, key_arn: str) -> str:
    """The daily audit export: add objects under audit-logs/ of the audit bucket and see whether a day
    is there (HeadObject answers 404 rather than 403 only with ListBucket), encrypt with the key.
    Nothing deletes or overwrites: the bucket's Object Lock refuses it anyway."""
    prefix = AUDIT_EXPORT_PREFIX
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                *_list_statements(bucket_arn, prefix, list_sid="ListExports", locate_sid="Locate"),
                {
                    "Sid": "AddExports",
                    "Effect": "Allow",
                    "Action": ["s3:PutObject", "s3:GetObject"],
                    "Resource": f"{bucket_arn}/{prefix}/*",
                },
                {
                    "Sid": "AuditKey",
                    "Effect": "Allow",
                    "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                    "Resource": key_arn,
                },
            ],
        },
        sort_keys=True,
    )


def tls_only_policy(bucket_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
        sort_keys=True,
    )


def replication_policy(
    *, sources: list[str], destinations: list[str], source_key: str, destination_key: str
) -> str:
    """What S3 replication needs: read versions (and their locks) at the sources, replicate into the
    destinations, decrypt with the source key and encrypt with the destination key."""
    bucket_arns = list(sources)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                    "Resource": bucket_arns,
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "s3:GetObjectVersionForReplication",
                        "s3:GetObjectVersionAcl",
                        "s3:GetObjectVersionTagging",
                        "s3:GetObjectRetention",
                        "s3:GetObjectLegalHold",
                    ],
                    "Resource": [f"{arn}/*" for arn in bucket_arns],
                },
                {
                    "Effect": "Allow",
                    "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                    "Resource": [f"{arn}/*" for arn in destinations],
                },
                {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": source_key},
                {
                    "Effect": "Allow",
                    "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                    "Resource": destination_key,
                },
            ],
        },
        sort_keys=True,
    )


def bucket_prefix(environment: str, kind: str) -> str:
    """The name prefix of an environment's bucket of a kind (backups, audit, artifacts, *-replica)."""
    prefix = f"{environment}-{_KIND_SHORT[kind]}-"
    if len(prefix) > BUCKET_PREFIX_MAX or not re.match(r"^[a-z0-9][a-z0-9-]*-$", prefix):
        raise ValueError(f"bucket prefix {prefix!r}: at most {BUCKET_PREFIX_MAX} lowercase characters")
    return prefix
