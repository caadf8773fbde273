"""The NetworkPolicies of the data plane and observability: valid Kubernetes 1.33 objects, default deny
in every namespace, and the evaluator (lib/kube/netpol.py) the reachability check relies on follows the
NetworkPolicy API: policies add up, both ends must allow, ipBlock is for addresses outside the cluster."""

from __future__ import annotations

import pytest

from components.dataplane.network.manifests import ClusterNames, data_plane_policies
from components.observability.network import observability_policies
from lib.kube.netpol import Pod, blocked, cidr_peer, default_deny, ns_peer, policy, rule
from lib.kube.target import NAMESPACES

NAMES = ClusterNames(
    scylla="scylla",
    postgres="warehouse",
    kafka="pipeline",
    connect="pipeline-connect",
    pooler="warehouse-pooler",
)
VPC, PEER = "10.20.0.0/16", "10.30.0.0/16"


def _all(peer: str | None = PEER) -> list[dict]:
    return data_plane_policies(NAMESPACES, NAMES, vpc_cidrs=(VPC,), peer_cidr=peer) + observability_policies(
        NAMESPACES["observability"], vpc_cidrs=(VPC,), tracing=True
    )


@pytest.mark.engine
def test_the_policies_are_valid_kubernetes_1_33():
    import kubernetes_validate

    for p in _all():
        kubernetes_validate.validate(p, "1.33", strict=True)


def test_every_namespace_denies_by_default_and_names_are_unique():
    policies = _all()
    denied = {p["metadata"]["namespace"] for p in policies if p["metadata"]["name"] == "default-deny"}
    assert denied == set(NAMESPACES.values())
    keys = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in policies]
    assert len(keys) == len(set(keys))


def test_the_peer_site_is_admitted_only_on_a_replicated_estate():
    def scylla_dc(policies):
        return [p for p in policies if p["metadata"]["name"] == "allow-scylla-other-datacenter"]

    assert scylla_dc(_all(PEER)) and not scylla_dc(_all(None))
    connect, scylla = (
        Pod("kafka", {"strimzi.io/cluster": "pipeline-connect", "strimzi.io/kind": "KafkaConnect"}),
        Pod("scylla", {"app.kubernetes.io/name": "scylla", "scylla/cluster": "scylla"}),
    )
    assert blocked(_all(), connect, scylla, 9042) is None
    assert blocked(_all(), Pod(address="10.30.1.5"), scylla, 7000) is None
    assert blocked(_all(None), Pod(address="10.30.1.5"), scylla, 7000) is not None
    # A pod that is not Connect's does not read Scylla's CQL port.
    other = Pod("kafka", {"app.kubernetes.io/name": "schema-registry"})
    assert "no egress rule" in blocked(_all(), other, scylla, 9042)


def test_the_fleet_listener_ports_are_open_to_the_sites_networks():
    """Kafka's load balancer listeners (the fleets' 9092, replication 9094 and 9095-9099 kept for later)
    and the Pooler's 5432 admit this site's and the peer's networks, nothing else."""
    kafka = Pod("kafka", {"strimzi.io/cluster": "pipeline", "strimzi.io/kind": "Kafka"})
    pg = Pod("postgres", {"cnpg.io/poolerName": "warehouse-pooler"})
    for port in (9092, 9094, 9095, 9099):
        assert blocked(_all(), Pod(address="10.20.3.4"), kafka, port) is None
    assert blocked(_all(), Pod(address="10.20.3.4"), kafka, 9100) is not None
    assert blocked(_all(), Pod(address="10.20.3.4"), pg, 5432) is None
    assert blocked(_all(), Pod(address="192.168.1.1"), pg, 5432) is not None
    # The instances take no connection from this site's network; the peer site's replica streams from
    # the primary (through the replication load balancer, which keeps its address), and only on a DR pair.
    primary = Pod("postgres", {"cnpg.io/cluster": "warehouse", "cnpg.io/instanceRole": "primary"})
    assert blocked(_all(), Pod(address="10.20.3.4"), primary, 5432) is not None
    assert blocked(_all(), Pod(address="10.30.3.4"), primary, 5432) is None
    assert blocked(_all(peer=None), Pod(address="10.30.3.4"), primary, 5432) is not None


# --- the evaluator ----------------------------------------------------------------------------------
A, B = Pod("a", {"app": "x"}), Pod("b", {"app": "y"})


def test_no_policy_means_open_and_default_deny_closes_both_directions():
    assert blocked([], A, B, 80) is None
    assert "no ingress rule of default-deny" in blocked([default_deny("b")], A, B, 80)
    assert "no egress rule of default-deny" in blocked([default_deny("a")], A, B, 80)


def test_policies_add_up_and_both_ends_must_allow():
    ingress = policy("in", "b", pods={"app": "y"}, ingress=[rule([ns_peer("a", {"app": "x"})], [80])])
    egress = policy("out", "a", pods={"app": "x"}, egress=[rule([ns_peer("b")], [80])])
    deny = [default_deny("a"), default_deny("b")]
    assert blocked([*deny, ingress], A, B, 80) is not None  # a's egress still denied
    assert blocked([*deny, ingress, egress], A, B, 80) is None
    assert blocked([*deny, ingress, egress], A, B, 81) is not None
    assert blocked([*deny, ingress, egress], Pod("a", {"app": "z"}), B, 80) is not None
    assert blocked([*deny, ingress, egress], A, B, 80, "UDP") is not None


def test_a_pod_selector_alone_means_the_policys_own_namespace():
    same = policy("in", "b", ingress=[rule([{"podSelector": {"matchLabels": {"app": "x"}}}])])
    assert blocked([same], A, B, 80) is not None
    assert blocked([same], Pod("b", {"app": "x"}), B, 80) is None


def test_ip_blocks_match_addresses_outside_the_cluster_with_their_exceptions_and_ranges():
    block = {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.9.0.0/16"]}}
    pol = policy("in", "b", ingress=[rule([block], [(9094, 9099)])])
    assert blocked([pol], Pod(address="10.1.2.3"), B, 9096) is None
    assert blocked([pol], Pod(address="10.9.2.3"), B, 9096) is not None
    assert blocked([pol], Pod(address="10.1.2.3"), B, 9100) is not None
    assert blocked([pol], A, B, 9096) is not None  # a pod is not an ipBlock address
    assert (
        blocked(
            [policy("out", "a", egress=[rule([cidr_peer("0.0.0.0/0")], [443])])],
            A,
            Pod(address="52.216.0.10"),
            443,
        )
        is None
    )
