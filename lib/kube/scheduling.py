"""Does a pod fit an EKS node? (pure: no Pulumi; the figures come from lib/kube/nodes.yaml)

allocatable(type) is what the kubelet of the EKS AL2023 AMI offers pods on that instance type:
capacity (vCPUs; memory less the VM overhead) minus kube-reserved and the hard eviction threshold.
fits() subtracts the DaemonSets every node runs and compares a pod's requests; place() packs a set
of pods onto a node group (first fit, largest first), honouring one-per-node and per-zone rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from lib.quantities import quantity

NODES_FILE = Path(__file__).resolve().parent / "nodes.yaml"


def cpu_millis(value: str | int | float) -> int:
    """A Kubernetes CPU quantity ("2", "500m", 1.5) in millicores, rounded up."""
    return math.ceil(quantity(str(value)) * 1000)


def memory_mib(value: str | int | float) -> float:
    """A Kubernetes memory quantity ("16Gi", "512Mi", "1G", bytes) in MiB."""
    return float(quantity(str(value))) / 2**20


@dataclass(frozen=True)
class Requests:
    cpu_m: int = 0
    memory_mib: float = 0.0

    def __add__(self, other: Requests) -> Requests:
        return Requests(self.cpu_m + other.cpu_m, self.memory_mib + other.memory_mib)

    def __sub__(self, other: Requests) -> Requests:
        return Requests(self.cpu_m - other.cpu_m, self.memory_mib - other.memory_mib)

    def within(self, other: Requests) -> bool:
        return self.cpu_m <= other.cpu_m and self.memory_mib <= other.memory_mib

    @staticmethod
    def of(resources: Mapping[str, Any] | None) -> Requests:
        """From a container's `requests` mapping (cpu, memory; missing ones are zero)."""
        resources = resources or {}
        cpu = resources.get("cpu")
        mem = resources.get("memory")
        return Requests(
            cpu_millis(cpu) if cpu is not None else 0, memory_mib(mem) if mem is not None else 0.0
        )


@dataclass(frozen=True)
class Node:
    instance_type: str
    max_pods: int
    allocatable: Requests


@cache
def load(path: Path = NODES_FILE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _reserved_cpu_m(vcpu: int, ranges: Sequence[Sequence[Any]]) -> int:
    total = vcpu * 1000
    reserved = 0
    for start, end, per_10000 in ranges:
        if total <= start:
            continue
        top = total if end is None else min(total, end)
        reserved += (top - start) * per_10000 // 10000  # integer maths, as nodeadm does
    return reserved


def node(instance_type: str, data: Mapping[str, Any] | None = None) -> Node:
    """The allocatable resources and pod capacity of one node of `instance_type`."""
    data = data or load()
    types = data["instance_types"]
    if instance_type not in types:
        known = ", ".join(types)
        raise KeyError(f"instance type {instance_type!r} is not in lib/kube/nodes.yaml; known: {known}")
    t, f = types[instance_type], data["formula"]
    max_pods = t["default_enis"] * (t["ipv4_per_eni"] - 1) + 2
    capacity_mib = t["memory_mib"] * (1 - f["vm_memory_overhead_fraction"])
    kube_reserved_mib = f["memory_reserved_mib"]["per_pod"] * max_pods + f["memory_reserved_mib"]["base"]
    return Node(
        instance_type=instance_type,
        max_pods=max_pods,
        allocatable=Requests(
            cpu_m=t["vcpu"] * 1000 - _reserved_cpu_m(t["vcpu"], f["cpu_reserved_per_10000"]),
            memory_mib=capacity_mib - kube_reserved_mib - f["eviction_hard_memory_mib"],
        ),
    )


def daemonset_requests(data: Mapping[str, Any] | None = None, names: Iterable[str] | None = None) -> Requests:
    """The summed requests of the DaemonSets (all of lib/kube/nodes.yaml, or `names`)."""
    data = data or load()
    ds = data["daemonsets"]
    total = Requests()
    for name in names if names is not None else ds:
        total = total + Requests(ds[name]["cpu_m"], ds[name]["memory_mib"])
    return total


@dataclass(frozen=True)
class Fit:
    fits: bool
    free: Requests  # what is left for pods after the DaemonSets (before this pod)
    reason: str = ""


def fits(
    pod: Requests, instance_type: str, daemonsets: Requests, data: Mapping[str, Any] | None = None
) -> Fit:
    """Whether a pod with requests `pod` can be scheduled on an empty node of `instance_type` that
    runs DaemonSets requesting `daemonsets`."""
    free = node(instance_type, data).allocatable - daemonsets
    if pod.within(free):
        return Fit(True, free)
    short = []
    if pod.cpu_m > free.cpu_m:
        short.append(f"cpu {pod.cpu_m}m > {free.cpu_m}m free")
    if pod.memory_mib > free.memory_mib:
        short.append(f"memory {pod.memory_mib:.0f}Mi > {free.memory_mib:.0f}Mi free")
    return Fit(False, free, f"on {instance_type}: " + ", ".join(short))


@dataclass(frozen=True)
class Pod:
    name: str
    requests: Requests
    # Pods sharing a group never share a node (required pod anti-affinity on the hostname).
    one_per_node: str | None = None
    # The zone the pod must run in (a Scylla rack), or None.
    zone: str | None = None


@dataclass
class _Bin:
    zone: str
    free: Requests
    pods: list[Pod] = field(default_factory=list)


def place(
    pods: Sequence[Pod],
    instance_type: str,
    nodes_per_zone: Mapping[str, int],
    daemonsets: Requests,
    data: Mapping[str, Any] | None = None,
) -> list[str]:
    """Pack `pods` onto a node group with `nodes_per_zone` nodes (first fit, largest first); the
    pods that find no node, one sentence each (empty: everything is scheduled)."""
    spec = node(instance_type, data)
    free = spec.allocatable - daemonsets
    bins = [_Bin(zone, free) for zone, n in sorted(nodes_per_zone.items()) for _ in range(n)]
    problems = []
    order = sorted(pods, key=lambda p: (p.zone is None, -p.requests.cpu_m, -p.requests.memory_mib, p.name))
    for pod in order:
        single = fits(pod.requests, instance_type, daemonsets, data)
        if not single.fits:
            problems.append(f"{pod.name}: never fits {single.reason}")
            continue
        for b in bins:
            if pod.zone is not None and b.zone != pod.zone:
                continue
            if pod.one_per_node and any(p.one_per_node == pod.one_per_node for p in b.pods):
                continue
            if len(b.pods) >= spec.max_pods or not pod.requests.within(b.free):
                continue
            b.pods.append(pod)
            b.free = b.free - pod.requests
            break
        else:
            where = f" in zone {pod.zone}" if pod.zone else ""
            problems.append(
                f"{pod.name}: no {instance_type} node{where} has room "
                f"({sum(nodes_per_zone.values())} nodes, "
                f"{pod.requests.cpu_m}m/{pod.requests.memory_mib:.0f}Mi)"
            )
    return problems
