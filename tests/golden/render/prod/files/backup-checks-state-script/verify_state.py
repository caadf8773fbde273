"""Daily verification of the module state backups (seed 003 Backup Verification > Daily Verification:
"find /backup/state -mtime -1 -name '*.tar.gz' | wc -l ... -ge 3 || alert 'Missing state backups'"),
per module, on the backup bucket (s3://bucket/state/<module>/<instance>/), listed with boto3; every
instance folder with tarballs also holds the `-latest` copy the seed's State Recovery downloads.
Exit 1 with one line per problem.

Environment: BUCKET, MODULES (comma separated), MIN_TARBALLS; credentials from the pod's IRSA role."""

from __future__ import annotations

import datetime as dt
import os
import sys


def check(objects: list[dict], modules: list[str], now: dt.datetime, minimum: int) -> list[str]:
    """Problems with the listed objects ({Key, LastModified}) under state/."""
    errors = []
    since = now - dt.timedelta(days=1)
    for module in modules:
        mine = [o for o in objects if o["Key"].startswith(f"state/{module}/")]
        recent = [
            o
            for o in mine
            if o["Key"].endswith(".tar.gz") and "-latest" not in o["Key"] and o["LastModified"] >= since
        ]
        if len(recent) < minimum:
            errors.append(
                f"{module}: {len(recent)} state tarballs in the last day, at least {minimum} expected"
            )
        folders = {o["Key"].rsplit("/", 1)[0] for o in recent}
        latest = {
            o["Key"].rsplit("/", 1)[0] for o in mine if o["Key"].endswith(f"{module}-state-latest.tar.gz")
        }
        errors += [f"{folder}/: no {module}-state-latest.tar.gz" for folder in sorted(folders - latest)]
    return errors


def main() -> int:
    import boto3

    objects: list[dict] = []
    for page in (
        boto3.client("s3")
        .get_paginator("list_objects_v2")
        .paginate(Bucket=os.environ["BUCKET"], Prefix="state/")
    ):
        objects += page.get("Contents", [])
    errors = check(
        objects, os.environ["MODULES"].split(","), dt.datetime.now(dt.UTC), int(os.environ["MIN_TARBALLS"])
    )
    for e in errors:
        print(f"backup verification failed: {e}", file=sys.stderr)
    if not errors:
        print("state backups of every module are recent")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
