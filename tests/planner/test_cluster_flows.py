"""The in-cluster flows (lib/kube/flows.yaml) against the committed stacks' NetworkPolicies, through
the estate's reachability check: every flow that applies passes today, and taking away one policy, one
rule or one port cuts the flows that need it, which the check then reports."""

from __future__ import annotations

import copy
from functools import cache

import pytest

from planner.checks.reachability import _cluster_flows, _monitors, required_flows
from planner.report import estate_json
from tests.conftest import estate_of

NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
STACKS = ("staging", "prod", "prod-dr")


@cache
def _estate() -> dict:
    return estate_json(estate_of())


def _without(stack: str, edit) -> dict:
    """The estate with `edit(resources)` applied to one stack's resources (a copy)."""
    estate = copy.deepcopy(_estate())
    estate["stacks"] = {stack: estate["stacks"][stack]}
    edit(estate["stacks"][stack]["resources"])
    return estate


def _policy(resources: list, namespace: str, name: str) -> dict:
    [found] = [
        r
        for r in resources
        if r["type"] == NETPOL
        and r["inputs"]["metadata"]["namespace"] == namespace
        and r["inputs"]["metadata"]["name"] == name
    ]
    return found


def _flows(findings) -> set[str]:
    return {f.message.split(" ", 2)[1] for f in findings}


@pytest.mark.parametrize("stack", STACKS)
def test_every_required_flow_passes_the_committed_policies(stack):
    estate = _without(stack, lambda resources: None)
    assert _cluster_flows(estate) == []
    assert _monitors(estate) == []
    # The flows really apply to the stack: its namespaces carry default deny.
    deny = [
        r
        for r in estate["stacks"][stack]["resources"]
        if r["type"] == NETPOL and r["name"].endswith("default-deny")
    ]
    assert len(deny) == 7  # operators, cert-manager, scylla, scylla-manager, postgres, kafka, observability


# (namespace, policy taken away) -> flows it carries alone.
CUTS = [
    (("scylla", "allow-scylla-clients"), {"connect-cdc-reads", "scylla-manager-agents", "scrape-scylla"}),
    (("postgres", "allow-postgres-clients"), {"jdbc-sink-postgres", "cnpg-instances", "scrape-postgres"}),
    (("postgres", "allow-fleets-to-pooler"), {"fleets-postgres"}),
    (("kafka", "allow-connect"), {"connect-cdc-reads", "jdbc-sink-postgres", "strimzi-connect"}),
    (("kafka", "allow-kafka-clients"), {"strimzi-kafka", "fleets-kafka-listener", "scrape-kafka"}),
    (("scylla", "allow-dns"), {"dns"}),
    (
        ("kafka", "allow-same-namespace"),
        {"connect-kafka", "connect-schema-registry", "offsets-backup-connect"},
    ),
    (("scylla", "allow-scylla-backups"), {"scylla-backups"}),
    (("operators", "allow-webhooks"), {"webhook-cloudnative-pg", "webhook-scylla-operator"}),
    (("observability", "allow-prometheus-scrapes"), {"scrape-postgres", "scrape-fleets"}),
]


@pytest.mark.parametrize(("policy", "cut"), CUTS, ids=[f"{ns}/{name}" for (ns, name), _ in CUTS])
def test_taking_a_policy_away_cuts_the_flows_it_carries(policy, cut):
    namespace, name = policy

    def drop(resources):
        resources.remove(_policy(resources, namespace, name))

    found = _flows(_cluster_flows(_without("prod", drop)))
    assert cut <= found, found


def test_a_missing_port_is_a_cut_flow():
    def narrow(resources):
        rules = _policy(resources, "scylla", "allow-scylla-clients")["inputs"]["spec"]["ingress"]
        rules[0]["ports"] = [p for p in rules[0]["ports"] if p["port"] != 9042]

    findings = _cluster_flows(_without("prod", narrow))
    assert _flows(findings) == {"connect-cdc-reads"}
    assert "kafka -> scylla on 9042: no ingress rule of" in findings[0].message


def test_the_dr_flows_need_the_peer_site():
    def no_peer(resources):
        resources.remove(_policy(resources, "scylla", "allow-scylla-other-datacenter"))

    found = _flows(_cluster_flows(_without("prod-dr", no_peer)))
    assert {"scylla-other-datacenter", "scylla-to-other-datacenter"} <= found


def test_prometheus_scrapes_are_checked_against_every_policy_together():
    """A ServiceMonitor target behind default deny is reachable only through the policy that admits
    Prometheus: without it the monitor is a finding."""

    def drop(resources):
        resources.remove(_policy(resources, "kafka", "schema-registry"))

    findings = _monitors(_without("prod", drop))
    assert findings and all("schema-registry" in f.resource for f in findings), findings


def test_every_flow_names_why_and_only_known_sides():
    for flow in required_flows():
        assert flow["why"] and flow["ports"], flow["name"]
        for side in (flow["from"], flow["to"]):
            assert ("network" in side) != ("namespace" in side), flow["name"]
            assert side.get("network") in (None, "vpc", "peer", "internet"), flow["name"]
    names = [f["name"] for f in required_flows()]
    assert len(names) == len(set(names))
