"""An AWS environment stack (staging, prod, prod-dr): foundation, data plane, observability, and the
fleets, ingest DNS exports or DR failover the stack's settings ask for."""

from __future__ import annotations

import dataclasses
from typing import Any

from stacks.contract import ENVIRONMENT_OUTPUTS
from stacks.settings import StackSettings


def build_aws_environment(settings: StackSettings) -> dict[str, Any]:
    from stacks.compose.aws_infra import build_aws_infra
    from stacks.compose.data_plane import build_data_plane
    from stacks.compose.observability import build_observability

    infra = build_aws_infra(settings)
    outputs: dict[str, Any] = {}
    # Observability first: its chart installs the monitoring CRDs the data plane's monitors need.
    observability, monitoring = build_observability(settings, infra.kube)
    outputs |= observability
    outputs |= build_data_plane(
        settings, infra.kube, infra.backups, monitoring=[monitoring], vpc_id=infra.network.vpc_id
    )
    network = dataclasses.replace(
        infra.network,
        otlp_endpoint=observability["otlp_endpoint"],
        kafka_fleet_bootstrap=outputs["kafka_fleet_bootstrap"],
        postgres_fleet_endpoint=outputs["postgres_fleet_endpoint"],
    )
    outputs |= {name: getattr(network, name) for name in ENVIRONMENT_OUTPUTS}
    fleet_outputs: dict[str, Any] = {}
    if settings.fleets is not None:
        from stacks.compose.fleets import build_fleets

        fleet_outputs = build_fleets(settings, network)
        outputs |= fleet_outputs
    if settings.dns is not None:
        from stacks.compose.traffic import build_traffic

        outputs |= build_traffic(settings, infra, fleet_outputs=fleet_outputs)
    return outputs
