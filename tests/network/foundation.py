"""Plans of the AWS foundation for the network, cluster and backups tests.

The tests use the `plan_of` fixture (the whole program per stack, cached per session).
`foundation_plan(stack, overrides)` serves configurations `plan_of` cannot cache (overrides holding
mappings, such as a secret `{"secure": ...}` value): it runs the whole program too
(planner.runtime.run_plan) and, should another area's module be missing, the stack's settings through
build_aws_infra alone under the same mock runtime and recorder. Either way the result is a
planner.runtime.Plan with every resource and its resolved inputs.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from planner.mocks import PlanMocks
from planner.runtime import (
    REPO,
    Plan,
    RecordingMonitor,
    _resolve_outputs,
    apply_overrides,
    read_stack_file,
    run_plan,
    to_runtime_config,
)
from stacks.settings import PROJECT, StackSettings, load_settings

AWS_STACKS = ("staging", "prod", "prod-dr")


def _foundation_only(stack: str, overrides: dict[str, Any]) -> Plan:
    source = f"Pulumi.{stack}.yaml"
    config = apply_overrides(read_stack_file(REPO / source, source), overrides)
    flat, secret_keys = to_runtime_config(config)
    monitor = RecordingMonitor(PlanMocks(region=flat.get("aws:region") or "us-east-1"))
    runtime_settings.ROOT.set(None)
    runtime_mocks.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    runtime_config.set_all_config(flat, secret_keys)
    holder: dict[str, StackSettings] = {}

    def program() -> None:
        from stacks.compose.aws_infra import build_aws_infra
        from stacks.contract import ENVIRONMENT_OUTPUTS

        settings = load_settings(flat, source=source, secret_keys=secret_keys, offline=True)
        holder["settings"] = settings
        infra = build_aws_infra(settings)
        for name in ENVIRONMENT_OUTPUTS:
            pulumi.export(name, getattr(infra.network, name))

    _sync_await(run_pulumi_func(program))
    return Plan(
        stack=stack,
        source=source,
        settings=holder["settings"],
        resources=list(monitor.records),
        outputs=_resolve_outputs(),
        stack_urn=monitor.stack_urn,
        extra={"foundation_only": True},
    )


@functools.cache
def _cached(stack: str, overrides_json: str) -> Plan:
    overrides = json.loads(overrides_json)
    try:
        return run_plan(stack, overrides)
    except ModuleNotFoundError:
        # Another area's module is not there yet: plan the foundation alone.
        return _foundation_only(stack, overrides)


def foundation_plan(stack: str, overrides: dict[str, Any] | None = None) -> Plan:
    return _cached(stack, json.dumps(overrides or {}, sort_keys=True))


def names_by_id(plan: Plan, typ: str) -> dict[str, str]:
    return {r.id: r.name for r in plan.of_type(typ)}


def in_component(plan: Plan, resource: Any, component_type: str) -> bool:
    """Whether `resource` is (transitively) a child of a component of `component_type`."""
    by_urn = {r.urn: r for r in plan.resources}
    parent = resource.parent
    while parent:
        owner = by_urn.get(parent)
        if owner is None:
            return False
        if owner.type == component_type:
            return True
        parent = owner.parent
    return False
