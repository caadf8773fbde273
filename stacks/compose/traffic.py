"""The ingest DNS of an AWS environment: on the primary site (prod) the blue-green weighted records
over the colour stacks' ingest load balancers and the PRIMARY failover record; on the DR site
(prod-dr) the SECONDARY failover record over its own fleets and the promotion gate.

A cutover (traffic.active or traffic.weights) changes only the weighted records; a DR promotion
(dr.role primary on prod-dr) changes only the gate alarm's comparison (and the fleets' sizes)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws.route53 as route53

from components.traffic.settings import TrafficSettings
from stacks.contract import AwsInfra
from stacks.settings import StackSettings


def _dns(settings: StackSettings) -> tuple[str, str]:
    t = settings.traffic
    if t is not None:
        return t.domain, t.zone_name
    fields = TrafficSettings.model_fields
    return str(fields["domain"].default), str(fields["zone_name"].default)


def build_traffic(
    settings: StackSettings,
    infra: AwsInfra | None = None,
    fleet_outputs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from components.traffic.component import (
        DrIngest,
        DrIngestArgs,
        IngestSwitch,
        IngestSwitchArgs,
        LoadBalancerTarget,
    )

    domain, zone_name = _dns(settings)
    zone = route53.get_zone_output(name=zone_name, private_zone=False)
    tags = {"Environment": settings.environment}
    outputs: dict[str, Any] = {"ingest_domain": domain}
    dr = settings.dr

    if settings.traffic is not None:
        t = settings.traffic
        colours = {}
        for colour, stack in sorted(t.colour_stacks.items()):
            ref = pulumi.StackReference(f"{colour}-fleet", stack_name=stack)
            colours[colour] = LoadBalancerTarget(
                dns_name=ref.get_output("ingest_lb_dns_name"), zone_id=ref.get_output("ingest_lb_zone_id")
            )
        primary_of_pair = dr is not None and dr.site == "primary"
        switch = IngestSwitch(
            "ingest",
            IngestSwitchArgs(
                zone_id=zone.zone_id,
                domain=domain,
                environment=settings.environment,
                active=t.active,
                colours=colours,
                weights=t.weights,
                dr_stack=dr.peer_stack if primary_of_pair else None,
                dr_region=dr.peer_region if primary_of_pair else None,
                tags=tags,
            ),
        )
        outputs["ingest_health_check_fqdn"] = switch.health_check_fqdn
        outputs["active_colour"] = t.active

    if dr is not None and dr.site == "dr":
        fleet_outputs = fleet_outputs or {}
        if fleet_outputs.get("ingest_lb_dns_name"):
            site = DrIngest(
                "dr-ingest",
                DrIngestArgs(
                    zone_id=zone.zone_id,
                    domain=domain,
                    environment=settings.environment,
                    dr_stack=pulumi.get_stack(),
                    promoted=dr.role == "primary",
                    load_balancer=LoadBalancerTarget(
                        dns_name=fleet_outputs["ingest_lb_dns_name"],
                        zone_id=fleet_outputs["ingest_lb_zone_id"],
                    ),
                    load_balancer_arn_suffix=fleet_outputs["ingest_lb_arn_suffix"],
                    target_group_arn_suffix=fleet_outputs["ingest_target_group_arn_suffix"],
                    region=settings.region,
                    tags=tags,
                ),
            )
            outputs["ingest_health_check_fqdn"] = site.site.name
            outputs["dr_role"] = dr.role
    return outputs
