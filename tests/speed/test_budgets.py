"""The speed benchmark covers every committed stack: a stack added without a budget is never measured."""

from benchmarks.__main__ import BUDGETS
from planner.report import stack_names


def test_every_committed_stack_has_a_plan_budget():
    assert set(BUDGETS["plan"]) == set(stack_names())


def test_budgets_are_positive_seconds():
    figures = [*BUDGETS["plan"].values(), BUDGETS["plan-all"]]
    assert all(isinstance(f, (int, float)) and f > 0 for f in figures), figures
