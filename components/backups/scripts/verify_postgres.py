"""Daily verification of the PostgreSQL backups (seed 003 Backup Verification > Daily Verification:
"pg_restore --list <latest dump> || alert"). The platform's backups are barman-cloud base backups and
WAL on S3 (CloudNativePG's barman-cloud plugin), so the check lists them with the real tools: the
newest base backup from `barman-cloud-backup-list --format json` must be DONE and recent, and the
newest archived WAL segment (boto3, the AWS SDK barman-cloud uses) must be recent. Exit 1 with one
line per problem; the CronJob's failure raises the BackupVerificationFailed alert.

Environment: DESTINATION (s3://bucket/postgres/), SERVER (the cluster), MAX_BASE_AGE_HOURS,
MAX_WAL_AGE_MINUTES; credentials from the pod's IRSA role."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys


def check(
    listing: dict,
    newest_wal: dt.datetime | None,
    now: dt.datetime,
    max_base: dt.timedelta,
    max_wal: dt.timedelta,
) -> list[str]:
    """Problems with a barman-cloud-backup-list JSON listing and the newest WAL's time."""
    errors = []
    done = [b for b in listing.get("backups_list", []) if b.get("status") == "DONE" and b.get("end_time_iso")]
    if not done:
        errors.append("no completed base backup")
    else:
        newest = max(done, key=lambda b: dt.datetime.fromisoformat(b["end_time_iso"]))
        ended = dt.datetime.fromisoformat(newest["end_time_iso"])
        if ended.tzinfo is None:
            ended = ended.replace(tzinfo=dt.UTC)
        if now - ended > max_base:
            errors.append(
                f"newest base backup {newest['backup_id']} ended {ended.isoformat()}, older than {max_base}"
            )
        if not newest.get("begin_wal") or not newest.get("end_wal"):
            errors.append(f"base backup {newest['backup_id']} has no WAL range")
    if newest_wal is None:
        errors.append("no archived WAL")
    elif now - newest_wal > max_wal:
        errors.append(f"newest WAL archived {newest_wal.isoformat()}, older than {max_wal}")
    return errors


def main() -> int:
    import boto3  # barman-cloud's own S3 client library

    destination, server = os.environ["DESTINATION"], os.environ["SERVER"]
    listed = subprocess.run(
        ["barman-cloud-backup-list", "--cloud-provider", "aws-s3", "--format", "json", destination, server],
        check=True,
        capture_output=True,
        text=True,
    )
    bucket, _, prefix = destination.removeprefix("s3://").partition("/")
    newest = None
    pages = boto3.client("s3").get_paginator("list_objects_v2")
    for page in pages.paginate(Bucket=bucket, Prefix=f"{prefix}{server}/wals/"):
        for obj in page.get("Contents", []):
            newest = obj["LastModified"] if newest is None else max(newest, obj["LastModified"])
    errors = check(
        json.loads(listed.stdout),
        newest,
        dt.datetime.now(dt.UTC),
        dt.timedelta(hours=float(os.environ["MAX_BASE_AGE_HOURS"])),
        dt.timedelta(minutes=float(os.environ["MAX_WAL_AGE_MINUTES"])),
    )
    for e in errors:
        print(f"backup verification failed: {e}", file=sys.stderr)
    if not errors:
        print(f"{server}: newest base backup and WAL are recent")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
