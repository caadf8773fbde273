"""Policy as code. The rules are pure functions (policies/rules.py: one resource; policies/stack_rules.py:
one stack's resources) over policies.props.Res. The offline plan (planner.report) runs them over the
mock run; the CrossGuard pack (policies/__main__.py, PulumiPolicy.yaml) wraps the same functions for
`pulumi preview --policy-pack policies`; the estate calls the stack rules on its own resources.

Inside the pack, modules import each other relatively: the pack is loaded as this package from its
own folder, so that `pulumi policy publish` (which uploads only this folder) works."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .props import Res, from_json, from_plan
from .rules import RULES, evaluate
from .stack_rules import STACK_RULES, evaluate_stack

__all__ = ["RULES", "STACK_RULES", "Res", "catalogue", "check_all", "from_json", "from_plan", "mandatory"]


def check_all(resources: Iterable[Any]) -> list[dict[str, str]]:
    """Every resource rule and stack policy over a stack's resources (planner.runtime.Resource or Res)."""
    views = [r if isinstance(r, Res) else from_plan(r) for r in resources]
    return evaluate(views) + evaluate_stack(views)


def mandatory(violations: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    return [v for v in violations if v["enforcement"] == "mandatory"]


def catalogue() -> list[dict[str, str]]:
    """Every rule and stack policy: name, kind, enforcement, severity, source, description."""
    return [
        {
            "name": r.name,
            "kind": r.kind,
            "enforcement": r.enforcement,
            "severity": r.severity,
            "source": r.source,
            "description": r.description,
        }
        for r in (*RULES, *STACK_RULES)
    ]
