"""Strict validation of custom resources against the CRD schemas of the pinned operators.

The CRD files are the operators' own (unmodified upstream copies); their folder comes from the
PIPELINE_INFRA_CRDS environment variable, default ../shared/crds beside the repository. Tests only:
nothing at run time reads that folder.

Strict means what `kubeconform -strict` means: a field the schema does not declare is an error,
because a cluster silently prunes it (none of the upstream schemas sets additionalProperties: false,
so plain jsonschema would accept any misspelling).
"""

from __future__ import annotations

import copy
import functools
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CRDS = REPO.parent / "shared" / "crds"


def crds_dir() -> Path:
    """The CRD folder; skips the test (fails in CI) when it is absent."""
    path = Path(os.environ.get("PIPELINE_INFRA_CRDS") or DEFAULT_CRDS)
    if not path.is_dir():
        message = f"CRD schemas not found at {path} (set PIPELINE_INFRA_CRDS)"
        if os.environ.get("PIPELINE_INFRA_REQUIRE_ENGINES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


# The C loader where PyYAML has it: the CRD files are megabytes; the pure-Python parser takes seconds.
class _CRDLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


# A bare `=` resolves to tag:yaml.org,2002:value, which PyYAML cannot construct (yaml/pyyaml#89).
_CRDLoader.add_constructor("tag:yaml.org,2002:value", _CRDLoader.construct_yaml_str)

# Go RE2 accepts an inline (?i) in the middle of a pattern; Python's re only at the start.
_INLINE_I = re.compile(r"(?<!^)\(\?i\)")


def _python_pattern(pattern: str) -> str:
    if _INLINE_I.search(pattern):
        return "(?i)" + _INLINE_I.sub("", pattern)
    return pattern


# Value-only branches: a structural schema may not declare fields inside them (Strimzi's
# trustedCertificates says "certificate or pattern" there), so closing them would reject the fields
# their parent declares.
_BRANCHES = ("oneOf", "anyOf", "allOf", "not")


def _strict(schema: Any, *, branch: bool = False) -> Any:
    """Close every object schema that declares its properties (not the value-only branches), and make
    RE2 patterns Python's."""
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
            out[key] = _strict(value, branch=branch and key not in ("items", "additionalProperties"))
    if isinstance(out.get("pattern"), str):
        out["pattern"] = _python_pattern(out["pattern"])
    if (
        not branch
        and "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@functools.cache
def _index(folder: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the version's openAPIV3Schema, for every CRD file in the folder."""
    index: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(Path(folder).rglob("*.yaml")):
        with open(path, encoding="utf-8") as fh:
            for doc in yaml.load_all(fh, Loader=_CRDLoader):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
                for version in doc["spec"]["versions"]:
                    index[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return index


@functools.cache
def _validator(folder: str, api_version: str, kind: str) -> jsonschema.protocols.Validator:
    schema = _index(folder).get((api_version, kind))
    if schema is None:
        known = sorted(f"{k} {v}" for v, k in _index(folder))
        raise AssertionError(f"no CRD schema for {kind} {api_version} in {folder}; known: {', '.join(known)}")
    strict = _strict(copy.deepcopy(schema))
    # metadata is validated by the API server, not the CRD: keep it open.
    strict.setdefault("properties", {})["metadata"] = {"type": "object"}
    cls = jsonschema.validators.validator_for(strict)
    return cls(strict)


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    """Every problem of a custom resource against its CRD schema, as 'path: message' lines."""
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    if not api_version or not kind:
        return ["manifest has no apiVersion or kind"]
    validator = _validator(str(crds_dir()), api_version, kind)
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]


def validate_custom_resource(manifest: dict[str, Any]) -> None:
    """Raise AssertionError listing every schema problem of a custom resource (strict)."""
    errors = schema_errors(manifest)
    if errors:
        name = (manifest.get("metadata") or {}).get("name", "?")
        raise AssertionError(
            f"{manifest.get('kind')} {name} is invalid against its CRD:\n  " + "\n  ".join(errors)
        )


def known_kinds() -> set[tuple[str, str]]:
    """(apiVersion, kind) pairs the CRD folder has schemas for."""
    return set(_index(str(crds_dir())))
