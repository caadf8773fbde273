"""Whole-program plans of the AWS stacks with each resource's dependencies (Resource.dependencies:
depends_on and the resources whose outputs its inputs use), to show that custom resources wait for
their operator."""

from __future__ import annotations

import functools
import json
from typing import Any

from planner.runtime import Plan, run_plan


@functools.cache
def _plan(stack: str, overrides: str) -> tuple[Plan, dict[str, set[str]]]:
    plan = run_plan(stack, json.loads(overrides))
    return plan, {r.urn: set(r.dependencies) for r in plan.resources}


def plan_with_dependencies(
    stack: str, overrides: dict[str, Any] | None = None
) -> tuple[Plan, dict[str, set[str]]]:
    return _plan(stack, json.dumps(overrides or {}, sort_keys=True))
