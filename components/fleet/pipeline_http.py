#!/usr/bin/python3
"""pipeline-http: what a module instance fetches and sends, with the Python standard library only
(python3 is on every image cloud-init runs on; no AWS CLI, other HTTP client or package is needed).

  pipeline-http s3-get BUCKET KEY FILE     download s3://BUCKET/KEY (SigV4, instance role)
  pipeline-http s3-put FILE BUCKET KEY     upload FILE to s3://BUCKET/KEY (bucket default encryption)
  pipeline-http post URL                   POST to a local admin endpoint (exit 1 unless 2xx)
  pipeline-http get URL [FILE]             GET a local endpoint to FILE or stdout
  pipeline-http imds PATH                  an instance metadata value (IMDSv2)

S3 is reached at https://BUCKET.s3.REGION.amazonaws.com, which the VPC's S3 gateway endpoint routes;
credentials are the instance profile's, from IMDSv2. PIPELINE_IMDS_URL and PIPELINE_S3_URL replace the
two base addresses (tests run against local stand-ins). This file is installed by the user data.
"""

import datetime
import hashlib
import hmac
import json
import os
import shutil
import sys
import urllib.parse
import urllib.request

IMDS = os.environ.get("PIPELINE_IMDS_URL", "http://169.254.169.254/latest")
UNSIGNED = "UNSIGNED-PAYLOAD"


def _open(req, timeout=30):
    return urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 (fixed schemes above)


def imds(path):
    put = urllib.request.Request(
        IMDS + "/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"}
    )
    token = _open(put, 5).read().decode()
    req = urllib.request.Request(IMDS + "/" + path.lstrip("/"), headers={"X-aws-ec2-metadata-token": token})
    return _open(req, 5).read().decode()


def credentials():
    role = imds("meta-data/iam/security-credentials/").split()[0]
    c = json.loads(imds("meta-data/iam/security-credentials/" + role))
    return c["AccessKeyId"], c["SecretAccessKey"], c.get("Token")


def region():
    return os.environ.get("AWS_REGION") or imds("meta-data/placement/region").strip()


def sign(method, host, path, reg, key, secret, token, now, payload=UNSIGNED):
    """AWS Signature Version 4 headers of an S3 request without a query string."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": stamp}
    if token:
        headers["x-amz-security-token"] = token
    names = ";".join(sorted(headers))
    lines = [f"{k}:{headers[k]}" for k in sorted(headers)]
    canonical = "\n".join([method, urllib.parse.quote(path), "", *lines, "", names, payload])
    scope = f"{stamp[:8]}/{reg}/s3/aws4_request"
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, digest])
    k = ("AWS4" + secret).encode()
    for part in (stamp[:8], reg, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={names}, Signature={signature}"
    )
    return headers


def s3_request(method, bucket, key, data=None):
    reg = region()
    base = os.environ.get("PIPELINE_S3_URL") or f"https://{bucket}.s3.{reg}.amazonaws.com"
    url = urllib.parse.urlsplit(base)
    path = (url.path.rstrip("/") or "") + "/" + key.lstrip("/")
    access, secret, token = credentials()
    now = datetime.datetime.now(datetime.UTC)
    headers = sign(method, url.netloc, path, reg, access, secret, token, now)
    del headers["host"]
    full = f"{url.scheme}://{url.netloc}{urllib.parse.quote(path)}"
    return urllib.request.Request(full, data=data, method=method, headers=headers)


def main(argv):
    cmd, args = (argv[0], argv[1:]) if argv else ("", [])
    if cmd == "s3-get" and len(args) == 3:
        with _open(s3_request("GET", args[0], args[1]), 300) as r, open(args[2], "wb") as out:
            shutil.copyfileobj(r, out)
    elif cmd == "s3-put" and len(args) == 3:
        with open(args[0], "rb") as f:
            body = f.read()
        req = s3_request("PUT", args[1], args[2], body)
        req.add_header("Content-Length", str(len(body)))
        _open(req, 300).read()
    elif cmd == "post" and len(args) == 1:
        _open(urllib.request.Request(args[0], data=b"", method="POST"), 10).read()
    elif cmd == "get" and len(args) in (1, 2):
        with _open(args[0], 10) as r:
            if len(args) == 2:
                with open(args[1], "wb") as out:
                    shutil.copyfileobj(r, out)
            else:
                shutil.copyfileobj(r, sys.stdout.buffer)
    elif cmd == "imds" and len(args) == 1:
        print(imds(args[0]))
    else:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:  # noqa: BLE001 (one line on stderr, exit 1: the callers use set -e)
        print(f"pipeline-http: {e}", file=sys.stderr)
        sys.exit(1)
