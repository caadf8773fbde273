"""Daily export of the audit log to the audit bucket (seed 003 Runbook L.1 Audit Log Export; Daily
Batch Jobs daily_audit_export at 01:00; Backup Classifications > Audit Log Backups: daily, 7 years).

The rows of pipeline_db.audit_log of the previous UTC day, one JSON object a line, gzipped, to
s3://<audit bucket>/audit-logs/<yyyy>/<mm>/<dd>/audit-<yyyymmdd>.jsonl.gz. The bucket's Object Lock
(compliance mode, 7 years) keeps every object; the upload carries a SHA-256 checksum, which S3 requires
of writes into a bucket with a default retention. A day already exported is not written again (the
lock would keep both versions). Exit 1 when the database or the bucket cannot be reached.

Environment: PGHOST, PGPORT, PGDATABASE (libpq's own), CREDENTIALS_DIR (the files `username` and
`password` of the role's mounted Secret, handed to libpq as PGUSER/PGPASSWORD of this process only),
AUDIT_BUCKET, DAY (optional, yyyy-mm-dd: export that day instead of yesterday); credentials for S3
from the pod's IRSA role."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import sys

PREFIX = "audit-logs"
# Every column of the row as JSON (the archive keeps the columns the table has on the day of export).
QUERY = (
    'SELECT row_to_json(a)::text FROM audit_log AS a WHERE a."timestamp" >= %(start)s '
    'AND a."timestamp" < %(end)s ORDER BY a."timestamp", a.id'
)


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def object_key(day: dt.date) -> str:
    return f"{PREFIX}/{day:%Y/%m/%d}/audit-{day:%Y%m%d}.jsonl.gz"


def export_day(rows, day: dt.date, s3, bucket: str) -> int:
    """Write the rows (JSON text, one per row) of `day` unless that day's object exists; the count."""
    key = object_key(day)
    try:
        s3.head_object(Bucket=bucket, Key=key)
        print(f"{key}: already exported")
        return 0
    except s3.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
    buf, count = io.BytesIO(), 0
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        for (line,) in rows:
            gz.write(line.encode("utf-8") + b"\n")
            count += 1
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=buf.getvalue(),
        ContentType="application/x-ndjson",
        ContentEncoding="gzip",
        ChecksumAlgorithm="SHA256",
    )
    print(f"{key}: {count} audit rows exported")
    return count


def main() -> int:
    import boto3
    import psycopg2

    day = (
        dt.date.fromisoformat(os.environ["DAY"])
        if os.environ.get("DAY")
        else dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    )
    start, end = day_window(day)
    credentials = os.environ.get("CREDENTIALS_DIR")
    if credentials:
        for var, name in (("PGUSER", "username"), ("PGPASSWORD", "password")):
            with open(os.path.join(credentials, name), encoding="utf-8") as f:
                os.environ[var] = f.read().strip()
    try:
        conn = psycopg2.connect("")  # libpq reads PG* from the environment
    except psycopg2.Error as e:
        print(f"audit log not readable: {e}", file=sys.stderr)
        return 1
    try:
        with conn, conn.cursor(name="audit_export") as cur:  # server-side cursor: rows streamed
            cur.execute(QUERY, {"start": start, "end": end})
            export_day(cur, day, boto3.client("s3"), os.environ["AUDIT_BUCKET"])
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
