"""The golden plans: every committed stack's plan JSON and rendered artifacts equal the files under
tests/golden. A refactor must leave them byte-identical; a feature rewrites them on purpose with
`make golden`, and the diff of tests/golden shows reviewers what the change declares."""

from __future__ import annotations

import difflib

import pytest

from planner.golden import committed_files, files_of
from planner.report import stack_names

STACKS = stack_names()


def test_every_committed_stack_has_golden_files():
    assert STACKS == ["local", "prod", "prod-blue", "prod-dr", "prod-green", "prod-traffic", "staging"]
    missing = [s for s in STACKS if f"plans/{s}.json" not in committed_files(s)]
    assert not missing, f"no golden plan for {missing}: run make golden"


@pytest.mark.parametrize("stack", STACKS)
def test_plan_and_renders_equal_the_golden_files(plan_of, stack):
    actual = files_of(plan_of(stack))
    expected = committed_files(stack)
    added = sorted(set(actual) - set(expected))
    removed = sorted(set(expected) - set(actual))
    changed = sorted(k for k in set(actual) & set(expected) if actual[k] != expected[k])
    if added or removed or changed:
        first = changed[0] if changed else None
        excerpt = (
            "".join(
                list(
                    difflib.unified_diff(
                        expected[first].splitlines(keepends=True),
                        actual[first].splitlines(keepends=True),
                        f"golden/{first}",
                        f"plan/{first}",
                        n=1,
                    )
                )[:40]
            )
            if first
            else ""
        )
        pytest.fail(
            f"{stack}: the plan differs from tests/golden (run `make golden` if the change is meant): "
            f"{len(added)} new {added[:5]}, {len(removed)} gone {removed[:5]}, "
            f"{len(changed)} changed {changed[:5]}\n{excerpt}"
        )


def test_two_evaluations_of_a_stack_are_byte_identical(plan_of):
    """Determinism: resources sorted by URN, mapping keys sorted (two runs of prod differed before)."""
    from planner.estate import evaluate

    first, second = files_of(plan_of("prod")), files_of(evaluate(["prod"]).plans["prod"])
    assert first == second
    assert len(first) > 50  # the plan JSON plus the rendered manifests, rules, dashboards, cloud-init
