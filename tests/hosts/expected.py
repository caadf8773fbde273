"""What a module host must hold, from the plan: the rendered user data of its launch template (the same
text `make plan RENDER=dir` and tests/golden/render write) and whether the template maps a data volume.
Pure: no host is touched here."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

STAGE = "/var/lib/pipeline-bootstrap"
DATA_DEVICE = "/dev/sdf"


@dataclass(frozen=True)
class Expected:
    """One launch template's host: module, colour and the files its user data writes."""

    stack: str
    module: str
    colour: str
    user_data: str
    has_volume: bool
    # the launch template's userData as EC2 hands it to cloud-init (base64-decoded: gzip or text)
    user_data_bytes: bytes = b""

    @property
    def doc(self) -> dict[str, Any]:
        return yaml.safe_load(self.user_data)

    @property
    def files(self) -> dict[str, str]:
        """path -> content of every write_files entry, decoded as cloud-init decodes it."""
        return {f["path"]: decode(f) for f in self.doc["write_files"]}

    @property
    def config(self) -> dict[str, Any]:
        return yaml.safe_load(self.files[f"{STAGE}/{self.module}.yaml"])

    @property
    def units(self) -> dict[str, str]:
        prefix = f"{STAGE}/units/"
        return {p.removeprefix(prefix): c for p, c in self.files.items() if p.startswith(prefix)}

    @property
    def base(self) -> str:
        return f"/opt/pipeline/{self.module}"


def user_data_bytes(value: str) -> bytes:
    """A launch template's userData (base64 of the text, or of its gzip) as the instance receives it."""
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        return value.encode("utf-8")


def user_data_text(value: str) -> str:
    """A launch template's userData as text (decompressed as cloud-init does)."""
    raw = user_data_bytes(value)
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def decode(entry: dict[str, Any]) -> str:
    """A write_files entry's content (cloud-init's encodings: b64, gzip, gz+b64)."""
    content, encoding = entry.get("content", ""), entry.get("encoding", "text/plain")
    if encoding in ("b64", "base64"):
        return base64.b64decode(content).decode()
    if encoding in ("gz+b64", "gzip+base64", "gz+base64", "gzip+b64"):
        return gzip.decompress(base64.b64decode(content)).decode()
    if encoding in ("gz", "gzip"):
        return gzip.decompress(content if isinstance(content, bytes) else content.encode("latin-1")).decode()
    return content


_TEMPLATE = re.compile(r"^(alpha|beta|gamma)-(blue|green)-lt$")


def expected_hosts(plan, stack: str) -> dict[tuple[str, str], Expected]:
    """(module, colour) -> Expected for every fleet launch template of the plan."""
    out: dict[tuple[str, str], Expected] = {}
    for r in plan.resources:
        m = _TEMPLATE.match(r.name)
        if r.type != "aws:ec2/launchTemplate:LaunchTemplate" or not m:
            continue
        devices = {b.get("deviceName") for b in r.inputs.get("blockDeviceMappings") or []}
        out[(m[1], m[2])] = Expected(
            stack,
            m[1],
            m[2],
            user_data_text(r.inputs["userData"]),
            DATA_DEVICE in devices,
            user_data_bytes(r.inputs["userData"]),
        )
    if not out:
        raise ValueError(f"the plan of {stack} has no fleet launch template")
    return out


def bucket_names(plan) -> set[str]:
    """Every S3 bucket the plan's policies name (the artifact and backup buckets among them)."""
    text = json.dumps([r.inputs for r in plan.resources], default=str)
    return set(re.findall(r"arn:aws:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])", text))
