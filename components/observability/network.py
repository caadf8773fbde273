"""The observability namespace's NetworkPolicies (pure: no Pulumi): default deny and the
lib.kube.netpol baseline, then what the monitoring stack needs. Pods are selected by the labels the
Prometheus Operator and the OpenTelemetry Operator put on the pods they create (Prometheus
`app.kubernetes.io/name: prometheus`, Alertmanager `app.kubernetes.io/name: alertmanager`, collectors
`app.kubernetes.io/component: opentelemetry-collector`, the selector of the OTLP Service here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lib.kube.netpol import ANYWHERE, cidr_peer, namespace_baseline, policy, rule

PART_OF = {"app.kubernetes.io/part-of": "pipeline-infra"}
PROMETHEUS = {"app.kubernetes.io/name": "prometheus"}
ALERTMANAGER = {"app.kubernetes.io/name": "alertmanager"}
COLLECTOR = {"app.kubernetes.io/component": "opentelemetry-collector"}
# The Prometheus Operator's admission webhook (kube-prometheus-stack) and the OpenTelemetry Operator's.
WEBHOOK_PORTS = (10250, 9443)
OTLP_PORTS = (4317, 4318)


def observability_policies(
    namespace: str, *, vpc_cidrs: Sequence[str], tracing: bool
) -> list[dict[str, Any]]:
    """`vpc_cidrs`: the site's network (the EKS control plane, the nodes and the EC2 fleets)."""
    vpc = [cidr_peer(c) for c in vpc_cidrs]
    out = namespace_baseline(namespace, api_cidrs=vpc_cidrs, labels=PART_OF)
    out += [
        policy("allow-webhooks", namespace, ingress=[rule(vpc, WEBHOOK_PORTS)], labels=PART_OF),
        # Prometheus scrapes every namespace's pods, the nodes and the fleets' instances on their own
        # ports (the targets' policies decide), and calls the EC2 API for service discovery.
        policy(
            "allow-prometheus-scrapes",
            namespace,
            pods=PROMETHEUS,
            egress=[
                rule([{"namespaceSelector": {}}]),
                rule(vpc),
                rule([cidr_peer(ANYWHERE)], [443]),
            ],
            labels=PART_OF,
        ),
        # Alertmanager's receivers (chat and paging services) are HTTPS endpoints on the internet.
        policy(
            "allow-alertmanager-receivers",
            namespace,
            pods=ALERTMANAGER,
            egress=[rule([cidr_peer(ANYWHERE)], [443])],
            labels=PART_OF,
        ),
    ]
    if tracing:
        # The fleets send traces through the internal load balancer (OTLP Service).
        out.append(
            policy(
                "allow-otlp-from-fleets",
                namespace,
                pods=COLLECTOR,
                ingress=[rule(vpc, OTLP_PORTS)],
                labels=PART_OF,
            )
        )
    return out
