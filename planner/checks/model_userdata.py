"""Fleet launch templates' user data, decoded (pure)."""

from __future__ import annotations

import base64
import binascii
import gzip
import re
from typing import Any

from planner.checks.model import resources

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
URL = re.compile(r"\bhttps?://([A-Za-z0-9.-]+)(?::(\d+))?[^\s'\"]*")
HOST_PORT = re.compile(r"^\s*([a-z_]+):\s*(?:[a-z]+://)?([A-Za-z0-9.-]+\.[A-Za-z]{2,})(?::(\d+))?\s*$", re.M)


def user_data(r: dict[str, Any]) -> str:
    data = (r.get("inputs") or {}).get("userData")
    if not isinstance(data, str) or data == "[secret]":
        return ""
    try:
        raw = base64.b64decode(data, validate=True)
        if raw[:2] == b"\x1f\x8b":  # gzip-compressed user data, as cloud-init decompresses it
            raw = gzip.decompress(raw)
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, OSError):
        return data


def fleet_templates(stack: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    return [(r, text) for r in resources(stack, LAUNCH_TEMPLATE) if (text := user_data(r))]


def fetched_urls(text: str) -> list[tuple[str, int]]:
    """(host, port) of every URL the bootstrap fetches from outside the instance."""
    out = []
    for m in URL.finditer(text):
        host = m.group(1)
        if host in ("127.0.0.1", "localhost", "169.254.169.254"):
            continue
        port = int(m.group(2) or (443 if m.group(0).startswith("https") else 80))
        out.append((host, port))
    return sorted(set(out))


def endpoints(text: str) -> list[tuple[str, str, int | None]]:
    """(key, host, port) of every endpoint the module configuration hands the fleet."""
    out = []
    for m in HOST_PORT.finditer(text):
        key, host, port = m.group(1), m.group(2), m.group(3)
        if host in ("127.0.0.1", "localhost"):
            continue
        out.append((key, host, int(port) if port else None))
    return out


def database_sections(text: str) -> list[dict[str, str]]:
    """The `database:` mappings of the module configurations in the user data, as {key: value} of
    their scalar lines (indentation-delimited; the configuration is YAML inside the cloud-config)."""
    out = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)database:\s*$", line)
        if not m:
            continue
        indent, fields = len(m.group(1)), {}
        for nxt in lines[i + 1 :]:
            if not nxt.strip():
                continue
            if len(nxt) - len(nxt.lstrip()) <= indent:
                break
            kv = re.match(r"^\s*([a-z_]+):\s*(\S.*?)\s*$", nxt)
            if kv:
                fields[kv.group(1)] = kv.group(2).strip("'\"")
        out.append(fields)
    return out
