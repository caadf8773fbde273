"""Observability of an AWS environment (seed 003 Monitoring and Alerting, seed 000 Monitoring and
Alerting): metrics, alerts, routing, dashboards and tracing on the environment's cluster. Exports the
OTLP endpoint the module fleets send traces to."""

from __future__ import annotations

from typing import Any

import pulumi

from components.fleet.settings import FleetSettings
from components.traffic.settings import TrafficSettings
from lib.kube.target import KubeTarget
from stacks.settings import StackSettings
from stacks.settings.estate import traffic_switch_of


def fleet_traffic(
    settings: StackSettings, switch: TrafficSettings | None = None
) -> tuple[tuple[str, ...], bool]:
    """(colours receiving traffic, standby) of the fleets this environment's Prometheus scrapes:
    a DR site before promotion is standby; an environment switched by a traffic stack (`switch`, that
    stack's committed `traffic`) sends traffic to traffic.active, or to every colour of weight above 0;
    an environment with its own fleets (one colour) to that colour. The traffic stack's `up` moves the
    DNS records and the environment's `up` the label, from the same committed value."""
    dr = settings.dr
    if dr is not None and dr.site == "dr" and dr.role == "standby":
        return (), True
    t = settings.traffic or switch
    if t is not None:
        if t.weights is not None:
            return tuple(sorted(c for c, w in t.weights.items() if w > 0)), False
        return (t.active,), False
    if settings.fleets is not None:
        return (settings.fleets.colour,), False
    return (), False


def build_observability(settings: StackSettings, kube: KubeTarget) -> tuple[dict[str, Any], pulumi.Resource]:
    """The stack's outputs, and the release that installs the monitoring.coreos.com CRDs (what the
    data plane's own monitors wait for)."""
    from components.observability.alertmanager import SECRET_FILES
    from components.observability.component import Observability, ObservabilityArgs

    assert settings.observability is not None
    from stacks.compose.secrets import receiver_secrets

    secrets = receiver_secrets(settings, SECRET_FILES)
    fleet_ports = settings.fleets or FleetSettings.model_construct(
        **{k: f.default for k, f in FleetSettings.model_fields.items() if k.endswith("_port")}
    )
    active, standby = fleet_traffic(settings, traffic_switch_of(pulumi.get_stack()))
    obs = Observability(
        "observability",
        ObservabilityArgs(
            settings=settings.observability,
            kube=kube,
            environment=settings.environment,
            receiver_secrets=secrets,
            metrics_port=fleet_ports.metrics_port,
            module_metrics_port=fleet_ports.health_port,
            active_colours=active,
            standby=standby,
            vpc_cidrs=(settings.network.cidr,) if settings.network is not None else (),
        ),
    )
    outputs = {
        "otlp_endpoint": obs.otlp_endpoint,
        "observability_namespace": obs.namespace.metadata.name,
        "grafana_admin_password": pulumi.Output.secret(obs.grafana_password.result),
    }
    return outputs, obs.stack
