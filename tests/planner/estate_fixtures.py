"""Minimal estate JSON fixtures for the checks (planner/checks): a passing configuration per check,
which each test changes in one place to violate it."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

STACK_URN = "urn:pulumi:t::pipeline-infra::pulumi:pulumi:Stack::pipeline-infra-t"


def res(
    typ: str,
    name: str,
    inputs: dict[str, Any] | None = None,
    *,
    rid: str | None = None,
    options: dict[str, Any] | None = None,
    deps: list[str] | None = None,
    state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "urn": f"urn:pulumi:t::pipeline-infra::{typ}::{name}",
        "id": rid or f"id-{name}",
        "type": typ,
        "name": name,
        "parent": STACK_URN,
        "custom": True,
        "inputs": inputs or {},
        "dependencies": deps or [],
        "options": options or {},
        **({"state": state} if state else {}),
    }


def stack(name: str, resources: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "stack": name,
        "environment": extra.pop("environment", "prod"),
        "resources": resources,
        "outputs": extra.pop("outputs", {}),
        "reads": extra.pop("reads", []),
        "dr": None,
        "traffic": None,
        "network_cidr": extra.pop("network_cidr", "10.10.0.0/16"),
        "environment_stack": None,
        **extra,
    }


def estate(
    *stacks: dict[str, Any], graph: dict[str, list[str]] | None = None, documented: list[str] | None = None
) -> dict[str, Any]:
    return {
        "stacks": {s["stack"]: s for s in stacks},
        "graph": graph or {s["stack"]: [] for s in stacks},
        "documented_order": documented or [],
        "errors": [],
    }


def user_data(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def changed(doc: dict[str, Any], fn) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    fn(out)
    return out


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
