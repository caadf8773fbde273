"""Run one composition function under Pulumi's mock runtime with the planner's mocks and recorder,
for areas whose whole stack cannot be planned yet (the environment stacks need every area)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from planner.mocks import PlanMocks
from planner.runtime import Plan, RecordingMonitor, _resolve_outputs
from stacks.settings import PROJECT, StackSettings


def record(settings: StackSettings, build: Callable[[], dict[str, Any]], *, stack: str) -> Plan:
    """Evaluate build() (which registers resources) as stack `stack`; exports its outputs."""
    import pulumi

    from planner.estate import references_for
    from tests.conftest import estate_of

    # StackReferences answer with the referenced stacks' own plan outputs (the estate).
    references = references_for(estate_of(), stack) if stack in estate_of().plans else None
    monitor = RecordingMonitor(PlanMocks(region=settings.region or "us-east-1", references=references))
    runtime_settings.ROOT.set(None)
    runtime_mocks.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    runtime_config.set_all_config({}, [])

    def program() -> None:
        for key, value in sorted(build().items()):
            pulumi.export(key, value)

    _sync_await(run_pulumi_func(program))
    return Plan(stack=stack, source=f"Pulumi.{stack}.yaml", settings=settings,
                resources=list(monitor.records), outputs=_resolve_outputs(), stack_urn=monitor.stack_urn,
                invoke_errors=list(monitor.mocks.invoke_errors), invokes=list(monitor.mocks.invokes))
