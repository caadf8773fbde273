"""Kubernetes NetworkPolicies (pure: no Pulumi): builders for the policies every namespace of the
platform carries, and an evaluator of what a set of policies lets through, the model the estate's
reachability check runs the required flows (lib/kube/flows.yaml) against.

The evaluator follows the NetworkPolicy API (networking.k8s.io/v1): a pod that no policy of its
namespace selects for a direction is open in that direction; once one does, a connection passes only
if some rule of a selecting policy admits the peer and the port, and a connection needs both the
source's egress and the destination's ingress. Namespaces carry `kubernetes.io/metadata.name` (the
API server sets it). An ipBlock matches addresses outside the cluster only (the API leaves pod
addresses in an ipBlock implementation-defined, so a flow between pods must be allowed by selectors).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NS_LABEL = "kubernetes.io/metadata.name"
# CoreDNS on EKS keeps the kube-dns label of its Deployment (k8s-app: kube-dns) in kube-system.
DNS_NAMESPACE = "kube-system"
DNS_POD = {"k8s-app": "kube-dns"}
ANYWHERE = "0.0.0.0/0"

Port = int | tuple[int, int]  # a port, or an inclusive range (port, endPort)


@dataclass(frozen=True)
class Pod:
    """A pod (namespace and labels) or, with `address`, a host outside the cluster."""

    namespace: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    address: str = ""


def _ports(ports: Sequence[Port], protocol: str = "TCP") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in ports:
        if isinstance(p, tuple):
            out.append({"protocol": protocol, "port": p[0], "endPort": p[1]})
        else:
            out.append({"protocol": protocol, "port": p})
    return out


def ns_peer(namespace: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Pods of another namespace (all of them, or those with `labels`)."""
    peer: dict[str, Any] = {"namespaceSelector": {"matchLabels": {NS_LABEL: namespace}}}
    if labels:
        peer["podSelector"] = {"matchLabels": dict(labels)}
    return peer


def pod_peer(labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Pods of the policy's own namespace (all of them when `labels` is empty)."""
    return {"podSelector": {"matchLabels": dict(labels)} if labels else {}}


def cidr_peer(cidr: str) -> dict[str, Any]:
    return {"ipBlock": {"cidr": cidr}}


def rule(
    peers: Sequence[dict[str, Any]], ports: Sequence[Port] = (), protocol: str = "TCP"
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if peers:
        out["peers"] = list(peers)
    if ports:
        out["ports"] = _ports(ports, protocol)
    return out


def policy(
    name: str,
    namespace: str,
    *,
    pods: Mapping[str, str] | None = None,
    ingress: Sequence[dict[str, Any]] = (),
    egress: Sequence[dict[str, Any]] = (),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A NetworkPolicy selecting `pods` (all of the namespace's when empty); `ingress`/`egress` are
    rule() results (peers become `from`/`to`). A direction is in policyTypes only if it has rules."""
    spec: dict[str, Any] = {"podSelector": {"matchLabels": dict(pods)} if pods else {}}
    types = []
    if ingress:
        types.append("Ingress")
        spec["ingress"] = [_direction(r, "from") for r in ingress]
    if egress:
        types.append("Egress")
        spec["egress"] = [_direction(r, "to") for r in egress]
    spec["policyTypes"] = types
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta, "spec": spec}


def _direction(r: dict[str, Any], key: str) -> dict[str, Any]:
    out = {}
    if r.get("peers"):
        out[key] = r["peers"]
    if r.get("ports"):
        out["ports"] = r["ports"]
    return out


def default_deny(namespace: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every pod of the namespace: no ingress, no egress, until another policy allows a flow."""
    out = policy("default-deny", namespace, labels=labels)
    out["spec"]["policyTypes"] = ["Ingress", "Egress"]
    return out


def namespace_baseline(
    namespace: str, *, api_cidrs: Sequence[str], labels: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """What every namespace of the platform carries: default deny; DNS; the Kubernetes API (the EKS
    control plane's network interfaces sit in the cluster's subnets, `api_cidrs`); and traffic among
    the namespace's own pods (a database's members, an operator and its webhook)."""
    return [
        default_deny(namespace, labels),
        policy(
            "allow-dns",
            namespace,
            egress=[
                rule([ns_peer(DNS_NAMESPACE, DNS_POD)], [53], "UDP"),
                rule([ns_peer(DNS_NAMESPACE, DNS_POD)], [53], "TCP"),
            ],
            labels=labels,
        ),
        policy(
            "allow-kubernetes-api",
            namespace,
            egress=[rule([cidr_peer(c) for c in api_cidrs], [443])],
            labels=labels,
        ),
        policy(
            "allow-same-namespace",
            namespace,
            ingress=[rule([pod_peer()])],
            egress=[rule([pod_peer()])],
            labels=labels,
        ),
    ]


# --- the evaluator --------------------------------------------------------------------------------
def _matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _peer_matches(peer: Mapping[str, Any], policy_ns: str, other: Pod) -> bool:
    if "ipBlock" in peer:
        if not other.address:
            return False
        addr = ipaddress.ip_network(other.address, strict=False)
        block = peer["ipBlock"]
        if not addr.subnet_of(ipaddress.ip_network(block["cidr"])):  # type: ignore[arg-type]
            return False
        return not any(
            addr.subnet_of(ipaddress.ip_network(e))  # type: ignore[arg-type]
            for e in block.get("except") or []
        )
    if other.address:
        return False
    if "namespaceSelector" in peer:
        if not _matches(peer["namespaceSelector"], {NS_LABEL: other.namespace}):
            return False
    elif other.namespace != policy_ns:
        return False
    return "podSelector" not in peer or _matches(peer["podSelector"], other.labels)


def _port_matches(ports: Sequence[Mapping[str, Any]] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for p in ports:
        if str(p.get("protocol") or "TCP") != protocol:
            continue
        if p.get("port") is None:
            return True
        start = p["port"]
        if not isinstance(start, int):
            continue  # a named port: not modelled, never matches
        if start <= port <= int(p.get("endPort") or start):
            return True
    return False


def _types(spec: Mapping[str, Any]) -> list[str]:
    if spec.get("policyTypes"):
        return list(spec["policyTypes"])
    return ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def _side(
    policies: Iterable[Mapping[str, Any]], pod: Pod, other: Pod, port: int, protocol: str, direction: str
) -> tuple[bool, list[str]]:
    """(allowed, names of the policies that select `pod` for `direction`)."""
    if pod.address:
        return True, []  # outside the cluster: no NetworkPolicy applies
    selecting, key = [], "ingress" if direction == "Ingress" else "egress"
    peers_key = "from" if direction == "Ingress" else "to"
    allowed = False
    for pol in policies:
        meta, spec = pol.get("metadata") or {}, pol.get("spec") or {}
        if meta.get("namespace") != pod.namespace or direction not in _types(spec):
            continue
        if not _matches(spec.get("podSelector") or {}, pod.labels):
            continue
        selecting.append(str(meta.get("name")))
        for r in spec.get(key) or []:
            peers = r.get(peers_key)
            peer_ok = not peers or any(_peer_matches(p, pod.namespace, other) for p in peers)
            if peer_ok and _port_matches(r.get("ports"), port, protocol):
                allowed = True
    return (allowed or not selecting), selecting


def blocked(
    policies: Sequence[Mapping[str, Any]], src: Pod, dst: Pod, port: int, protocol: str = "TCP"
) -> str | None:
    """Why the policies stop src reaching dst on port; None when the connection passes."""
    ok, names = _side(policies, src, dst, port, protocol, "Egress")
    if not ok:
        return f"no egress rule of {', '.join(sorted(names))} lets it out"
    ok, names = _side(policies, dst, src, port, protocol, "Ingress")
    if not ok:
        return f"no ingress rule of {', '.join(sorted(names))} admits it"
    return None
