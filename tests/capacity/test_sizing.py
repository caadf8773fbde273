"""Fleet sizing against seed 003 Capacity Planning. Every expected figure is the seed's."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.capacity import load_plan, required_instances, size_module, spread


def test_seed_worked_example_beta_growth_1_5():
    # 003 Scaling Guidelines > Scaling Calculations: (4,000 x 1.5) / (0.7 x 1,000) = 8.6 -> 9 instances.
    s = size_module("beta", growth_factor=1.5)
    assert round(s.required_exact, 1) == 8.6
    assert s.desired == 9


@pytest.mark.parametrize(
    "module,months,low,high",
    [
        # 003 Growth Projections > Projected Requirements (at 7 % monthly growth)
        ("alpha", 6, 5, 6),
        ("beta", 6, 8, 9),
        ("alpha", 12, 8, 10),
        ("beta", 12, 12, 14),
    ],
)
def test_alpha_and_beta_inside_the_seed_projection_ranges(module, months, low, high):
    s = size_module(module, horizon_months=months)
    assert low <= s.desired <= high


def test_gamma_projection_documents_the_seed_inconsistency():
    # 003 says gamma 5-6 at 6 months, but its own figures (peak 4,000, 5,500 rec/s over 4 instances,
    # 70 % target) give 4000 x 1.07^6 / (0.7 x 1375) = 6.24 -> 7. The 12-month range (8-10) holds.
    assert size_module("gamma", horizon_months=6).desired == 7
    assert 8 <= size_module("gamma", horizon_months=12).desired <= 10


@pytest.mark.parametrize("module,baseline,prod", [("alpha", 3, 4), ("beta", 5, 6), ("gamma", 3, 4)])
def test_production_min_is_the_reserved_baseline_and_desired_never_below_the_seed_fleet(
    module, baseline, prod
):
    # 003 Cost Optimization > Reserved Capacity (3/5/3) and Compute Capacity (4/6/4 instances).
    s = size_module(module, horizon_months=0)
    assert s.min == baseline
    assert s.desired >= prod


@pytest.mark.parametrize(
    "module,count,vcpu,mem", [("alpha", 2, 4, 16), ("beta", 3, 8, 32), ("gamma", 2, 4, 16)]
)
def test_staging_is_the_seed_count_at_half_spec(module, count, vcpu, mem):
    # 003 Module Alpha/Beta/Gamma Deployment > Step 1: staging 2/3/2 instances at half of 8/16/8 vCPU,
    # 32/64/32 GiB.
    s = size_module(module, profile="staging")
    assert (s.min, s.desired, s.vcpu, s.memory_gib) == (count, count, vcpu, mem)


@pytest.mark.parametrize("module,vcpu,mem", [("alpha", 8, 32), ("beta", 16, 64), ("gamma", 8, 32)])
def test_production_shapes(module, vcpu, mem):
    s = size_module(module)
    assert (s.vcpu, s.memory_gib) == (vcpu, mem)


def test_max_is_the_twelve_month_projection():
    plan = load_plan()
    for module, m in plan.modules.items():
        expected = math.ceil(m.peak_rps * 1.07**12 / (0.70 * m.capacity_per_instance) - 1e-9)
        assert size_module(module).max == expected


def test_capacity_per_instance_from_sustained_max():
    # 003 Throughput Capacity / Compute Capacity: 8,000/4, 6,000/6, 5,500/4 rec/s per instance.
    plan = load_plan()
    assert [plan.modules[m].capacity_per_instance for m in ("alpha", "beta", "gamma")] == [2000, 1000, 1375]


def test_az_loss_headroom_beta_production():
    # 6 instances over 3 AZs -> losing one AZ leaves 4 x 1,000 rec/s = 100 % of the 4,000 rec/s peak.
    assert size_module("beta", horizon_months=0).az_loss_headroom_pct == 100.0


def test_cost_with_reserved_discount_is_lower_and_exact():
    s = size_module("alpha", horizon_months=0, reserved_discount=0.4)
    price = load_plan().prices_usd_per_hour["m6in.2xlarge"]
    assert s.monthly_cost == round(4 * price * 730, 2)
    assert s.monthly_cost_reserved == round((3 * price * 0.6 + 1 * price) * 730, 2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown module"):
        size_module("delta")
    with pytest.raises(ValueError, match="not both"):
        size_module("alpha", horizon_months=3, growth_factor=1.2)


@settings(max_examples=200, deadline=None)
@given(peak=st.floats(1, 1e6), growth=st.floats(1, 5), extra=st.floats(0, 1e5), more=st.floats(0, 2))
def test_formula_is_monotone_in_peak_and_growth(peak, growth, extra, more):
    base = required_instances(peak, growth, 0.7, 1000)
    assert required_instances(peak + extra, growth, 0.7, 1000) >= base
    assert required_instances(peak, growth + more, 0.7, 1000) >= base


@settings(max_examples=100, deadline=None)
@given(
    module=st.sampled_from(["alpha", "beta", "gamma"]),
    months=st.integers(0, 36),
    profile=st.sampled_from(["production", "staging", "warm-standby"]),
)
def test_never_below_baseline_and_bounds_ordered(module, months, profile):
    s = size_module(module, profile=profile, horizon_months=months)
    assert s.min <= s.desired <= s.max
    if profile == "production":
        assert s.min == load_plan().modules[module].reserved_baseline


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 500), azs=st.integers(1, 6))
def test_instances_spread_over_azs(n, azs):
    parts = spread(n, azs)
    assert sum(parts) == n and len(parts) == azs
    assert max(parts) - min(parts) <= 1
