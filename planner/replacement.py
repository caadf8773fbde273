"""Which changes the provider or the cluster carries out as a replacement, and the diff of two plans
that tells replacements from updates (pure: resources as plan JSON, no Pulumi).

A change replaces a resource when (planner/data/force_new.yaml gives the sources):
- a property the provider marks force-new changes (the AWS provider's ForceNew attributes, the
  Kubernetes provider's immutable fields, an operator's admission rules that refuse the change);
- a property named in the resource's replaceOnChanges option changes;
- its provider changes;
- its URN changes (a new name or parent) without an alias from the old URN: Pulumi deletes the old
  resource and creates the new one.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml

from planner.checks.stateful import STATEFUL_TYPES

DATA = Path(__file__).resolve().parent / "data" / "force_new.yaml"
_INDEX = re.compile(r"\[\d+\]")


@functools.cache
def table() -> dict[str, Any]:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


def _kube_kind(typ: str) -> str | None:
    """kubernetes:apps/v1:Deployment -> apps/v1/Deployment; kubernetes:core/v1:Service -> v1/Service."""
    if not typ.startswith("kubernetes:") or typ.count(":") != 2:
        return None
    _, group_version, kind = typ.split(":")
    return f"{group_version.removeprefix('core/')}/{kind}"


def force_new(
    resource: dict[str, Any], providers: dict[str, dict[str, Any]] | None = None
) -> list[tuple[str, str]]:
    """(property path prefix, source) of every force-new property of this resource."""
    t = table()
    typ = resource["type"]
    out: list[tuple[str, str]] = []
    if typ in t["aws"]:
        entry = t["aws"][typ]
        out += [(p, entry["source"]) for p in entry["properties"]]
    kind = _kube_kind(typ)
    if kind is not None:
        k = t["kubernetes"]
        out += [(p, k["source"]) for p in k["all"]]
        out += [(p, k["source"]) for p in k["kinds"].get(kind, [])]
        mutable = k["mutable_unless_enabled"].get(kind)
        if mutable:
            provider = (providers or {}).get((resource.get("options") or {}).get("provider") or "", {})
            enabled = str((provider.get("inputs") or {}).get(mutable["provider_flag"], "")).lower() == "true"
            immutable = (resource.get("inputs") or {}).get("immutable") is True
            if immutable or not enabled:
                out += [
                    (p, f"{k['source']} ({mutable['provider_flag']} not set)") for p in mutable["properties"]
                ]
        op = t["operators"].get(kind)
        if op:
            out += [(p, op["source"]) for p in op["properties"]]
    return out


def _matches(path: str, prefix: str) -> bool:
    plain = _INDEX.sub("", path)
    return plain == prefix or plain.startswith(prefix + ".")


def replacement_reasons(
    old: dict[str, Any],
    new: dict[str, Any],
    paths: list[str],
    providers: dict[str, dict[str, Any]] | None = None,
) -> list[str]:
    """Why changing `old` into `new` (differing at `paths`) replaces the resource; empty: an update."""
    reasons = []
    for path in paths:
        for prefix, source in force_new(new, providers):
            if _matches(path, prefix):
                reasons.append(f"{path}: force-new ({source})")
                break
        else:
            roc = (new.get("options") or {}).get("replaceOnChanges") or []
            if any(p == "*" or _matches(path, p) for p in roc):
                reasons.append(f"{path}: in replaceOnChanges")
    old_provider = (old.get("options") or {}).get("provider")
    new_provider = (new.get("options") or {}).get("provider")
    # A plan from before resource options were recorded has no "options": its provider is not known.
    if "options" in old and "options" in new and old_provider != new_provider:
        reasons.append(f"provider changes from {old_provider} to {new_provider}")
    return reasons


def _paths(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b)):
            p = f"{prefix}.{k}" if prefix else str(k)
            if k not in a or k not in b:
                out.append(p)
            else:
                out.extend(_paths(a[k], b[k], p))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out.extend(_paths(x, y, f"{prefix}[{i}]"))
        return out
    return [] if a == b else [prefix or "(value)"]


def stateful(resource: dict[str, Any]) -> bool:
    return resource["type"] in STATEFUL_TYPES


def _row(r: dict[str, Any]) -> dict[str, Any]:
    return {"urn": r["urn"], "type": r["type"], "name": r["name"]}


def diff_resources(stack: str, base: list[dict[str, Any]], other: list[dict[str, Any]]) -> dict[str, Any]:
    """What `other` would create, replace, update and delete against `base` (resources as plan JSON).
    `replaced` lists resources replaced in place (force-new change) and URN changes without an alias
    (the old URN deleted, the new one created); `stateful_at_risk` every stateful resource replaced or
    deleted."""
    a = {r["urn"]: r for r in base}
    b = {r["urn"]: r for r in other}
    providers = {r["urn"]: r for r in other if r["type"].startswith("pulumi:providers:")}
    changed, replaced = [], []
    for urn in sorted(set(a) & set(b)):
        paths = _paths(a[urn].get("inputs"), b[urn].get("inputs"))
        both = "options" in a[urn] and "options" in b[urn]
        if both and (a[urn]["options"] or {}).get("provider") != (b[urn]["options"] or {}).get("provider"):
            paths.append("(provider)")
        if not paths:
            continue
        reasons = replacement_reasons(a[urn], b[urn], [p for p in paths if p != "(provider)"], providers)
        entry = {**_row(b[urn]), "paths": paths}
        if reasons:
            replaced.append({**entry, "reasons": reasons})
        else:
            changed.append(entry)
    # A new URN with an alias from an old one is the same resource: compared with it, not created.
    aliased: dict[str, str] = {}
    for r in other:
        for alias in (r.get("options") or {}).get("aliases") or []:
            if isinstance(alias, dict) and alias.get("urn") in a and r["urn"] not in a:
                aliased[r["urn"]] = alias["urn"]
    for new_urn, old_urn in sorted(aliased.items()):
        paths = _paths(a[old_urn].get("inputs"), b[new_urn].get("inputs"))
        reasons = replacement_reasons(a[old_urn], b[new_urn], paths, providers)
        if reasons:
            replaced.append({**_row(b[new_urn]), "paths": paths, "reasons": reasons})
        elif paths:
            changed.append({**_row(b[new_urn]), "paths": paths})
    created = [b[u] for u in sorted(set(b) - set(a) - set(aliased))]
    deleted = [a[u] for u in sorted(set(a) - set(b) - set(aliased.values()))]
    moved = []
    for old in list(deleted):
        match = next((n for n in created if n["type"] == old["type"] and n["name"] == old["name"]), None)
        if match is None:
            continue
        moved.append(
            {
                **_row(match),
                "paths": ["(urn)"],
                "reasons": [f"URN changes from {old['urn']} (new parent, no alias): delete and create"],
            }
        )
        created.remove(match)
        deleted.remove(old)
    replaced.extend(moved)
    at_risk = [{**_row(r), "why": "replaced"} for r in replaced if r["type"] in STATEFUL_TYPES] + [
        {**_row(r), "why": "deleted"} for r in deleted if stateful(r)
    ]
    return {
        "stack": stack,
        "created": [_row(r) for r in created],
        "replaced": sorted(replaced, key=lambda r: r["urn"]),
        "deleted": [_row(r) for r in deleted],
        "changed": changed,
        "stateful_at_risk": sorted(at_risk, key=lambda r: r["urn"]),
    }
