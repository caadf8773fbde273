"""Bootstrap (issue 11 item 1): the StackReference graph of the committed stacks, built from their
plans, is acyclic, so each stack's first `pulumi up` reads only stacks deployed before it; every
reference is fully qualified (`<organization>/pipeline-infra/<stack>`); outputs are read with
require_output. Each check is shown failing on a violating fixture."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

from planner.report import stack_names
from planner.runtime import ORGANIZATION
from planner.stack_graph import deployment_order, graph, referenced_names, unqualified
from stacks.references import qualified
from stacks.settings import PROJECT

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plans(plan_of):
    return {stack: plan_of(stack).resources for stack in stack_names()}


def test_the_committed_stacks_deploy_in_an_order_without_cycles(plans):
    edges = graph(plans)
    # prod reads nothing (the weighted records moved to prod-traffic, which nothing reads)
    assert edges["prod"] == set() and edges["staging"] == set() and edges["local"] == set()
    assert edges["prod-blue"] == edges["prod-green"] == {"prod"}
    assert edges["prod-traffic"] == {"prod", "prod-blue", "prod-green"}
    assert edges["prod-dr"] == {"prod"}
    order = deployment_order(edges)
    for stack, reads in edges.items():
        assert all(order.index(r) < order.index(stack) for r in reads), (stack, order)
    assert order.index("prod-traffic") > max(order.index("prod-blue"), order.index("prod-green"))


def test_every_reference_is_fully_qualified_and_one_per_stack(plans):
    for stack, resources in plans.items():
        names = referenced_names(resources)
        assert unqualified(names, project=PROJECT) == [], stack
        assert all(n.startswith(f"{ORGANIZATION}/{PROJECT}/") for n in names)
        refs = [r for r in resources if r.type == "pulumi:pulumi:StackReference"]
        assert len(refs) == len(names), f"{stack} references one stack more than once"


def test_a_cycle_is_found_and_named():
    # The old design: prod read its colour stacks, which read prod.
    with pytest.raises(ValueError, match=r"cycle: prod -> prod-blue -> prod"):
        deployment_order({"prod": {"prod-blue", "prod-green"}, "prod-blue": {"prod"}, "prod-green": {"prod"}})
    with pytest.raises(ValueError, match="not committed: prod-traffic"):
        deployment_order({"prod": {"prod-traffic"}})


def test_short_and_foreign_names_are_findings():
    ref = SimpleNamespace(type="pulumi:pulumi:StackReference", inputs={"name": "prod"})
    assert unqualified(referenced_names([ref]), project=PROJECT) == ["prod"]
    assert unqualified(["acme/other-project/prod"], project=PROJECT) == ["acme/other-project/prod"]


def test_qualification_keeps_a_qualified_name_and_refuses_a_partial_one():
    assert qualified("prod", organization="acme", project=PROJECT) == f"acme/{PROJECT}/prod"
    assert qualified("acme/x/prod", organization="other", project=PROJECT) == "acme/x/prod"
    with pytest.raises(ValueError):
        qualified("acme/prod", organization="acme", project=PROJECT)


def _get_output_calls(source: str) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get_output"
    ]


def test_outputs_of_other_stacks_are_required_not_optional():
    # get_output yields None for a missing or renamed output; require_output fails the run.
    found = {
        str(path.relative_to(REPO)): lines
        for folder in ("stacks", "components")
        for path in sorted((REPO / folder).rglob("*.py"))
        if (lines := _get_output_calls(path.read_text()))
    }
    assert found == {}
    assert _get_output_calls("ref = x\nref.get_output('vpc_id')\n") == [2]
