"""The StackReference graph of the committed stacks, from their plans. Pure: plan resources in,
findings out (no Pulumi), so that a whole-platform check can use it.

A first deployment runs the stacks in the graph's topological order; a cycle means some stack's first
`pulumi up` reads a stack that does not exist yet, and a short name resolves against the CLI
identity's default organisation instead of the deployed one."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

STACK_REFERENCE = "pulumi:pulumi:StackReference"
_QUALIFIED = re.compile(r"^(?P<org>[A-Za-z0-9_.-]+)/(?P<project>[A-Za-z0-9_.-]+)/(?P<stack>[A-Za-z0-9_.-]+)$")


def referenced_names(resources: Iterable[Any]) -> list[str]:
    """The stack names a plan's StackReferences read (their `name` input), sorted."""
    return sorted({str(r.inputs.get("name")) for r in resources if r.type == STACK_REFERENCE})


def unqualified(names: Iterable[str], *, project: str) -> list[str]:
    """Names that are not `<organization>/<project>/<stack>` of this project: findings."""
    found = []
    for name in names:
        m = _QUALIFIED.match(name)
        if m is None or m["project"] != project:
            found.append(name)
    return found


def graph(plans: Mapping[str, Iterable[Any]]) -> dict[str, set[str]]:
    """stack -> the stacks (short names) its plan reads."""
    return {
        stack: {name.rsplit("/", 1)[-1] for name in referenced_names(resources)}
        for stack, resources in plans.items()
    }


def deployment_order(edges: Mapping[str, set[str]]) -> list[str]:
    """A first-deployment order: every stack after the stacks it reads (ties by name). Raises
    ValueError naming a cycle, or a stack read but not among the committed ones."""
    missing = sorted({r for reads in edges.values() for r in reads} - set(edges))
    if missing:
        raise ValueError(f"stacks read by StackReference but not committed: {', '.join(missing)}")
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(edges):
        ready = sorted(s for s in edges if s not in done and edges[s] <= done)
        if not ready:
            raise ValueError("StackReference cycle: " + " -> ".join(_cycle(edges, done)))
        order.extend(ready)
        done |= set(ready)
    return order


def _cycle(edges: Mapping[str, set[str]], done: set[str]) -> list[str]:
    start = min(s for s in edges if s not in done)
    path, node = [start], start
    while True:
        node = min(r for r in edges[node] if r not in done)
        if node in path:
            return [*path[path.index(node) :], node]
        path.append(node)
