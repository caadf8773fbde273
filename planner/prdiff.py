"""The estate diff a pull request gets as one comment: created, replaced and deleted resources per
stack, the stateful resources at risk, check results, capacity and cost changes, all offline (no
credentials: a pull request from a fork gets the same review). `python -m planner estate-diff --base
<dir-or-git-ref>`; the workflow .github/workflows/estate-diff.yml posts it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from planner.checks import result_word
from planner.replacement import diff_resources

MARKER = "<!-- pipeline-infra:estate-diff -->"


def base_estate(base: str, repo: Path) -> dict[str, Any]:
    """The estate JSON of the base: a checkout folder, or a git ref of `repo` (exported with git
    archive). Evaluated by the base's own planner in a subprocess (its code, its stack files)."""
    folder = Path(base)
    if folder.is_dir():
        return _plan_all(folder)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "base.tar"
        with archive.open("wb") as out:
            subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", base], stdout=out, check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(Path(tmp) / "tree", filter="data")
        return _plan_all(Path(tmp) / "tree")


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.run(
        [sys.executable, "-m", "planner", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _plan_all(folder: Path) -> dict[str, Any]:
    proc = _run(folder, "plan-all", "--format", "json")
    if proc.returncode in (0, 1) and proc.stdout.lstrip().startswith("{"):
        return json.loads(proc.stdout)
    # A base from before the estate: one plan per stack file, without checks.
    stacks = {}
    for path in sorted(folder.glob("Pulumi.*.yaml")):
        name = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        one = _run(folder, "plan", "--stack", name, "--format", "json")
        if one.returncode not in (0, 1) or not one.stdout.lstrip().startswith("{"):
            raise RuntimeError(f"base plan of {name} failed: {one.stderr.strip()[-500:]}")
        doc = json.loads(one.stdout)
        stacks[name] = {"resources": doc["resources"], "capacity": doc.get("capacity", {})}
    return {"stacks": stacks, "checks": None, "errors": []}


def _cost(capacity: dict[str, Any]) -> float:
    return round(sum(float(row.get("monthly_cost") or 0) for row in (capacity or {}).values()), 2)


def _findings(checks: list[dict[str, Any]] | None) -> set[tuple[str, str, str, str]]:
    return {
        (c["check"], f["stack"], f["resource"], f["message"]) for c in checks or [] for f in c["findings"]
    }


def estate_diff(base: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    stacks = {}
    for name in sorted(set(base["stacks"]) | set(head["stacks"])):
        old = base["stacks"].get(name) or {"resources": [], "capacity": {}}
        new = head["stacks"].get(name) or {"resources": [], "capacity": {}}
        d = diff_resources(name, old["resources"], new["resources"])
        capacity = {}
        for module in sorted(set(old.get("capacity") or {}) | set(new.get("capacity") or {})):
            a, b = (old.get("capacity") or {}).get(module, {}), (new.get("capacity") or {}).get(module, {})
            keys = ("instance_type", "min", "desired", "max", "monthly_cost")
            if any(a.get(k) != b.get(k) for k in keys):
                capacity[module] = {"base": {k: a.get(k) for k in keys}, "head": {k: b.get(k) for k in keys}}
        d["capacity"] = capacity
        d["monthly_cost"] = {"base": _cost(old.get("capacity")), "head": _cost(new.get("capacity"))}
        d["added_stack"] = name not in base["stacks"]
        d["removed_stack"] = name not in head["stacks"]
        stacks[name] = d
    base_f, head_f = _findings(base.get("checks")), _findings(head.get("checks"))
    return {
        "stacks": stacks,
        "checks": head.get("checks") or [],
        "new_findings": sorted(head_f - base_f) if base.get("checks") is not None else None,
        "fixed_findings": sorted(base_f - head_f) if base.get("checks") is not None else None,
        "errors": head.get("errors") or [],
    }


def markdown(d: dict[str, Any], base_label: str) -> str:
    lines = [
        MARKER,
        f"### Estate plan against `{base_label}` (offline: the program under the mock runtime, "
        "nothing deployed)",
        "",
    ]
    lines.append("| stack | create | replace | update | delete | stateful at risk | $/month (base → head) |")
    lines.append("|---|---:|---:|---:|---:|---:|---|")
    for name, s in d["stacks"].items():
        cost = s["monthly_cost"]
        delta = "" if cost["base"] == cost["head"] else f" ({cost['head'] - cost['base']:+,.2f})"
        flag = " (new stack)" if s["added_stack"] else " (removed)" if s["removed_stack"] else ""
        lines.append(
            f"| {name}{flag} | {len(s['created'])} | {len(s['replaced'])} | {len(s['changed'])} | "
            f"{len(s['deleted'])} | {len(s['stateful_at_risk'])} | "
            f"{cost['base']:,.2f} → {cost['head']:,.2f}{delta} |"
        )
    risky = [(n, r) for n, s in d["stacks"].items() for r in s["stateful_at_risk"]]
    if risky:
        lines += ["", "**Stateful resources that would be replaced or deleted**", ""]
        lines += [f"- `{n}`: {r['name']} `{r['type']}` ({r['why']})" for n, r in risky]
    for name, s in d["stacks"].items():
        if not (s["created"] or s["replaced"] or s["deleted"] or s["capacity"]):
            continue
        lines += ["", f"<details><summary>{name}</summary>", ""]
        lines += [f"- create `{r['name']}` `{r['type']}`" for r in s["created"]]
        for r in s["replaced"]:
            lines.append(f"- **replace** `{r['name']}` `{r['type']}`: {'; '.join(r['reasons'])}")
        lines += [f"- delete `{r['name']}` `{r['type']}`" for r in s["deleted"]]
        for module, c in s["capacity"].items():
            a, b = c["base"], c["head"]
            lines.append(
                f"- capacity {module}: {a['instance_type']} {a['min']}/{a['desired']}/{a['max']} → "
                f"{b['instance_type']} {b['min']}/{b['desired']}/{b['max']}"
            )
        lines += ["", "</details>"]
    lines += [
        "",
        "**Checks**",
        "",
        "| check | severity | enforcement | result | findings |",
        "|---|---|---|---|---:|",
    ]
    for c in d["checks"]:
        lines.append(
            f"| {c['check']} | {c['severity']} | {c['enforcement']} | "
            f"{result_word(c)} | {len(c['findings'])} |"
        )
    if d["new_findings"] is not None:
        lines += ["", f"{len(d['new_findings'])} new finding(s), {len(d['fixed_findings'])} fixed."]
        lines += [f"- new: {c} `{s}` {r}: {m}" for c, s, r, m in d["new_findings"][:30]]
        lines += [f"- fixed: {c} `{s}` {r}: {m}" for c, s, r, m in d["fixed_findings"][:30]]
    if d["errors"]:
        lines += ["", "**Estate errors**", ""] + [f"- [{e['kind']}] {e['message']}" for e in d["errors"]]
    return "\n".join(lines) + "\n"
