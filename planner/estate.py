"""The estate plan: every committed stack evaluated in one process, in StackReference dependency order,
each reference answered with the outputs the referenced stack's own plan exported.

Errors (each names the stacks, and the output where there is one):
- unknown-stack: a reference to a stack that is not in the estate (the program names every reference
  `<organisation>/<project>/<stack>`, a short stack setting qualified with the deploying
  organisation: stacks/references.py, program_name);
- cycle: stacks that reference each other. No deployment order from an empty backend exists. The
  estate still evaluates every member: the fewest members that break the cycle are evaluated first,
  against their in-cycle references unresolved (every read unknown), and flagged; the others then
  see the first members' real outputs;
- missing-output: an output a stack reads that the referenced stack does not export;
- unpredicted-reference: a plan declared StackReferences other than its settings name (the table in
  `referenced_stacks` is out of date);
- invoke: a provider function the real provider would fail (planner.mocks, strict answers).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.graph import breaking_members, evaluation_order, simple_cycles, strongly_connected
from planner.references import DEFAULT_ORG, References, StackNameError, qualify
from planner.runtime import REPO, Plan, apply_overrides, read_stack_file, run_plan
from stacks.references import qualified
from stacks.settings import PROJECT, SettingsError, StackSettings, load_settings

STACK_REFERENCE = "pulumi:pulumi:StackReference"


@dataclass(frozen=True)
class EstateError:
    kind: str
    stacks: tuple[str, ...]
    message: str
    output: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "stacks": list(self.stacks),
            "output": self.output,
            "message": self.message,
        }


@dataclass
class Estate:
    org: str
    project: str
    default_org: str
    plans: dict[str, Plan]
    order: list[str]
    # consumer -> referenced estate stacks (edges of the dependency graph)
    graph: dict[str, list[str]]
    # stack -> the stacks whose outputs it was evaluated without (a cycle, or not in the estate)
    unresolved: dict[str, list[str]] = field(default_factory=dict)
    cycles: list[list[str]] = field(default_factory=list)
    errors: list[EstateError] = field(default_factory=list)
    # committed stacks this evaluation did not select and no selected stack references
    left_out: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def fqn(self, stack: str) -> str:
        return f"{self.org}/{self.project}/{stack}"


def referenced_stacks(settings: StackSettings) -> list[str]:
    """The stack names a stack's program references, from its settings (verified against each plan's
    StackReference resources after evaluation: an unpredicted reference is an error)."""
    names: list[str] = []
    if settings.environment_stack:
        names.append(settings.environment_stack)
    if settings.traffic is not None:
        names.extend(settings.traffic.colour_stacks[c] for c in sorted(settings.traffic.colour_stacks))
    if settings.dr is not None and settings.dr.references_peer():
        names.append(settings.dr.peer_stack)
    return list(dict.fromkeys(names))


def committed_stacks(root: Path = REPO) -> list[str]:
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in root.glob("Pulumi.*.yaml"))


# --- evaluation -----------------------------------------------------------------------------------
def _settings(stack: str, path: Path, source: str, overrides: dict[str, Any] | None) -> StackSettings:
    config = apply_overrides(read_stack_file(path, source), overrides)
    return load_settings(config, source=source, offline=True)


def _declared(plans: list[Plan]) -> dict[str, set[str]]:
    zones = {
        str(r.inputs.get("name", "")).rstrip(".") for p in plans for r in p.of_type("aws:route53/zone:Zone")
    }
    params = {str(r.inputs.get("name", "")) for p in plans for r in p.of_type("aws:ssm/parameter:Parameter")}
    return {"zones": zones, "parameters": params}


def evaluate(
    selection: list[str] | None = None,
    *,
    overrides: dict[str, dict[str, Any]] | None = None,
    configs: dict[str, Path] | None = None,
    root: Path = REPO,
    org: str = DEFAULT_ORG,
    default_org: str | None = None,
) -> Estate:
    """Evaluate the selected stacks (default: every committed stack) and every stack they reference.

    `overrides`: what-if values per stack; `configs`: stack name -> a stack file standing in for (or
    added to) the committed ones. `org`: the organisation the estate's stacks live in; `default_org`:
    the deployer's default organisation, which short reference names resolve to (default: org)."""
    started = time.perf_counter()
    overrides = overrides or {}
    files: dict[str, tuple[Path, str]] = {
        s: (root / f"Pulumi.{s}.yaml", f"Pulumi.{s}.yaml") for s in committed_stacks(root)
    }
    for name, path in (configs or {}).items():
        files[name] = (Path(path), str(path))
    default_org = default_org or org
    by_fqn = {f"{org}/{PROJECT}/{s}": s for s in files}
    errors: list[EstateError] = []

    settings: dict[str, StackSettings] = {}
    graph: dict[str, list[str]] = {}
    outside: dict[str, list[str]] = {}
    todo = list(selection or sorted(files))
    for name in todo:
        if name not in files:
            raise SettingsError(f"Pulumi.{name}.yaml", "-", "stack file not found")
    while todo:
        name = todo.pop(0)
        if name in settings:
            continue
        path, source = files[name]
        settings[name] = _settings(name, path, source, overrides.get(name))
        graph[name] = []
        for ref in referenced_stacks(settings[name]):
            try:
                fqn = program_name(ref, org)
            except (StackNameError, ValueError) as error:
                fqn = str(error)
            target = by_fqn.get(fqn)
            if target is None:
                outside.setdefault(name, []).append(ref)
                errors.append(
                    EstateError(
                        "unknown-stack",
                        (name, ref),
                        f"{name} references stack {ref!r} ({fqn}), which is not in the estate "
                        f"(stacks of {org}/{PROJECT}: {', '.join(sorted(files))})",
                    )
                )
                continue
            graph[name].append(target)
            if target not in settings:
                todo.append(target)

    cut: set[tuple[str, str]] = set()
    cycles: list[list[str]] = []
    for comp in strongly_connected(graph):
        if len(comp) == 1 and comp[0] not in graph[comp[0]]:
            continue
        found = simple_cycles(graph, comp)
        cycles.extend(found)
        first = breaking_members(graph, comp)
        for member in first:
            cut |= {(member, m) for m in graph[member] if m in comp}
        errors.append(
            EstateError(
                "cycle",
                tuple(comp),
                "StackReference cycle: "
                + "; ".join(" -> ".join(c) for c in found)
                + ". No deployment order from an empty backend exists (a reference to a stack that "
                f"does not exist yet fails). Evaluated {', '.join(first)} first with "
                f"{'its' if len(first) == 1 else 'their'} references into the cycle unresolved.",
            )
        )

    order = evaluation_order(graph, cut)
    plans: dict[str, Plan] = {}
    unresolved: dict[str, list[str]] = {}
    for name in order:
        resolved = {
            f"{org}/{PROJECT}/{t}": (plans[t].raw_outputs, frozenset(plans[t].secret_outputs))
            for t in graph[name]
            if t in plans
        }
        pending = {f"{org}/{PROJECT}/{t}" for t in graph[name] if t not in plans}
        references = References(
            project=PROJECT, default_org=default_org, resolved=resolved, unresolved=pending
        )
        path, source = files[name]
        config_path = path if name in (configs or {}) or root != REPO else None
        plan = run_plan(
            name if config_path is None else None,
            overrides.get(name),
            config_path=config_path,
            references=references,
            declared=_declared(list(plans.values())),
            organization=org,
        )
        plan.stack = name
        plans[name] = plan
        late = sorted(
            {t for t in graph[name] if f"{org}/{PROJECT}/{t}" in pending} | set(outside.get(name, []))
        )
        if late:
            unresolved[name] = late
            plan.extra["unresolved_references"] = late
        _check_predicted(name, plan, settings[name], org, errors)
        for failure in plan.invoke_errors:
            errors.append(
                EstateError(
                    "invoke",
                    (name,),
                    f"{name}: {failure['function']} {failure['args']}: {failure['message']}",
                )
            )

    _check_reads(plans, by_fqn, default_org, errors)
    return Estate(
        org=org,
        project=PROJECT,
        default_org=default_org,
        plans=plans,
        order=order,
        graph=graph,
        unresolved=unresolved,
        cycles=cycles,
        errors=errors,
        left_out=sorted(set(files) - set(plans)),
        seconds=time.perf_counter() - started,
    )


def program_name(ref: str, org: str) -> str:
    """The name the program gives a StackReference to stack setting `ref` when deployed in `org`: a
    short name qualified with the deploying organisation (stacks/references.py, from
    pulumi.get_organization()), so the deployer's default organisation plays no part."""
    return qualify(qualified(ref, organization=org, project=PROJECT), PROJECT, org)


def _check_predicted(
    name: str, plan: Plan, settings: StackSettings, org: str, errors: list[EstateError]
) -> None:
    declared = sorted({str(r.inputs.get("name")) for r in plan.of_type(STACK_REFERENCE)})
    predicted = sorted({program_name(ref, org) for ref in referenced_stacks(settings)})
    if declared != predicted:
        errors.append(
            EstateError(
                "unpredicted-reference",
                (name,),
                f"{name} declares StackReferences to {declared}, its settings name {predicted} "
                "(planner/estate.py referenced_stacks is out of date)",
            )
        )


def _check_reads(
    plans: dict[str, Plan], by_fqn: dict[str, str], default_org: str, errors: list[EstateError]
) -> None:
    seen: set[tuple[str, str, str]] = set()
    for name, plan in plans.items():
        for read in plan.reads:
            try:
                target = by_fqn.get(qualify(read["stack"], PROJECT, default_org))
            except StackNameError:
                target = None
            if target is None or target not in plans:
                continue  # reported as unknown-stack
            key = (name, target, read["output"])
            if key in seen or read["output"] in plans[target].outputs:
                continue
            seen.add(key)
            how = "require_output" if read["required"] else "get_output (None at runtime)"
            errors.append(
                EstateError(
                    "missing-output",
                    (name, target),
                    f"{name} reads output {read['output']!r} of {target} ({how}, reference "
                    f"{read['reference']!r}), which {target} does not export",
                    output=read["output"],
                )
            )


def references_for(estate: Estate, stack: str) -> References:
    """Every reference of `stack` resolved to the estate's plans, cycle peers included: what the
    stack's program sees once all the stacks it references exist (a second `pulumi up` of a cycle
    member). For evaluating one area of a stack against its peers' real outputs."""
    resolved = {
        estate.fqn(t): (estate.plans[t].raw_outputs, frozenset(estate.plans[t].secret_outputs))
        for t in estate.graph.get(stack, [])
        if t in estate.plans
    }
    return References(project=estate.project, default_org=estate.default_org, resolved=resolved)
