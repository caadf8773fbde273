"""Scheduling: every pod the data plane and observability declare fits a node of the group its node
selector and tolerations name. Requests must fit the instance type's allocatable (EKS kubeReserved and
eviction threshold, and the DaemonSets' requests subtracted: data/nodes.yaml), replicas under required
anti-affinity must fit the group's nodes (hostname) or zones (zone), and all of a group's pods must
pack onto its desired nodes."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from planner.checks import Check, Finding
from planner.checks.model import get, label, resources, stacks

DATA = Path(__file__).resolve().parent / "data" / "nodes.yaml"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
_TAINT_EFFECT = {
    "NO_SCHEDULE": "NoSchedule",
    "NO_EXECUTE": "NoExecute",
    "PREFER_NO_SCHEDULE": "PreferNoSchedule",
}


@functools.cache
def node_data() -> dict[str, Any]:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


_QTY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_MEM = {
    "": 1 / 2**20,
    "Ki": 1 / 1024,
    "Mi": 1,
    "Gi": 1024,
    "Ti": 2**20,
    "k": 1000 / 2**20,
    "M": 10**6 / 2**20,
    "G": 10**9 / 2**20,
    "T": 10**12 / 2**20,
}


def cpu_m(value: Any) -> float:
    if value in (None, ""):
        return 0.0
    m = _QTY.match(str(value))
    if not m:
        raise ValueError(f"not a CPU quantity: {value!r}")
    return float(m.group(1)) * (1 if m.group(2) == "m" else 1000)


def mem_mib(value: Any) -> float:
    if value in (None, ""):
        return 0.0
    m = _QTY.match(str(value))
    if not m or m.group(2) not in _MEM:
        raise ValueError(f"not a memory quantity: {value!r}")
    return float(m.group(1)) * _MEM[m.group(2)]


def reserved_cpu_m(vcpu: int) -> float:
    total = vcpu * 1000
    out = 0.0
    for start, end, pct in node_data()["reserved"]["cpu_ranges_millicores"]:
        end = total if end is None else end
        if total > start:
            out += (min(total, end) - start) * pct / 10000
    return out


def allocatable(instance_type: str) -> tuple[float, float]:
    """(millicores, MiB) the kubelet offers pods on one node of this type."""
    spec = node_data()["instance_types"][instance_type]
    r = node_data()["reserved"]
    cpu = spec["vcpu"] * 1000 - reserved_cpu_m(spec["vcpu"])
    mem = (
        spec["memory_gib"] * 1024
        - (r["memory_per_pod_mib"] * spec["max_pods"] + r["memory_base_mib"])
        - r["eviction_hard_memory_mib"]
    )
    return cpu, mem


@dataclass
class Group:
    name: str
    instance_type: str
    labels: dict[str, str]
    taints: list[tuple[str, str, str]]
    nodes: int
    zones: set[str]


@dataclass
class Pod:
    workload: str  # the resource that declares it
    what: str
    replicas: int
    cpu_m: float
    mem_mib: float
    selector: dict[str, list[str]]  # label -> allowed values
    tolerations: list[dict[str, Any]]
    spread: str | None = None  # required anti-affinity topology: hostname | zone
    zones: set[str] = field(default_factory=set)  # pinned zones (a rack)


def _requests(res: Any) -> tuple[float, float]:
    req = get(res, "requests") or {}
    return cpu_m(req.get("cpu")), mem_mib(req.get("memory"))


def _node_affinity(affinity: Any) -> dict[str, list[str]]:
    sel: dict[str, list[str]] = {}
    terms = (
        get(affinity, "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
        or []
    )
    for term in terms[:1]:
        for expr in term.get("matchExpressions") or []:
            if expr.get("operator") == "In":
                sel[expr["key"]] = list(expr.get("values") or [])
    return sel


def _spread(affinity: Any) -> str | None:
    for term in get(affinity, "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution") or []:
        key = term.get("topologyKey", "")
        return "zone" if key.endswith("zone") else "hostname"
    return None


def pods_of(stack: dict[str, Any]) -> list[Pod]:
    pods: list[Pod] = []
    for r in stack.get("resources", []):
        i, kind, t = r.get("inputs") or {}, (r.get("inputs") or {}).get("kind"), r["type"]
        spec = i.get("spec") or {}
        if t.startswith("kubernetes:postgresql.cnpg.io/") and kind == "Cluster":
            aff = spec.get("affinity") or {}
            cpu, mem = _requests(spec.get("resources"))
            spread = None
            if aff.get("enablePodAntiAffinity", True) and aff.get("podAntiAffinityType") == "required":
                spread = "zone" if str(aff.get("topologyKey", "")).endswith("zone") else "hostname"
            pods.append(
                Pod(
                    label(r),
                    "PostgreSQL instance",
                    int(spec.get("instances") or 1),
                    cpu,
                    mem,
                    {k: [v] for k, v in (aff.get("nodeSelector") or {}).items()},
                    aff.get("tolerations") or [],
                    spread,
                )
            )
        elif t.startswith("kubernetes:postgresql.cnpg.io/") and kind == "Pooler":
            # PgBouncer pods of a Pooler: the template's containers, placed by its node affinity.
            tpl = get(spec, "template", "spec") or {}
            cpu = sum(_requests(c.get("resources"))[0] for c in tpl.get("containers") or [])
            mem = sum(_requests(c.get("resources"))[1] for c in tpl.get("containers") or [])
            pods.append(
                Pod(
                    label(r),
                    "PgBouncer (Pooler)",
                    int(spec.get("instances") or 1),
                    cpu,
                    mem,
                    _node_affinity(tpl.get("affinity")),
                    tpl.get("tolerations") or [],
                    _spread(tpl.get("affinity")),
                )
            )
        elif t.startswith("kubernetes:kafka.strimzi.io/") and kind in ("KafkaNodePool", "KafkaConnect"):
            pod = get(spec, "template", "pod") or {}
            cpu, mem = _requests(spec.get("resources"))
            pods.append(
                Pod(
                    label(r),
                    kind,
                    int(spec.get("replicas") or 1),
                    cpu,
                    mem,
                    _node_affinity(pod.get("affinity")),
                    pod.get("tolerations") or [],
                    _spread(pod.get("affinity")),
                )
            )
        elif t.startswith("kubernetes:kafka.strimzi.io/") and kind == "Kafka":
            # The entity operator (topic and user operator containers in one pod) and Kafka Exporter.
            eo = spec.get("entityOperator") or {}
            parts = [eo.get(c) or {} for c in ("topicOperator", "userOperator")]
            if eo:
                cpu = sum(_requests(p.get("resources"))[0] for p in parts)
                mem = sum(_requests(p.get("resources"))[1] for p in parts)
                pod = get(eo, "template", "pod") or {}
                pods.append(
                    Pod(
                        f"{label(r)} entityOperator",
                        "Strimzi entity operator",
                        1,
                        cpu,
                        mem,
                        _node_affinity(pod.get("affinity")),
                        pod.get("tolerations") or [],
                    )
                )
            ke = spec.get("kafkaExporter")
            if ke:
                cpu, mem = _requests(ke.get("resources"))
                pod = get(ke, "template", "pod") or {}
                pods.append(
                    Pod(
                        f"{label(r)} kafkaExporter",
                        "Kafka Exporter",
                        1,
                        cpu,
                        mem,
                        _node_affinity(pod.get("affinity")),
                        pod.get("tolerations") or [],
                    )
                )
        elif t.startswith("kubernetes:scylla.scylladb.com/") and kind == "ScyllaCluster":
            for rack in get(spec, "datacenter", "racks") or []:
                cpu, mem = _requests(rack.get("resources"))
                acpu, amem = _requests(rack.get("agentResources"))
                placement = rack.get("placement") or {}
                sel = _node_affinity(placement)
                zones = set(sel.pop("topology.kubernetes.io/zone", []))
                pods.append(
                    Pod(
                        f"{label(r)} rack {rack.get('name')}",
                        "Scylla node with its agent",
                        int(rack.get("members") or 1),
                        cpu + acpu,
                        mem + amem,
                        sel,
                        placement.get("tolerations") or [],
                        _spread(placement),
                        zones,
                    )
                )
        elif t == "kubernetes:apps/v1:Deployment":
            tpl = get(spec, "template", "spec") or {}
            cpu = sum(_requests(c.get("resources"))[0] for c in tpl.get("containers") or [])
            mem = sum(_requests(c.get("resources"))[1] for c in tpl.get("containers") or [])
            pods.append(
                Pod(
                    label(r),
                    "Deployment",
                    int(spec.get("replicas") or 1),
                    cpu,
                    mem,
                    {k: [v] for k, v in (tpl.get("nodeSelector") or {}).items()},
                    tpl.get("tolerations") or [],
                    _spread(tpl.get("affinity")),
                )
            )
        elif t == "kubernetes:helm.sh/v3:Release":
            pods.extend(_chart_pods(r, i.get("values") or {}))
    return pods


def _chart_pods(r: dict[str, Any], values: dict[str, Any]) -> list[Pod]:
    """Workloads of a chart whose values set requests: every mapping (lists included, such as a Scylla
    Manager chart's racks) whose resources.requests name cpu or memory, placed by its own
    nodeSelector / placement / tolerations (or those it inherits), with replicas, replicaCount or
    members as its count. Volume claim templates (storage requests) are not pods."""
    out: list[Pod] = []

    def walk(node: Any, path: str, inherited: tuple[dict, list]) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]", inherited)
            return
        if not isinstance(node, dict) or "volumeClaimTemplate" in path:
            return
        placement = node.get("placement") if isinstance(node.get("placement"), dict) else {}
        sel = inherited[0]
        if isinstance(node.get("nodeSelector"), dict):
            sel = {k: [v] for k, v in node["nodeSelector"].items()}
        elif _node_affinity(placement):
            sel = _node_affinity(placement)
        tol = next(
            (x for x in (node.get("tolerations"), placement.get("tolerations")) if isinstance(x, list)),
            inherited[1],
        )
        req = get(node, "resources", "requests")
        if isinstance(req, dict) and ("cpu" in req or "memory" in req):
            cpu, mem = _requests(node["resources"])
            replicas = node.get("replicas", node.get("replicaCount", node.get("members", 1)))
            daemon = path.split(".")[-1] in ("prometheus-node-exporter", "nodeExporter", "node-exporter")
            if not daemon:
                out.append(
                    Pod(
                        f"{label(r)} values {path or '(top)'}",
                        "chart workload",
                        int(replicas) if isinstance(replicas, int) else 1,
                        cpu,
                        mem,
                        sel,
                        tol,
                        _spread(placement),
                    )
                )
        for key, value in node.items():
            if key not in ("resources", "nodeSelector", "tolerations", "affinity", "placement"):
                walk(value, f"{path}.{key}" if path else key, (sel, tol))

    top_sel = {k: [v] for k, v in (values.get("nodeSelector") or {}).items()}
    walk(values, "", (top_sel, values.get("tolerations") or []))
    return out


def daemonset_requests(stack: dict[str, Any]) -> tuple[float, float]:
    addons = {get(a, "inputs", "addonName") for a in resources(stack, "aws:eks/addon:Addon")}
    cpu = mem = 0.0
    for ds in node_data()["daemonsets"].values():
        if ds.get("addon") and ds["addon"] not in addons:
            continue
        cpu += ds["cpu_m"]
        mem += ds["memory_mib"]
    for rel in resources(stack, "kubernetes:helm.sh/v3:Release"):
        ne = get(rel, "inputs", "values", "prometheus-node-exporter", "resources")
        if ne:
            c, m = _requests(ne)
            cpu, mem = cpu + c, mem + m
    return cpu, mem


def groups_of(stack: dict[str, Any]) -> list[Group]:
    subnet_zone = {
        r.get("id"): get(r, "inputs", "availabilityZone") for r in resources(stack, "aws:ec2/subnet:Subnet")
    }
    out = []
    for r in resources(stack, NODE_GROUP):
        i = r["inputs"]
        taints = [
            (t["key"], str(t.get("value", "")), _TAINT_EFFECT.get(t["effect"], t["effect"]))
            for t in i.get("taints") or []
        ]
        zones = {subnet_zone[s] for s in i.get("subnetIds") or [] if subnet_zone.get(s)}
        out.append(
            Group(
                r["name"],
                (i.get("instanceTypes") or ["?"])[0],
                i.get("labels") or {},
                taints,
                int(get(i, "scalingConfig", "desiredSize") or 0),
                zones,
            )
        )
    return out


def tolerates(tolerations: list[dict[str, Any]], taint: tuple[str, str, str]) -> bool:
    key, value, effect = taint
    if effect == "PreferNoSchedule":
        return True
    for t in tolerations:
        if t.get("effect") not in (None, "", effect):
            continue
        if t.get("operator") == "Exists" and t.get("key") in (None, "", key):
            return True
        if t.get("key") == key and str(t.get("value", "")) == value:
            return True
    return False


def candidates(pod: Pod, groups: list[Group]) -> list[Group]:
    return [
        g
        for g in groups
        if all(g.labels.get(k) in v for k, v in pod.selector.items())
        and all(tolerates(pod.tolerations, t) for t in g.taints)
    ]


def run(estate: dict) -> list[Finding]:
    findings: list[Finding] = []
    for name, stack in stacks(estate):
        groups = groups_of(stack)
        if not groups:
            continue  # an existing cluster or no cluster: its nodes are not declared
        ds_cpu, ds_mem = daemonset_requests(stack)
        load: dict[str, list[tuple[Pod, float, float]]] = {}
        for pod in pods_of(stack):
            fits = candidates(pod, groups)
            if not fits:
                findings.append(
                    Finding(
                        "scheduling",
                        name,
                        pod.workload,
                        f"{pod.what}: no node group matches node selector {pod.selector} "
                        "with the pod's tolerations: the pods stay Pending",
                    )
                )
                continue
            g = fits[0]
            if g.instance_type not in node_data()["instance_types"]:
                findings.append(
                    Finding(
                        "scheduling",
                        name,
                        pod.workload,
                        f"node group {g.name}: instance type {g.instance_type} is not in "
                        "planner/checks/data/nodes.yaml",
                    )
                )
                continue
            a_cpu, a_mem = allocatable(g.instance_type)
            free_cpu, free_mem = a_cpu - ds_cpu, a_mem - ds_mem
            if pod.cpu_m > free_cpu or pod.mem_mib > free_mem:
                findings.append(
                    Finding(
                        "scheduling",
                        name,
                        pod.workload,
                        f"{pod.what} requests {pod.cpu_m:g}m CPU / {pod.mem_mib:g}Mi; a {g.instance_type} "
                        f"node of {g.name} offers {free_cpu:g}m / {free_mem:g}Mi after kubeReserved, "
                        f"eviction and DaemonSets ({a_cpu:g}m / {a_mem:g}Mi allocatable): "
                        "the pods stay Pending",
                    )
                )
                continue
            if pod.spread == "hostname" and pod.replicas > g.nodes:
                findings.append(
                    Finding(
                        "scheduling",
                        name,
                        pod.workload,
                        f"{pod.replicas} replicas with required one-per-node anti-affinity on "
                        f"{g.name}, which has {g.nodes} nodes",
                    )
                )
            if pod.spread == "zone" and g.zones and pod.replicas > len(g.zones):
                findings.append(
                    Finding(
                        "scheduling",
                        name,
                        pod.workload,
                        f"{pod.replicas} replicas with required one-per-zone anti-affinity on "
                        f"{g.name}, which spans {len(g.zones)} zones",
                    )
                )
            if pod.zones and g.zones and not pod.zones <= g.zones:
                findings.append(
                    Finding(
                        "scheduling",
                        name,
                        pod.workload,
                        f"pinned to zones {sorted(pod.zones)}; {g.name} has nodes in {sorted(g.zones)}",
                    )
                )
            load.setdefault(g.name, []).extend([(pod, free_cpu, free_mem)] * pod.replicas)
        for g in groups:
            items = sorted(load.get(g.name, []), key=lambda x: (-x[0].cpu_m, -x[0].mem_mib))
            if not items:
                continue
            free = [[items[0][1], items[0][2]] for _ in range(g.nodes)]
            for pod, _, _ in items:
                slot = next((f for f in free if f[0] >= pod.cpu_m and f[1] >= pod.mem_mib), None)
                if slot is None:
                    findings.append(
                        Finding(
                            "scheduling",
                            name,
                            f"{g.name} [{NODE_GROUP}]",
                            f"the pods placed on this group do not pack onto its {g.nodes} desired "
                            f"{g.instance_type} nodes (first left over: {pod.workload}, {pod.cpu_m:g}m / "
                            f"{pod.mem_mib:g}Mi)",
                        )
                    )
                    break
                slot[0] -= pod.cpu_m
                slot[1] -= pod.mem_mib
    return findings


CHECK = Check(
    "scheduling",
    "critical",
    "mandatory",
    "every declared pod fits a node of the group its selector and tolerations name",
    run,
)
