"""The ingest DNS (seed 003 Blue-Green Deployment > Cutover Phase; Geographic Failover).

- An environment with `dns` (prod, prod-dr) exports its zone and ingest domain; the primary of a DR
  pair also exports the DR site's promotion-gate alarm (name and region) for its traffic stack.
- The DR site (prod-dr) declares the SECONDARY failover record over its own fleets and the promotion
  gate, after checking that its `dns` is the primary's (read from the primary's outputs).
- The traffic stack (prod-traffic) declares the blue-green weighted records over the colour stacks'
  ingest load balancers and, with `traffic.failover`, the PRIMARY failover record. It reads the
  environment stack and the colour stacks; nothing reads it, so the StackReference graph is acyclic.

A cutover (traffic.active or traffic.weights) changes only the weighted records of the traffic stack;
a DR promotion (dr.role primary on prod-dr) changes only the gate alarm's comparison (and the fleets'
sizes)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws.route53 as route53

from components.traffic.routing import gate_alarm_name
from stacks.references import short_name, stack_reference
from stacks.settings import StackSettings


def agreeing_dns(ours: tuple[str, str], theirs: tuple[str, str], *, peer_stack: str) -> tuple[str, str]:
    """(zone_name, domain) of this site, checked against the other site's exported values: both sites'
    failover records must be in one zone at one name, or Route 53 serves neither pair. Pure."""
    if tuple(ours) != tuple(theirs):
        raise ValueError(
            f"dns: this stack has zone {ours[0]} and domain {ours[1]}, but stack {peer_stack} exports "
            f"zone {theirs[0]} and domain {theirs[1]}; set the same pipeline-infra:dns on both sites"
        )
    return ours


def dns_outputs(settings: StackSettings) -> dict[str, Any]:
    """INGEST_OUTPUTS (and on a primary site DR_GATE_OUTPUTS) of an environment with `dns`."""
    if settings.dns is None:
        return {}
    out: dict[str, Any] = {
        "ingest_zone_name": settings.dns.zone_name,
        "ingest_domain": settings.dns.ingest_domain,
    }
    dr = settings.dr
    if dr is not None and dr.site == "primary":
        out["dr_gate_alarm_name"] = gate_alarm_name(short_name(dr.peer_stack))
        out["dr_gate_alarm_region"] = dr.peer_region
    return out


def build_traffic(
    settings: StackSettings,
    infra: Any = None,
    fleet_outputs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An environment's DNS part: its exports, and on a DR site the SECONDARY record and the gate."""
    from components.traffic.component import DrIngest, DrIngestArgs, LoadBalancerTarget

    outputs = dns_outputs(settings)
    dr = settings.dr
    if dr is None or dr.site != "dr" or settings.dns is None:
        return outputs
    fleet_outputs = fleet_outputs or {}
    if not fleet_outputs.get("ingest_lb_dns_name"):
        return outputs
    peer = stack_reference(dr.peer_stack)
    ours = (settings.dns.zone_name, settings.dns.ingest_domain)
    checked = pulumi.Output.all(
        peer.require_output("ingest_zone_name"), peer.require_output("ingest_domain")
    ).apply(lambda theirs: agreeing_dns(ours, (theirs[0], theirs[1]), peer_stack=dr.peer_stack))
    zone = route53.get_zone_output(name=checked.apply(lambda d: d[0]), private_zone=False)
    tags = {"Environment": settings.environment}
    site = DrIngest(
        "dr-ingest",
        DrIngestArgs(
            zone_id=zone.zone_id,
            domain=settings.dns.ingest_domain,
            environment=settings.environment,
            dr_stack=pulumi.get_stack(),
            promoted=dr.role == "primary",
            load_balancer=LoadBalancerTarget(
                dns_name=fleet_outputs["ingest_lb_dns_name"],
                zone_id=fleet_outputs["ingest_lb_zone_id"],
            ),
            load_balancer_arn_suffix=fleet_outputs["ingest_lb_arn_suffix"],
            target_group_arn_suffix=fleet_outputs["ingest_target_group_arn_suffix"],
            region=settings.region or "",
            tags=tags,
        ),
    )
    outputs["ingest_health_check_fqdn"] = site.site.name
    outputs["dr_role"] = dr.role
    return outputs


def build_traffic_switch(settings: StackSettings) -> dict[str, Any]:
    """The traffic stack: the weighted records over the colour stacks (and the PRIMARY record)."""
    from components.traffic.component import IngestSwitch, IngestSwitchArgs, LoadBalancerTarget

    t, env_stack = settings.traffic, settings.environment_stack
    assert t is not None and env_stack is not None
    env = stack_reference(env_stack)
    zone_name, domain = env.require_output("ingest_zone_name"), env.require_output("ingest_domain")
    zone = route53.get_zone_output(name=zone_name, private_zone=False)
    colours = {}
    for colour, stack in sorted(t.colour_stacks.items()):
        ref = stack_reference(stack)
        colours[colour] = LoadBalancerTarget(
            dns_name=ref.require_output("ingest_lb_dns_name"), zone_id=ref.require_output("ingest_lb_zone_id")
        )
    switch = IngestSwitch(
        "ingest",
        IngestSwitchArgs(
            zone_id=zone.zone_id,
            domain=domain,
            environment=settings.environment,
            active=t.active,
            colours=colours,
            weights=t.weights,
            gate_alarm_name=env.require_output("dr_gate_alarm_name") if t.failover else None,
            gate_alarm_region=env.require_output("dr_gate_alarm_region") if t.failover else None,
            tags={"Environment": settings.environment},
        ),
    )
    return {
        "ingest_domain": domain,
        "ingest_health_check_fqdn": switch.health_check_fqdn,
        "active_colour": t.active,
        "environment_stack": env_stack,
    }
