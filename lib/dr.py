"""The disaster-recovery figures of lib/dr.yaml (seed 004 Metrics and SLAs; seed 003 Disaster
Recovery, Runbook M.1/M.2), loaded and checked once."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).with_name("dr.yaml")
WHO = ("ic", "platform", "data")


@cache
def figures() -> dict[str, Any]:
    """lib/dr.yaml, checked: every step has an id, a seed section, an owner and a budget; the
    in-clock budgets fit the design RTO; the paths' RPOs fit the design RPO."""
    data = yaml.safe_load(DATA.read_text())
    check(data)
    return data


def check(data: dict[str, Any]) -> None:
    design = data["targets"]["design"]
    ids = [s["id"] for s in data["steps"]]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{DATA.name}: step ids repeat: {ids}")
    for step in data["steps"]:
        if not step.get("seed") or step.get("who") not in WHO or int(step.get("budget_seconds", -1)) < 0:
            raise ValueError(f"{DATA.name}: step {step.get('id')}: seed, who ({'/'.join(WHO)}) and budget")
    total = rto_budget(data)
    if total >= design["rto_seconds"]:
        raise ValueError(f"{DATA.name}: the steps' RTO budget {total} s is not below "
                         f"{design['rto_seconds']} s")
    for path in data["paths"]:
        worst = max(path["rpo_seconds"], path["fallback_rpo_seconds"])
        if worst >= design["rpo_seconds"]:
            raise ValueError(f"{DATA.name}: path {path['path']} RPO {worst} s is not below "
                             f"{design['rpo_seconds']} s")
    timeout = data["replication"]["postgres"]["archive_timeout_seconds"]
    if timeout >= design["rpo_seconds"]:
        raise ValueError(f"{DATA.name}: archive_timeout {timeout} s is not below the RPO")


def rto_budget(data: dict[str, Any] | None = None) -> int:
    """The RTO budget: the sum of the budgets of the steps on the RTO clock."""
    d = data or figures()
    return sum(int(s["budget_seconds"]) for s in d["steps"] if s.get("clock"))


def archive_timeout() -> str:
    """PostgreSQL archive_timeout of a DR pair's clusters (the WAL archive fallback's RPO)."""
    return f"{figures()['replication']['postgres']['archive_timeout_seconds']}s"
