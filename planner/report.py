"""Human and JSON forms of a plan, and the diff of two plans."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from planner.runtime import REPO, Plan, read_stack_file
from policies import catalogue, check_all, mandatory
from stacks.settings import load_settings
from stacks.sizing import fleet_sizing

CAPACITY_FIELDS = (
    "min",
    "desired",
    "max",
    "instance_type",
    "vcpu",
    "memory_gib",
    "data_volume_gib",
    "required_exact",
    "growth_factor",
    "projected_peak_rps",
    "per_az",
    "az_loss_headroom_pct",
    "monthly_cost",
    "monthly_cost_reserved",
    "profile",
)


def capacity(plan: Plan) -> dict[str, Any]:
    """The capacity table: the stack's own fleets, or for a traffic stack and the environment it
    switches (whose fleets are colour stacks), the fleets of the active colour stack."""
    settings = plan.settings
    note = None
    traffic = settings.traffic if settings.fleets is None else None
    if settings.fleets is None and traffic is None:
        traffic = _traffic_of(plan.stack)
    if traffic is not None:
        colour_stack = traffic.colour_stacks[traffic.active].rsplit("/", 1)[-1]
        path = REPO / f"Pulumi.{colour_stack}.yaml"
        if path.is_file():
            settings = load_settings(read_stack_file(path, path.name), source=path.name, offline=True)
            note = f"fleets of the active colour ({path.name})"
    sized = fleet_sizing(settings)
    table = {m: {k: getattr(s, k) for k in CAPACITY_FIELDS} for m, s in sized.items()}
    for row in table.values():
        row["per_az"] = list(row["per_az"])
    if note and table:
        plan.extra["capacity_note"] = note
    return table


def violations(plan: Plan) -> list[dict[str, str]]:
    """Every resource rule and stack policy of policies/ over the plan (computed once per plan)."""
    if "policy_violations" not in plan.extra:
        plan.extra["policy_violations"] = check_all(plan.resources)
    return plan.extra["policy_violations"]


def mandatory_violations(plan: Plan) -> list[dict[str, str]]:
    return mandatory(violations(plan))


def _traffic_of(environment_stack: str) -> Any:
    """The traffic section of the committed traffic stack whose environment is `environment_stack`."""
    for name in stack_names():
        path = REPO / f"Pulumi.{name}.yaml"
        config = read_stack_file(path, path.name)
        if config.get("pipeline-infra:role") != "traffic":
            continue
        if str(config.get("pipeline-infra:environment_stack", "")).rsplit("/", 1)[-1] != environment_stack:
            continue
        return load_settings(config, source=path.name, offline=True).traffic
    return None


def to_json(plan: Plan) -> dict[str, Any]:
    return {
        "stack": plan.stack,
        "source": plan.source,
        "resources": [r.to_json() for r in plan.resources],
        "outputs": plan.outputs,
        "capacity": capacity(plan),
        "policy": {"rules": catalogue(), "violations": violations(plan)},
    }


def to_text(plan: Plan) -> str:
    lines: list[str] = []
    s = plan.settings
    lines.append(
        f"stack {plan.stack} ({plan.source}): role {s.role}, target {s.target}, environment "
        f"{s.environment}" + (f", region {s.region}" if s.region else "")
    )
    lines.append(
        f"{len(plan.resources)} resources (offline plan: the program under Pulumi's mock runtime; "
        "nothing was deployed)"
    )
    lines.append("")
    lines.append("Resource tree")
    children: dict[str | None, list] = {}
    for r in plan.resources:
        children.setdefault(r.parent, []).append(r)

    def walk(parent: str | None, depth: int) -> None:
        for r in children.get(parent, []):
            lines.append(f"{'  ' * depth}{'+' if r.custom else '*'} {r.name}  [{r.type}]")
            walk(r.urn, depth + 1)

    walk(plan.stack_urn or None, 1)
    orphans = [
        r
        for r in plan.resources
        if r.parent and r.parent != plan.stack_urn and r.parent not in {x.urn for x in plan.resources}
    ]
    for r in orphans:
        lines.append(f"  ? {r.name}  [{r.type}] (parent {r.parent})")
    lines.append("")
    lines.append("Counts by type")
    for typ, n in sorted(Counter(r.type for r in plan.resources).items()):
        lines.append(f"  {n:4d}  {typ}")
    table = capacity(plan)
    lines.append("")
    lines.append(
        "Capacity" + (f" ({plan.extra['capacity_note']})" if plan.extra.get("capacity_note") else "")
    )
    if not table:
        lines.append("  (no module fleets in this stack)")
    else:
        head = (
            f"  {'module':6} {'profile':12} {'min':>3} {'des':>3} {'max':>3} {'type':13} "
            f"{'vCPU':>4} {'GiB':>4} "
            f"{'exact':>6} {'per AZ':9} {'AZ-loss %':>9} {'$/month':>10} {'$/mo rsvd':>10}"
        )
        lines.append(head)
        for m, row in table.items():
            per_az = "/".join(str(x) for x in row["per_az"])
            lines.append(
                f"  {m:6} {row['profile']:12} {row['min']:>3} {row['desired']:>3} {row['max']:>3} "
                f"{row['instance_type']:13} {row['vcpu']:>4} {row['memory_gib']:>4} "
                f"{row['required_exact']:>6} "
                f"{per_az:9} {row['az_loss_headroom_pct']:>9} {row['monthly_cost']:>10,.2f} "
                f"{row['monthly_cost_reserved']:>10,.2f}"
            )
    found = violations(plan)
    must = mandatory(found)
    lines.append("")
    lines.append(
        f"Policy: {len(found)} violation(s), {len(must)} mandatory "
        f"({len(catalogue())} rules: policies/, docs/policies.md)"
    )
    for v in sorted(found, key=lambda v: (v["enforcement"] != "mandatory", v["policy"], v["urn"])):
        where = v["urn"].split("::")[-1] if v["urn"] else "(stack)"
        lines.append(f"  [{v['enforcement']}/{v['severity']}] {v['policy']}: {where}: {v['message']}")
    lines.append("")
    lines.append("Outputs")
    for k, v in plan.outputs.items():
        lines.append(f"  {k}: {v}")
    return "\n".join(lines) + "\n"


def diff(base: Plan, other: Plan) -> dict[str, Any]:
    """What `other` would create, replace, update and delete against `base`, with the differing
    property paths and why a change is a replacement (planner.replacement)."""
    from planner.replacement import diff_resources

    result = diff_resources(base.stack, [r.to_json() for r in base.resources],
                            [r.to_json() for r in other.resources])
    result["outputs_changed"] = sorted(
        k for k in set(base.outputs) | set(other.outputs) if base.outputs.get(k) != other.outputs.get(k)
    )
    return result


def diff_text(d: dict[str, Any]) -> str:
    lines = [
        f"stack {d['stack']}: {len(d['created'])} to create, {len(d['replaced'])} to replace, "
        f"{len(d['changed'])} to update, {len(d['deleted'])} to delete"
    ]
    for r in d["created"]:
        lines.append(f"  + {r['name']}  [{r['type']}]")
    for r in d["replaced"]:
        lines.append(f"  +- {r['name']}  [{r['type']}]")
        for reason in r["reasons"]:
            lines.append(f"      {reason}")
    for r in d["changed"]:
        lines.append(f"  ~ {r['name']}  [{r['type']}]")
        for p in r["paths"]:
            lines.append(f"      {p}")
    for r in d["deleted"]:
        lines.append(f"  - {r['name']}  [{r['type']}]")
    for r in d.get("stateful_at_risk", []):
        lines.append(f"  ! stateful {r['name']} [{r['type']}] would be {r['why']}")
    if d.get("outputs_changed"):
        lines.append("  outputs changed: " + ", ".join(d["outputs_changed"]))
    return "\n".join(lines) + "\n"


def stack_names() -> list[str]:
    return sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in Path(REPO).glob("Pulumi.*.yaml")
    )


# --- the estate -----------------------------------------------------------------------------------
def documented_order(readme: Path | None = None) -> list[str]:
    """The production deployment order the README documents: the stacks named in backticks in its
    'Production order:' paragraph, in the order they appear."""
    import re

    text = (readme or REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"Production order:(.*?)(?:\n\s*\n)", text, re.S)
    if not match:
        return []
    names = re.findall(r"`([a-z0-9-]+)`", match.group(1))
    known = set(stack_names())
    return list(dict.fromkeys(n for n in names if n in known))


def estate_json(estate: Any, documented: list[str] | None = None) -> dict[str, Any]:
    """The estate as the checks read it (planner/checks): no Pulumi objects, only data."""
    stacks = {}
    for name, plan in estate.plans.items():
        s = plan.settings
        stacks[name] = {
            "stack": name,
            "fqn": estate.fqn(name),
            "role": s.role,
            "target": s.target,
            "environment": s.environment,
            "region": s.region,
            "dr": None
            if s.dr is None
            else {
                "site": s.dr.site,
                "role": s.dr.role,
                "peer_stack": s.dr.peer_stack,
                "peer_cidr": str(s.dr.peer_cidr),
            },
            "traffic": None
            if s.traffic is None
            else {
                "active": s.traffic.active,
                "weights": None if s.traffic.weights is None else dict(s.traffic.weights),
                "colour_stacks": dict(s.traffic.colour_stacks),
            },
            "colour": s.colour,
            "network_cidr": None if s.network is None else str(s.network.cidr),
            "source_cidrs": [] if s.network is None else [str(c) for c in s.network.source_cidrs],
            "environment_stack": s.environment_stack,
            "resources": [r.to_json() for r in plan.resources],
            "outputs": plan.outputs,
            "capacity": capacity(plan),
            "reads": plan.reads,
            "unresolved": estate.unresolved.get(name, []),
        }
    return {
        "org": estate.org,
        "project": estate.project,
        "order": estate.order,
        "graph": estate.graph,
        "cycles": estate.cycles,
        "documented_order": documented_order() if documented is None else documented,
        "errors": [e.to_json() for e in estate.errors],
        "left_out": list(estate.left_out),
        "stacks": stacks,
    }
