"""Observability of an AWS environment (seed 003 Monitoring and Alerting, seed 000 Monitoring and
Alerting): metrics, alerts, routing, dashboards and tracing on the environment's cluster. Exports the
OTLP endpoint the module fleets send traces to."""

from __future__ import annotations

from typing import Any

import pulumi

from components.fleet.settings import FleetSettings
from lib.kube.target import KubeTarget
from stacks.settings import StackSettings


def build_observability(settings: StackSettings, kube: KubeTarget) -> tuple[dict[str, Any], pulumi.Resource]:
    """The stack's outputs, and the release that installs the monitoring.coreos.com CRDs (what the
    data plane's own monitors wait for)."""
    from components.observability.alertmanager import SECRET_FILES
    from components.observability.component import Observability, ObservabilityArgs

    assert settings.observability is not None
    # load_settings guarantees every alerting secret on an AWS environment.
    secrets = {file_name: getattr(settings, field_name) for file_name, field_name in SECRET_FILES.items()}
    metrics_port = (
        settings.fleets.metrics_port
        if settings.fleets is not None
        else FleetSettings.model_fields["metrics_port"].default
    )
    obs = Observability(
        "observability",
        ObservabilityArgs(
            settings=settings.observability,
            kube=kube,
            environment=settings.environment,
            receiver_secrets=secrets,
            metrics_port=metrics_port,
            vpc_cidrs=(settings.network.cidr,) if settings.network is not None else (),
        ),
    )
    outputs = {
        "otlp_endpoint": obs.otlp_endpoint,
        "observability_namespace": obs.namespace.metadata.name,
        "grafana_admin_password": pulumi.Output.secret(obs.grafana_password.result),
    }
    return outputs, obs.stack
