"""Order: a deployment order from an empty backend exists (no StackReference cycle, every referenced
stack in the estate) and the README documents one: each stack it names comes after every stack it
references."""

from __future__ import annotations

from planner.checks import Check, Finding
from planner.graph import deployment_order, simple_cycles, strongly_connected


def run(estate: dict) -> list[Finding]:
    graph = {k: list(v) for k, v in estate.get("graph", {}).items()}
    documented = list(estate.get("documented_order") or [])
    findings = []
    if deployment_order(graph) is None:
        for comp in strongly_connected(graph):
            if len(comp) > 1 or comp[0] in graph.get(comp[0], []):
                cycles = "; ".join(" -> ".join(c) for c in simple_cycles(graph, comp))
                findings.append(
                    Finding(
                        "order",
                        comp[0],
                        "StackReference graph",
                        f"no deployment order from an empty backend: cycle {cycles}",
                    )
                )
    for err in estate.get("errors", []):
        if err["kind"] == "unknown-stack":
            findings.append(Finding("order", err["stacks"][0], "StackReference graph", err["message"]))
    position = {s: i for i, s in enumerate(documented)}
    for stack in documented:
        for ref in graph.get(stack, []):
            if ref in position and position[ref] > position[stack]:
                findings.append(
                    Finding(
                        "order",
                        stack,
                        "README deployment order",
                        f"README deploys {stack} before {ref}, which {stack} references",
                    )
                )
            elif ref not in position:
                findings.append(
                    Finding(
                        "order",
                        stack,
                        "README deployment order",
                        f"README's order does not name {ref}, which {stack} references",
                    )
                )
    missing = sorted(
        s for s, refs in graph.items() if (refs or any(s in r for r in graph.values())) and s not in position
    )
    for stack in missing:
        findings.append(
            Finding(
                "order",
                stack,
                "README deployment order",
                "the stack takes part in StackReferences but the README's order does not name it",
            )
        )
    return findings


CHECK = Check(
    "order",
    "critical",
    "mandatory",
    "a deployment order from an empty backend exists and is the README's",
    run,
)
