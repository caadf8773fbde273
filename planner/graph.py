"""Graph functions of the estate (StackReference dependencies): pure, no Pulumi."""

from __future__ import annotations

import itertools


def strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, each sorted, in a deterministic order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = itertools.count()

    def visit(v: str) -> None:
        index[v] = low[v] = next(counter)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, [])):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def simple_cycles(graph: dict[str, list[str]], members: list[str]) -> list[list[str]]:
    """The elementary cycles inside one component, each starting at its smallest member."""
    inside = set(members)
    cycles: list[list[str]] = []
    for start in sorted(inside):

        def walk(node: str, path: list[str], start: str = start) -> None:
            for nxt in sorted(graph.get(node, [])):
                if nxt == start:
                    cycles.append([*path, start])
                elif nxt in inside and nxt > start and nxt not in path:
                    walk(nxt, [*path, nxt])

        walk(start, [start])
    return cycles


def _acyclic(graph: dict[str, list[str]], nodes: set[str]) -> bool:
    sub = {n: [m for m in graph.get(n, []) if m in nodes] for n in nodes}
    return all(len(c) == 1 and c[0] not in sub[c[0]] for c in strongly_connected(sub))


def breaking_members(graph: dict[str, list[str]], members: list[str]) -> list[str]:
    """The fewest members whose removal leaves the component acyclic (first in name order on a tie):
    they are evaluated first, with their references into the component unresolved."""
    for size in range(1, len(members) + 1):
        for chosen in itertools.combinations(sorted(members), size):
            if _acyclic(graph, set(members) - set(chosen)):
                return list(chosen)
    return list(members)


def evaluation_order(graph: dict[str, list[str]], cut: set[tuple[str, str]]) -> list[str]:
    """Referenced stacks before the stacks that reference them, edges in `cut` ignored; ties by name."""
    deps = {n: {m for m in graph.get(n, []) if (n, m) not in cut and m in graph} for n in graph}
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(deps):
        ready = sorted(n for n in deps if n not in done and deps[n] <= done)
        if not ready:  # cannot happen once every cycle is cut
            raise RuntimeError(f"no order among {sorted(set(deps) - done)}")
        order.append(ready[0])
        done.add(ready[0])
    return order


def deployment_order(graph: dict[str, list[str]]) -> list[str] | None:
    """An order in which every stack comes after the stacks it references, or None (a cycle)."""
    if any(len(c) > 1 or c[0] in graph.get(c[0], []) for c in strongly_connected(graph)):
        return None
    return evaluation_order(graph, set())
