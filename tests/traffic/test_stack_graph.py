"""Bootstrap (issue 11 item 1): the StackReference graph of the committed stacks, as the estate builds
it from their settings and verifies against their plans, is acyclic and the README deploys the stacks
in its order, so each stack's first `pulumi up` reads only stacks deployed before it; every reference
is fully qualified (`<organization>/pipeline-infra/<stack>`, the organisation the stack is deployed
in); outputs are read with require_output. Each check is shown failing on a violating fixture (the
order check's own fixtures: tests/planner/test_checks.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from planner.checks import order
from planner.estate import evaluate
from planner.graph import deployment_order
from planner.report import documented_order, estate_json
from stacks.references import qualified
from stacks.settings import PROJECT
from tests.conftest import estate_of

REPO = Path(__file__).resolve().parents[2]


def test_the_committed_stacks_deploy_in_an_order_without_cycles():
    estate = estate_of()
    edges = {stack: set(refs) for stack, refs in estate.graph.items()}
    # prod reads nothing (the weighted records moved to prod-traffic, which nothing reads)
    assert edges["prod"] == set() and edges["staging"] == set() and edges["local"] == set()
    assert edges["prod-blue"] == edges["prod-green"] == {"prod"}
    assert edges["prod-traffic"] == {"prod", "prod-blue", "prod-green"}
    assert edges["prod-dr"] == {"prod"}
    assert not [e for e in estate.errors if e.kind in ("cycle", "unknown-stack", "unpredicted-reference")]
    assert estate.cycles == [] and estate.unresolved == {}
    assert deployment_order(estate.graph) is not None
    # the README's production order is one of the graph's orders
    assert documented_order() == ["prod", "prod-blue", "prod-green", "prod-traffic", "prod-dr"]
    assert order.run(estate_json(estate)) == []


def test_the_old_graph_and_a_readme_deploying_the_traffic_stack_first_fail_the_order_check():
    data = estate_json(estate_of())
    data["graph"] = {**data["graph"], "prod": ["prod-blue", "prod-green"]}  # prod read its colours
    assert any("cycle prod -> prod-blue -> prod" in f.message for f in order.run(data))
    data = estate_json(estate_of(), documented=["prod", "prod-traffic", "prod-blue", "prod-green", "prod-dr"])
    messages = [f.message for f in order.run(data)]
    assert "README deploys prod-traffic before prod-blue, which prod-traffic references" in messages


def test_every_reference_is_fully_qualified_and_one_per_stack():
    for stack, plan in estate_of().plans.items():
        refs = [str(r.inputs["name"]) for r in plan.of_type("pulumi:pulumi:StackReference")]
        assert all(n.startswith(f"organization/{PROJECT}/") for n in refs), (stack, refs)
        assert len(refs) == len(set(refs)), f"{stack} references one stack more than once"
        assert all(read["stack"] in refs for read in plan.reads), stack


def test_references_name_the_deploying_organisation_not_the_deployers_default():
    # Review B5: a short name would resolve with the CLI identity's default organisation; the program
    # qualifies it with pulumi.get_organization(), so another default organisation changes nothing.
    estate = evaluate(["prod-traffic"], org="pipeline", default_org="someone-else")
    assert not [e for e in estate.errors if e.kind == "unknown-stack"]
    refs = estate.plans["prod-traffic"].of_type("pulumi:pulumi:StackReference")
    names = sorted(str(r.inputs["name"]) for r in refs)
    assert names == [f"pipeline/{PROJECT}/{s}" for s in ("prod", "prod-blue", "prod-green")]


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
    reads = [read for plan in estate_of().plans.values() for read in plan.reads]
    assert reads and all(read["required"] for read in reads)
