"""The test's client of the S3 stand-in (run with moto's Python, which has boto3):
  s3_client.py ENDPOINT CA make-bucket BUCKET
  s3_client.py ENDPOINT CA put BUCKET KEY FILE
  s3_client.py ENDPOINT CA list BUCKET PREFIX      one key a line
Waits up to 30 s for the server to answer (it starts with the session)."""

import sys
import time

import boto3
import botocore.config
import botocore.exceptions


def main(endpoint: str, ca: str, cmd: str, *args: str) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        verify=ca,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=botocore.config.Config(s3={"addressing_style": "path"}),
    )
    for _ in range(60):
        try:
            s3.list_buckets()
            break
        except botocore.exceptions.EndpointConnectionError:
            time.sleep(0.5)
    if cmd == "make-bucket":
        s3.create_bucket(Bucket=args[0])
    elif cmd == "put":
        s3.upload_file(args[2], args[0], args[1])
    elif cmd == "list":
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=args[0], Prefix=args[1]):
            for obj in page.get("Contents", []):
                print(obj["Key"])
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(*sys.argv[1:])
