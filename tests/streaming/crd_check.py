"""Strict CRD validation for this suite, on top of tests/support/crds.py.

tests/support/crds.py closes every schema object that lists `properties`, including the value-only
branches of `oneOf`/`anyOf` (a Kubernetes structural schema may not declare fields there: Strimzi's
trustedCertificates says "certificate or pattern", its pod volumes "one volume source"). Closed, such
a branch rejects the fields its parent declares, so every valid trustedCertificates entry fails.
This module closes the declared objects exactly as tests/support/crds.py does and leaves those
branches open; everything else (unknown fields, types, enums, required) stays strict. Once
tests/support/crds.py treats the branches the same way, validate() can be its
validate_custom_resource.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import jsonschema
import yaml

from tests.support import crds

_BRANCHES = ("oneOf", "anyOf", "allOf", "not")


def _strict(schema: Any, *, branch: bool = False) -> Any:
    if isinstance(schema, list):
        return [_strict(v, branch=branch) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "x-kubernetes-validations":
            continue
        if key in _BRANCHES:
            out[key] = _strict(value, branch=True)
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: _strict(sub) for name, sub in value.items()}
        else:
            out[key] = _strict(value)
    if isinstance(out.get("pattern"), str):
        out["pattern"] = crds._python_pattern(out["pattern"])
    if (
        not branch
        and "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@functools.cache
def _strimzi_index() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> schema for the Strimzi CRDs only (parsing every operator's CRDs with the
    pure-Python loader takes seconds; these are all this suite validates)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    index: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted((crds.crds_dir() / "strimzi").glob("*.yaml")):
        for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=loader):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
                for version in doc["spec"]["versions"]:
                    index[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return index


@functools.cache
def _validator(api_version: str, kind: str) -> Any:
    schema = _strimzi_index().get((api_version, kind))
    assert schema is not None, f"no CRD schema for {kind} {api_version}"
    strict = _strict(copy.deepcopy(schema))
    strict.setdefault("properties", {})["metadata"] = {"type": "object"}
    return jsonschema.validators.validator_for(strict)(strict)


def errors(manifest: dict[str, Any]) -> list[str]:
    validator = _validator(manifest["apiVersion"], manifest["kind"])
    found = sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in found]


def validate(manifest: dict[str, Any]) -> None:
    """Raise AssertionError listing every problem of a custom resource against its CRD (strict)."""
    problems = errors(manifest)
    if problems:
        name = (manifest.get("metadata") or {}).get("name", "?")
        raise AssertionError(
            f"{manifest['kind']} {name} is invalid against its CRD:\n  " + "\n  ".join(problems)
        )
