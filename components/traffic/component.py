"""Ingest DNS in Route53.

IngestSwitch (the primary site's traffic stack, prod-traffic): weighted alias records blue/green at
`<environment>.<domain>`, each pointing at its colour stack's ingest load balancer with target-health
evaluation; and, with DR, the PRIMARY failover record at `<domain>` pointing at that weighted set,
guarded by a health check on the DR promotion gate alarm.

DrIngest (DR site, prod-dr): `<environment>.<domain>` aliasing the DR ingest load balancer, the
SECONDARY failover record at `<domain>` with a health check on the DR ingest's healthy hosts, and the
promotion gate alarm (in ALARM while dr.role is primary, which turns the primary's record unhealthy so
Route53 serves the DR site).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws.cloudwatch as cloudwatch
import pulumi_aws.route53 as route53

from components.traffic.routing import (
    COLOURS,
    colour_weights,
    dr_ingest_alarm,
    gate_alarm,
    gate_alarm_name,
    site_name,
)


@dataclass(frozen=True)
class LoadBalancerTarget:
    dns_name: pulumi.Input[str]
    zone_id: pulumi.Input[str]


@dataclass(frozen=True)
class IngestSwitchArgs:
    zone_id: pulumi.Input[str]
    domain: pulumi.Input[str]
    environment: str
    active: str
    colours: dict[str, LoadBalancerTarget]
    weights: dict[str, int] | None = None
    # the DR site's promotion-gate alarm and its region, when the primary's record is one side of a
    # failover pair (the DR stack owns the alarm)
    gate_alarm_name: pulumi.Input[str] | None = None
    gate_alarm_region: pulumi.Input[str] | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if set(self.colours) != set(COLOURS):
            raise ValueError(f"colours: needs exactly {COLOURS} (got {sorted(self.colours)})")
        colour_weights(self.active, self.weights)
        if (self.gate_alarm_name is None) != (self.gate_alarm_region is None):
            raise ValueError("gate_alarm_name and gate_alarm_region go together")


class IngestSwitch(pulumi.ComponentResource):
    def __init__(self, name: str, args: IngestSwitchArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pipeline-infra:traffic:IngestSwitch", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        failover = args.gate_alarm_name is not None
        domain = pulumi.Output.from_input(args.domain)
        weighted_name = domain.apply(lambda d: site_name(args.environment, d)) if failover else domain
        weights = colour_weights(args.active, args.weights)
        self.records: dict[str, route53.Record] = {}
        for colour in COLOURS:
            target = args.colours[colour]
            self.records[colour] = route53.Record(
                f"{name}-{colour}",
                zone_id=args.zone_id,
                name=weighted_name,
                type="A",
                set_identifier=colour,
                weighted_routing_policies=[route53.RecordWeightedRoutingPolicyArgs(weight=weights[colour])],
                aliases=[
                    route53.RecordAliasArgs(
                        name=target.dns_name, zone_id=target.zone_id, evaluate_target_health=True
                    )
                ],
                opts=child,
            )
        self.health_check_fqdn = weighted_name
        outputs: dict[str, object] = {"weighted_name": weighted_name}
        if failover:
            assert args.gate_alarm_name is not None and args.gate_alarm_region is not None
            # The alias target must exist: the failover record waits for the weighted records.
            target = pulumi.Output.all(weighted_name, *[r.fqdn for r in self.records.values()]).apply(
                lambda a: a[0]
            )
            self.gate, self.primary = _failover(
                name,
                "primary",
                args.zone_id,
                domain,
                target,
                alarm_name=args.gate_alarm_name,
                alarm_region=args.gate_alarm_region,
                # before the DR stack exists (or while its alarm has no data) the primary is served
                no_data="Healthy",
                tags={**args.tags, "Name": f"{args.environment} primary ingest (DR promotion gate)"},
                opts=child,
                check_name=f"{name}-dr-gate",
            )
            outputs["gate_health_check_id"] = self.gate.id
        self.register_outputs(outputs)


@dataclass(frozen=True)
class DrIngestArgs:
    zone_id: pulumi.Input[str]
    domain: str
    environment: str
    dr_stack: str  # this stack's name (the gate alarm's name derives from it)
    promoted: bool
    load_balancer: LoadBalancerTarget
    load_balancer_arn_suffix: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]
    region: str
    tags: dict[str, str] = field(default_factory=dict)


class DrIngest(pulumi.ComponentResource):
    def __init__(self, name: str, args: DrIngestArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pipeline-infra:traffic:DrIngest", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        dims = {"LoadBalancer": args.load_balancer_arn_suffix, "TargetGroup": args.target_group_arn_suffix}
        own_name = site_name(args.environment, args.domain)
        self.site = route53.Record(
            f"{name}-site",
            zone_id=args.zone_id,
            name=own_name,
            type="A",
            aliases=[
                route53.RecordAliasArgs(
                    name=args.load_balancer.dns_name,
                    zone_id=args.load_balancer.zone_id,
                    evaluate_target_health=True,
                )
            ],
            opts=child,
        )
        # The DR ingest is healthy while its alpha target group has a healthy host.
        self.healthy_alarm = cloudwatch.MetricAlarm(
            f"{name}-ingest-unhealthy",
            namespace="AWS/NetworkELB",
            metric_name="HealthyHostCount",
            dimensions=dims,
            statistic="Minimum",
            period=60,
            evaluation_periods=2,
            treat_missing_data="breaching",
            alarm_description=f"{args.environment} ingest has no healthy alpha instance, or the site "
            "is a standby (dr.role standby: always in ALARM, no traffic before promotion)",
            **dr_ingest_alarm(args.promoted),  # type: ignore[arg-type]
            tags=args.tags,
            opts=child,
        )
        self.health_check, self.secondary = _failover(
            name,
            "secondary",
            args.zone_id,
            args.domain,
            # The alias target must exist: the failover record waits for the site's record.
            pulumi.Output.all(own_name, self.site.fqdn).apply(lambda a: a[0]),
            alarm_name=self.healthy_alarm.name,
            alarm_region=args.region,
            no_data="Unhealthy",
            tags={**args.tags, "Name": f"{args.environment} DR ingest"},
            opts=child,
            check_name=f"{name}-ingest",
        )
        # The promotion gate: the primary's failover record turns unhealthy while this is in ALARM.
        self.gate = cloudwatch.MetricAlarm(
            f"{name}-promotion-gate",
            name=gate_alarm_name(args.dr_stack),
            namespace="AWS/NetworkELB",
            metric_name="HealthyHostCount",
            dimensions=dims,
            statistic="Minimum",
            period=60,
            evaluation_periods=1,
            threshold=0,
            alarm_description="In ALARM while the DR site is promoted (dr.role primary): "
            "Route53 serves the DR site",
            tags=args.tags,
            opts=child,
            **gate_alarm(args.promoted),  # type: ignore[arg-type]
        )
        self.register_outputs(
            {"site_name": own_name, "health_check_id": self.health_check.id, "gate_alarm": self.gate.name}
        )


def _failover(
    name: str,
    role: str,
    zone_id: pulumi.Input[str],
    domain: pulumi.Input[str],
    alias: pulumi.Input[str],
    *,
    alarm_name: pulumi.Input[str],
    alarm_region: pulumi.Input[str],
    no_data: str,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
    check_name: str,
) -> tuple[route53.HealthCheck, route53.Record]:
    """One side of the failover pair: a health check on a CloudWatch alarm and the PRIMARY or
    SECONDARY alias record it guards (the alias evaluates its target's health too)."""
    check = route53.HealthCheck(
        check_name,
        type="CLOUDWATCH_METRIC",
        cloudwatch_alarm_name=alarm_name,
        cloudwatch_alarm_region=alarm_region,
        insufficient_data_health_status=no_data,
        tags=tags,
        opts=opts,
    )
    record = route53.Record(
        f"{name}-{role}",
        zone_id=zone_id,
        name=domain,
        type="A",
        set_identifier=role,
        failover_routing_policies=[route53.RecordFailoverRoutingPolicyArgs(type=role.upper())],
        health_check_id=check.id,
        aliases=[route53.RecordAliasArgs(name=alias, zone_id=zone_id, evaluate_target_health=True)],
        opts=opts,
    )
    return check, record
