"""The committed stacks through the policies: the offline plan's findings are exactly the pinned ones
(tests/policies/current_findings.yaml), and the pack served by pulumi-policy's analyzer finds the same
over gRPC, sent as an `up` sends them; as a `preview` of a new stack sends them (every input computed
from another resource unknown) it finds a subset, and never gives up on a resource or a stack."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from planner.report import stack_names
from planner.runtime import run_plan
from policies import check_all, mandatory
from tests.policies.analyzer import from_plan

PINNED = yaml.safe_load((Path(__file__).parent / "current_findings.yaml").read_text(encoding="utf-8"))
STACKS = stack_names()


@pytest.fixture(scope="module")
def plans():
    cache: dict = {}

    def get(stack):
        if stack not in cache:
            cache[stack] = run_plan(stack)
        return cache[stack]

    return get


def key(policy: str, urn: str) -> str:
    return f"{policy} {urn.split('::')[-1] if urn else '(stack)'}"


def test_every_committed_stack_is_pinned():
    assert sorted(PINNED) == STACKS


@pytest.mark.parametrize("stack", STACKS)
def test_mandatory_findings_are_the_pinned_ones(stack, plans):
    found = sorted({key(v["policy"], v["urn"]) for v in mandatory(check_all(plans(stack).resources))})
    assert found == sorted(PINNED[stack] or [])


@pytest.mark.parametrize("stack", STACKS)
def test_the_analyzer_agrees_with_the_offline_plan(stack, plans, analyzer):
    plan = plans(stack)
    offline = {(v["policy"], v["urn"], v["message"]) for v in check_all(plan.resources)}
    sent = [from_plan(r) for r in plan.resources]
    results = {}
    for preview in (False, True):
        diags = [d for r in sent for d in analyzer.analyze(r, preview)] + analyzer.analyze_stack(
            sent, preview
        )
        assert [d.message for d in diags if "during preview" in d.message] == []
        results[preview] = {(d.policy, d.urn, d.message) for d in diags}
    assert results[False] == offline
    assert results[True] <= offline
