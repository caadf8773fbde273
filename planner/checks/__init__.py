"""Whole-platform checks over the estate plan: each a pure function of the estate's JSON (no Pulumi
imports), with a severity and an enforcement level. A mandatory check that finds anything fails
`make plan` / `make plan-all` (exit 1).

The estate JSON (planner.report.estate_json): {"order", "graph", "documented_order", "errors",
"stacks": {name: {"resources": [...], "outputs": {...}, "region", "role", "environment", "unresolved"}}}.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Estate = dict[str, Any]


@dataclass(frozen=True)
class Finding:
    check: str
    stack: str
    resource: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "stack": self.stack, "resource": self.resource, "message": self.message}


@dataclass(frozen=True)
class Check:
    name: str
    severity: str  # critical | high | medium
    enforcement: str  # mandatory | advisory
    summary: str
    run: Callable[[Estate], list[Finding]]


def registry() -> list[Check]:
    from planner.checks import (
        name_resolution,
        observability,
        order,
        permissions,
        reachability,
        scheduling,
        stateful,
        traffic,
    )

    return [
        order.CHECK,
        stateful.CHECK,
        scheduling.CHECK,
        name_resolution.CHECK,
        permissions.CHECK,
        reachability.CHECK,
        observability.CHECK,
        observability.IDLE,
        traffic.CHECK,
    ]


def run_checks(estate: Estate, checks: list[Check] | None = None) -> list[dict[str, Any]]:
    """Every check's result: name, severity, enforcement, passed, findings."""
    results = []
    for check in checks or registry():
        findings = sorted(check.run(estate), key=lambda f: (f.stack, f.resource, f.message))
        results.append(
            {
                "check": check.name,
                "severity": check.severity,
                "enforcement": check.enforcement,
                "summary": check.summary,
                "passed": not findings,
                "findings": [f.to_json() for f in findings],
            }
        )
    return results


def failed_mandatory(results: list[dict[str, Any]]) -> list[str]:
    return [r["check"] for r in results if r["enforcement"] == "mandatory" and not r["passed"]]


def result_word(r: dict[str, Any]) -> str:
    """pass; FAIL (a mandatory check found something: the command fails); warn (an advisory one)."""
    if r["passed"]:
        return "pass"
    return "FAIL" if r["enforcement"] == "mandatory" else "warn"


def table(results: list[dict[str, Any]]) -> str:
    lines = [f"  {'check':20} {'severity':9} {'enforcement':11} {'result':6} findings"]
    for r in results:
        lines.append(
            f"  {r['check']:20} {r['severity']:9} {r['enforcement']:11} "
            f"{result_word(r):6} {len(r['findings'])}"
        )
    for r in results:
        for f in r["findings"]:
            lines.append(
                f"  [{r['enforcement']}] {r['check']}: {f['stack']}: {f['resource']}: {f['message']}"
            )
    return "\n".join(lines) + "\n"
