"""Whole-program plans of the AWS stacks with each resource's dependencies recorded (the plan's own
recorder keeps inputs and parents; dependencies show that custom resources wait for their operator)."""

from __future__ import annotations

import functools
import importlib.util
import json
from typing import Any

import pytest

from planner.mocks import PlanMocks
from planner.runtime import REPO, Plan, RecordingMonitor, read_stack_file, run_plan

# The program composes these areas too; a plan needs all of them.
SIBLINGS = (
    "stacks.compose.streaming",
    "stacks.compose.observability",
    "stacks.compose.traffic",
    "stacks.compose.aws_infra",
)


def require_program() -> None:
    missing = [m for m in SIBLINGS if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the whole program is not composable yet: {', '.join(missing)} missing")


class DependencyMonitor(RecordingMonitor):
    def __init__(self, mocks: Any) -> None:
        super().__init__(mocks)
        self.dependencies: dict[str, set[str]] = {}

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        deps = set(request.dependencies)
        for prop in request.propertyDependencies.values():
            deps |= set(prop.urns)
        self.dependencies[response.urn] = deps
        return response


@functools.cache
def _plan(stack: str, overrides: str) -> tuple[Plan, dict[str, set[str]]]:
    config = read_stack_file(REPO / f"Pulumi.{stack}.yaml", stack)
    monitor = DependencyMonitor(PlanMocks(region=str(config.get("aws:region", "us-east-1"))))
    plan = run_plan(stack, json.loads(overrides), monitor=monitor)
    return plan, monitor.dependencies


def plan_with_dependencies(
    stack: str, overrides: dict[str, Any] | None = None
) -> tuple[Plan, dict[str, set[str]]]:
    require_program()
    return _plan(stack, json.dumps(overrides or {}, sort_keys=True))
