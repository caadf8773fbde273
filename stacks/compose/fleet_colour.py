"""A fleet-colour stack (prod-blue, prod-green): the alpha/beta/gamma fleets of one colour inside the
network of its environment stack, read by StackReference (fully qualified, every output required).
The environment's traffic stack (prod-traffic) reads this stack's FLEET_OUTPUTS; the environment
reads nothing of it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi

from stacks.contract import FLEET_OUTPUTS, FleetNetwork
from stacks.references import stack_reference
from stacks.settings import StackSettings


def network_from(ref: pulumi.StackReference) -> FleetNetwork:
    """FleetNetwork from the environment's outputs: every field FleetNetwork declares, read by name
    (ENVIRONMENT_OUTPUTS is the contract the environment exports)."""
    values = {f.name: ref.require_output(f.name) for f in dataclasses.fields(FleetNetwork)}
    return FleetNetwork(**values)


def build_fleet_colour(settings: StackSettings) -> dict[str, Any]:
    from stacks.compose.fleets import build_fleets

    assert settings.environment_stack is not None
    ref = stack_reference(settings.environment_stack)
    network = network_from(ref)
    outputs = build_fleets(settings, network)
    outputs["environment_stack"] = settings.environment_stack
    absent = [n for n in FLEET_OUTPUTS if n not in outputs]
    if absent:
        raise ValueError(f"fleet-colour outputs missing from build_fleets: {absent}")
    return outputs
