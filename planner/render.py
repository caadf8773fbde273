"""Write the artifacts a plan declares, for the real validators that consume them: Kubernetes
manifests (one document per resource), Helm values, Prometheus rule files, the Alertmanager config,
ConfigMap files (dashboards, SQL), cloud-init user-data and Docker container files. Each file is
named after its resource. Secrets are "[secret]" in the plan, so they are never written.

Every rendered manifest is a valid object as written (the tests validate the files themselves): a
Secret has its keys with the value "[secret]", an object Pulumi names itself (no metadata.name) is
written with the name the plan gives it, and a read of an existing object (a `.get`, no inputs) is not
a document at all, so it is not written."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
from pathlib import Path
from typing import Any

import yaml

from planner.runtime import Plan, Resource

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(name: str) -> str:
    return _SAFE.sub("_", name).strip("_") or "unnamed"


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def _yaml(doc: Any) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120)


def _write(root: Path, rel: str, text: str, written: list[Path]) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    written.append(path)


def _get(doc: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def _kubernetes(r: Resource, root: Path, written: list[Path]) -> None:
    inputs = r.inputs
    if r.type == "kubernetes:helm.sh/v3:Release":
        header = (f"# Helm release {inputs.get('name') or r.name}: chart {inputs.get('chart')} "
                  f"{inputs.get('version')} from {_get(inputs, 'repositoryOpts', 'repo') or ''}\n")
        values = inputs.get("values") or {}
        _write(root, f"helm/{_safe(r.name)}.values.yaml", header + _yaml(values), written)
        am = _get(values, "alertmanager", "config")
        if isinstance(am, dict):
            _write(root, f"alertmanager/{_safe(r.name)}.yml", _yaml(am), written)
        return
    manifest = {k: v for k, v in inputs.items() if not k.startswith("__")}
    if not manifest.get("apiVersion") or not manifest.get("kind"):
        return  # a read of an existing object: nothing is declared
    metadata = dict(manifest.get("metadata") or {})
    if not metadata.get("name"):
        # Auto-named: the plan's name for it (Pulumi appends a random suffix when it creates it).
        metadata["name"] = r.name
    manifest["metadata"] = metadata
    _write(root, f"kubernetes/{_safe(r.name)}.yaml", _yaml(manifest), written)
    kind = inputs.get("kind")
    if kind == "PrometheusRule":
        groups = _get(inputs, "spec", "groups") or []
        _write(root, f"prometheus/{_safe(r.name)}.rules.yml", _yaml({"groups": groups}), written)
    if kind in ("ConfigMap", "Secret"):
        for field in ("data", "stringData"):
            data = inputs.get(field)
            if not isinstance(data, dict):
                continue
            for key, value in data.items():
                if not isinstance(value, str) or value == "[secret]":
                    continue
                if field == "data" and kind == "Secret":
                    continue  # base64 of a secret value: never written
                _write(root, f"files/{_safe(r.name)}/{_safe(key)}", value, written)
                if key in ("alertmanager.yaml", "alertmanager.yml"):
                    _write(root, f"alertmanager/{_safe(r.name)}.yml", value, written)


def _cloud_init(r: Resource, root: Path, written: list[Path]) -> None:
    data = r.inputs.get("userData")
    if not isinstance(data, str) or data == "[secret]":
        return
    try:
        raw = base64.b64decode(data, validate=True)
        if raw[:2] == b"\x1f\x8b":  # gzip-compressed user data (cloud-init decompresses it)
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, OSError):
        text = data
    _write(root, f"cloud-init/{_safe(r.name)}.yaml", text, written)


def _docker(r: Resource, root: Path, written: list[Path]) -> None:
    inputs = r.inputs
    spec = {k: v for k, v in inputs.items() if k != "uploads"}
    _write(root, f"docker/{_safe(r.name)}.json", json.dumps(spec, indent=2, sort_keys=True) + "\n", written)
    for upload in inputs.get("uploads") or []:
        content = upload.get("content")
        if isinstance(content, str) and content != "[secret]":
            _write(root, f"docker/{_safe(r.name)}/{upload['file'].lstrip('/')}", content, written)


def render(plan: Plan, out_dir: str | Path) -> list[Path]:
    root = Path(out_dir)
    written: list[Path] = []
    for r in plan.resources:
        if not r.custom:
            continue
        if r.type.startswith("kubernetes:") and r.type != "pulumi:providers:kubernetes":
            _kubernetes(r, root, written)
        elif r.type == "aws:ec2/launchTemplate:LaunchTemplate":
            _cloud_init(r, root, written)
        elif r.type == "docker:index/container:Container":
            _docker(r, root, written)
    return written
