"""Daily backup of the Kafka Connect offsets (seed 000 Backup Kafka Connect Offsets; Best Practices
"Backup offsets daily"): GET /connectors/<name>/offsets of the Connect REST API (KIP-875) for every
connector, written to s3://bucket/connect-offsets/<name>/offsets-<timestamp>.json and
offsets-latest.json. The file is the REST API's format, which Strimzi's KafkaConnector
`alterOffsets.fromConfigMap` (key offsets.json) takes back on restore. Exit 1 if any connector
fails.

Environment: CONNECT_URL, CONNECTORS (comma separated), BUCKET; credentials from the pod's IRSA role."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import urllib.request


def keys(connector: str, now: dt.datetime) -> tuple[str, str]:
    stamp = now.strftime("%Y%m%d-%H%M%S")
    return (
        f"connect-offsets/{connector}/offsets-{stamp}.json",
        f"connect-offsets/{connector}/offsets-latest.json",
    )


def main() -> int:
    import boto3

    s3, now, failed = boto3.client("s3"), dt.datetime.now(dt.UTC), 0
    for connector in os.environ["CONNECTORS"].split(","):
        try:
            with urllib.request.urlopen(
                f"{os.environ['CONNECT_URL']}/connectors/{connector}/offsets", timeout=30
            ) as r:
                body = json.load(r)
        except OSError as e:
            print(f"{connector}: offsets not readable: {e}", file=sys.stderr)
            failed += 1
            continue
        data = json.dumps(body, indent=2, sort_keys=True).encode()
        for key in keys(connector, now):
            s3.put_object(Bucket=os.environ["BUCKET"], Key=key, Body=data, ContentType="application/json")
        print(f"{connector}: {len(body.get('offsets', []))} offsets backed up")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
