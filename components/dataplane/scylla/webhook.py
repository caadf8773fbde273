"""What Scylla Operator's validating webhook enforces on a ScyllaCluster v1 beyond its CRD schema
(pure: no Pulumi). Rules as the operator's pkg/api/scylla/validation/cluster_validation.go states them:

- rack names are unique within the datacenter;
- every rack sets cpu and memory limits, both non-zero;
- repair and backup task names are unique;
- a task's cron parses with robfig/cron (optional seconds field, descriptors such as @daily) and
  does not carry TZ/CRON_TZ (timezone has its own field); timezone only together with cron;
- a non-zero deprecated `interval` is forbidden together with `cron`;
- a repair's `intensity` parses as a float;
- on update: the datacenter name, each rack's storage and the expose options' node service and
  broadcast types do not change, and a rack with members is not removed.
"""

from __future__ import annotations

import re
from typing import Any

from lib.quantities import cron_error, quantity

_INTERVAL = re.compile(r"^(([0-9]+)(d|h|m|s))*$")










def _task_errors(kind: str, tasks: list[dict[str, Any]]) -> list[str]:
    errors: list[str] = []
    seen: set[str] = set()
    for i, task in enumerate(tasks):
        path = f"spec.{kind}[{i}]"
        if task.get("name") in seen:
            errors.append(f"{path}.name: duplicate {task.get('name')!r}")
        seen.add(task.get("name", ""))
        cron = task.get("cron")
        if cron is not None and (err := cron_error(cron)):
            errors.append(f"{path}.cron: {err}")
        if task.get("timezone") is not None and cron is None:
            errors.append(f"{path}.timezone: can't be set when cron is not specified")
        interval = task.get("interval")
        if interval is not None and cron is not None:
            if not _INTERVAL.match(interval):
                errors.append(f"{path}.interval: valid units are d, h, m, s")
            elif any(int(n) for n, _ in re.findall(r"([0-9]+)(d|h|m|s)", interval)):
                errors.append(f"{path}.interval: can't be non-zero when cron is specified")
        if kind == "repairs":
            try:
                float(task.get("intensity", ""))
            except ValueError:
                errors.append(f"{path}.intensity: must be a float")
    return errors


def webhook_errors(cluster: dict[str, Any]) -> list[str]:
    """Every rule of the operator's create validation that `cluster` breaks (empty: admitted)."""
    spec = cluster.get("spec", {})
    errors: list[str] = []
    names: set[str] = set()
    for i, rack in enumerate(spec.get("datacenter", {}).get("racks", [])):
        path = f"spec.datacenter.racks[{i}]"
        if rack.get("name") in names:
            errors.append(f"{path}.name: duplicate {rack.get('name')!r}")
        names.add(rack.get("name", ""))
        limits = (rack.get("resources") or {}).get("limits") or {}
        try:
            ok = quantity(limits.get("cpu", "0")) > 0 and quantity(limits.get("memory", "0")) > 0
        except ValueError:
            ok = False
        if not ok:
            errors.append(f"{path}.resources.limits: set cpu, memory resource limits")
    errors += _task_errors("repairs", spec.get("repairs", []))
    errors += _task_errors("backups", spec.get("backups", []))
    return errors


def _expose(spec: dict[str, Any]) -> tuple[Any, Any, Any]:
    expose = spec.get("exposeOptions") or {}
    broadcast = expose.get("broadcastOptions") or {}
    return (
        (expose.get("nodeService") or {}).get("type"),
        (broadcast.get("clients") or {}).get("type"),
        (broadcast.get("nodes") or {}).get("type"),
    )


def update_errors(new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    """The operator's update rules: what an update of `old` to `new` must not change."""
    errors = webhook_errors(new)
    ns, os_ = new.get("spec", {}), old.get("spec", {})
    if ns.get("datacenter", {}).get("name") != os_.get("datacenter", {}).get("name"):
        errors.append("spec.datacenter.name: change of datacenter name is currently not supported")
    new_racks = {r["name"]: r for r in ns.get("datacenter", {}).get("racks", [])}
    for rack in os_.get("datacenter", {}).get("racks", []):
        if rack["name"] not in new_racks:
            if rack.get("members", 0):
                errors.append(f"rack {rack['name']!r} can't be removed because it still has members")
        elif new_racks[rack["name"]].get("storage") != rack.get("storage"):
            errors.append(f"rack {rack['name']!r}: changes in storage are currently not supported")
    if _expose(ns) != _expose(os_):
        errors.append("spec.exposeOptions: node service and broadcast address types are immutable")
    return errors
