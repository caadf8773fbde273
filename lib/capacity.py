"""Fleet sizing from the capacity plan of seed 003. Pure: no Pulumi, no I/O beyond reading the plan.

instances = ceil(peak x growth / (target_utilisation x capacity_per_instance)),
growth    = (1 + monthly_growth) ** months.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

PLAN_FILE = Path(__file__).resolve().parent.parent / "capacity-plan.yaml"

Profile = Literal["production", "staging", "warm-standby"]

# Rounding guard: 8.000000000001 instances is 8, not 9.
_EPSILON = 1e-9


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Shape(_Model):
    vcpu: int = Field(gt=0)
    memory_gib: int = Field(gt=0)
    family: str
    instance_type: str


class StagingShape(_Model):
    instances: int = Field(gt=0)
    vcpu: int = Field(gt=0)
    memory_gib: int = Field(gt=0)
    instance_type: str


class DataVolume(_Model):
    purpose: str
    size_gib: int = Field(gt=0)
    type: Literal["gp3", "io2"]
    iops: int | None = None


class ModulePlan(_Model):
    role: str
    peak_rps: float = Field(gt=0)
    sustained_max_rps: float = Field(gt=0)
    sustained_max_instances: int = Field(gt=0)
    production_instances: int = Field(gt=0)
    reserved_baseline: int = Field(gt=0)
    projection_6m: tuple[int, int]
    projection_12m: tuple[int, int]
    shape: Shape
    staging: StagingShape
    data_volume: DataVolume

    @property
    def capacity_per_instance(self) -> float:
        return self.sustained_max_rps / self.sustained_max_instances


class CapacityPlan(_Model):
    source: str
    monthly_growth: float = Field(ge=0, lt=1)
    target_utilisation: float = Field(gt=0, le=1)
    max_horizon_months: int = Field(gt=0)
    hours_per_month: int = Field(gt=0)
    modules: dict[Literal["alpha", "beta", "gamma"], ModulePlan]
    warm_standby: dict[Literal["alpha", "beta", "gamma"], int]
    prices_usd_per_hour: dict[str, float]

    def growth(self, months: float) -> float:
        return (1 + self.monthly_growth) ** months


class ModuleSizing(_Model):
    """What a fleet of one module gets: ASG bounds, shape, resilience and cost."""

    module: str
    profile: Profile
    growth_factor: float
    projected_peak_rps: float
    capacity_per_instance_rps: float
    required_exact: float
    min: int
    desired: int
    max: int
    instance_type: str
    vcpu: int
    memory_gib: int
    data_volume_gib: int
    per_az: tuple[int, ...]
    az_loss_headroom_pct: float
    monthly_cost: float
    monthly_cost_reserved: float


@cache
def load_plan(path: Path = PLAN_FILE) -> CapacityPlan:
    with open(path, encoding="utf-8") as fh:
        return CapacityPlan.model_validate(yaml.safe_load(fh))


def required_instances(
    peak: float, growth: float, target_utilisation: float, capacity_per_instance: float
) -> int:
    """The seed's formula, rounded up (003 Scaling Guidelines > Scaling Calculations)."""
    exact = peak * growth / (target_utilisation * capacity_per_instance)
    return max(1, math.ceil(exact - _EPSILON))


def spread(instances: int, az_count: int) -> tuple[int, ...]:
    """Instances per AZ as an Auto Scaling group balances them: as even as possible."""
    base, extra = divmod(instances, az_count)
    return tuple(base + (1 if i < extra else 0) for i in range(az_count))


def size_module(
    module: str,
    *,
    profile: Profile = "production",
    horizon_months: float | None = None,
    growth_factor: float | None = None,
    reserved_discount: float = 0.30,
    az_count: int = 3,
    plan: CapacityPlan | None = None,
) -> ModuleSizing:
    """Size one module's fleet.

    production: min = reserved baseline, desired = formula at the horizon but never below the seed's
    production fleet, max = the 12-month projection (or the horizon's, if further).
    staging: the seed's staging counts at half spec; max leaves room for one more of each AZ.
    warm-standby: the plan's warm-standby counts at production shape (DR site).
    """
    plan = plan or load_plan()
    if module not in plan.modules:
        raise ValueError(f"unknown module {module!r}; allowed: {', '.join(plan.modules)}")
    if horizon_months is not None and growth_factor is not None:
        raise ValueError("give a horizon in months or an explicit growth factor, not both")
    if not 0 <= reserved_discount < 1:
        raise ValueError("reserved_discount must be in [0, 1)")
    m = plan.modules[module]
    months = 0.0 if horizon_months is None else float(horizon_months)
    growth = growth_factor if growth_factor is not None else plan.growth(months)
    if growth < 1:
        raise ValueError("growth factor must be at least 1.0")
    cap = m.capacity_per_instance
    projected = m.peak_rps * growth
    exact = projected / (plan.target_utilisation * cap)
    formula = required_instances(m.peak_rps, growth, plan.target_utilisation, cap)
    max_months = max(plan.max_horizon_months, months)
    at_max = required_instances(m.peak_rps, plan.growth(max_months), plan.target_utilisation, cap)

    if profile == "production":
        minimum = m.reserved_baseline
        desired = max(formula, m.production_instances, minimum)
        maximum = max(at_max, desired)
        instance_type, vcpu, mem = m.shape.instance_type, m.shape.vcpu, m.shape.memory_gib
    elif profile == "staging":
        minimum = desired = m.staging.instances
        maximum = desired + az_count
        instance_type, vcpu, mem = m.staging.instance_type, m.staging.vcpu, m.staging.memory_gib
    else:
        minimum = desired = plan.warm_standby[module]
        maximum = max(at_max, desired)
        instance_type, vcpu, mem = m.shape.instance_type, m.shape.vcpu, m.shape.memory_gib

    per_az = spread(desired, az_count)
    remaining = (desired - max(per_az)) * cap
    headroom = round(100.0 * remaining / projected, 1)
    price = plan.prices_usd_per_hour[instance_type]
    hours = plan.hours_per_month
    on_demand = desired * price * hours
    reserved = min(minimum, desired)
    with_reserved = (reserved * price * (1 - reserved_discount) + (desired - reserved) * price) * hours
    return ModuleSizing(
        module=module,
        profile=profile,
        growth_factor=round(growth, 4),
        projected_peak_rps=round(projected, 1),
        capacity_per_instance_rps=cap,
        required_exact=round(exact, 2),
        min=minimum,
        desired=desired,
        max=maximum,
        instance_type=instance_type,
        vcpu=vcpu,
        memory_gib=mem,
        data_volume_gib=m.data_volume.size_gib,
        per_az=per_az,
        az_loss_headroom_pct=headroom,
        monthly_cost=round(on_demand, 2),
        monthly_cost_reserved=round(with_reserved, 2),
    )
