"""The fleet sizes a stack's settings ask for: capacity-plan.yaml through lib.capacity, with
the stack's profile (a promoted DR site sizes as production) and its overrides applied."""

from __future__ import annotations

from lib.capacity import ModuleSizing, size_module
from stacks.settings import StackSettings


def effective_profile(settings: StackSettings) -> str:
    assert settings.capacity is not None
    if settings.dr is not None and settings.dr.site == "dr" and settings.dr.role == "primary":
        return "production"  # DR promotion: fleets scale to the prod plan (DESIGN, DR promotion)
    return settings.capacity.profile


def fleet_sizing(settings: StackSettings) -> dict[str, ModuleSizing]:
    """min/desired/max, shape and cost per module of the stack's fleets ({} when it has none)."""
    if settings.fleets is None or settings.capacity is None:
        return {}
    cap = settings.capacity
    az_count = settings.network.az_count if settings.network else 3
    result: dict[str, ModuleSizing] = {}
    for module in settings.fleets.modules:
        sized = size_module(
            module,
            profile=effective_profile(settings),  # type: ignore[arg-type]
            horizon_months=cap.horizon_months,
            growth_factor=cap.growth_factor,
            reserved_discount=cap.reserved_discount_pct / 100,
            az_count=az_count,
        )
        override = settings.fleets.overrides.get(module)
        if override is not None:
            changes = {k: v for k, v in override.model_dump().items() if v is not None}
            if changes:
                sized = size_module_with(sized, **changes)
        result[module] = sized
    return result


def size_module_with(sized: ModuleSizing, **bounds: int) -> ModuleSizing:
    """A sizing with explicit min/desired/max; cost and AZ-loss figures follow the new desired."""
    from lib.capacity import spread

    desired = bounds.get("desired", sized.desired)
    per_az = spread(desired, len(sized.per_az))
    remaining = (desired - max(per_az)) * sized.capacity_per_instance_rps
    unit = sized.monthly_cost / sized.desired if sized.desired else 0.0
    unit_reserved_share = (sized.monthly_cost - sized.monthly_cost_reserved) / max(
        1, min(sized.min, sized.desired)
    )
    reserved = min(bounds.get("min", sized.min), desired)
    return sized.model_copy(
        update={
            **bounds,
            "per_az": per_az,
            "az_loss_headroom_pct": round(100.0 * remaining / sized.projected_peak_rps, 1),
            "monthly_cost": round(unit * desired, 2),
            "monthly_cost_reserved": round(unit * desired - unit_reserved_share * reserved, 2),
        }
    )
