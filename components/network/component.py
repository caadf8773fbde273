"""The VPC of an AWS environment: subnets over the AZs, NAT, S3 gateway and interface endpoints, flow
logs, and the security groups of seed 003's flows (components/network/flows.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws.cloudwatch as cloudwatch
import pulumi_aws.ec2 as ec2
import pulumi_aws.iam as iam
import pulumi_aws.kms as kms
import pulumi_aws.vpc as vpc

from components.network.flows import (
    INTERFACE_ENDPOINTS,
    SECURITY_GROUPS,
    FleetPorts,
    Flow,
    intended_flows,
    subnet_plan,
)
from components.network.settings import NetworkSettings
from lib.aws.key_policy import ebs_key_policy, logs_key_policy
from lib.aws.kms import customer_key


@dataclass(frozen=True)
class NetworkArgs:
    settings: NetworkSettings
    environment: str
    region: str
    zones: tuple[str, ...]  # the AZs to use, az_count of them
    ports: FleetPorts
    peer_cidr: str | None = None  # the other site of a DR pair (data-plane replication rules)
    account_id: str | None = None  # confines the flow-log service's role to this account's flow logs
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.zones) != self.settings.az_count:
            raise ValueError(f"{len(self.zones)} zones given for az_count {self.settings.az_count}")
        if len(set(self.zones)) != len(self.zones):
            raise ValueError(f"zones must differ: {self.zones}")


def _slug(flow: Flow) -> str:
    peer = flow.peer.replace("/", "-").replace(".", "-") if flow.peer_kind == "cidr" else flow.peer
    span = str(flow.from_port) if flow.from_port == flow.to_port else f"{flow.from_port}-{flow.to_port}"
    return f"{flow.group}-{'in' if flow.direction == 'ingress' else 'out'}-{peer}-{span}"


class Network(pulumi.ComponentResource):
    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-infra:network:Network", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        tags = {"Environment": args.environment, **args.tags}

        def tagged(suffix: str) -> dict[str, str]:
            return {**tags, "Name": f"{name}-{suffix}"}

        self.vpc = ec2.Vpc(
            f"{name}-vpc",
            cidr_block=s.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=tagged("vpc"),
            opts=child,
        )
        private_cidrs, public_cidrs = subnet_plan(s.cidr, s.az_count)
        self.private_subnets: list[ec2.Subnet] = []
        self.public_subnets: list[ec2.Subnet] = []
        for i, zone in enumerate(args.zones):
            self.public_subnets.append(
                ec2.Subnet(
                    f"{name}-public-{i}",
                    vpc_id=self.vpc.id,
                    cidr_block=public_cidrs[i],
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags={**tagged(f"public-{zone}"), "kubernetes.io/role/elb": "1"},
                    opts=child,
                )
            )
            self.private_subnets.append(
                ec2.Subnet(
                    f"{name}-private-{i}",
                    vpc_id=self.vpc.id,
                    cidr_block=private_cidrs[i],
                    availability_zone=zone,
                    tags={**tagged(f"private-{zone}"), "kubernetes.io/role/internal-elb": "1"},
                    opts=child,
                )
            )

        # Internet gateway and the public route table.
        self.igw = ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, tags=tagged("igw"), opts=child)
        self.public_route_table = ec2.RouteTable(
            f"{name}-public", vpc_id=self.vpc.id, tags=tagged("public"), opts=child
        )
        ec2.Route(
            f"{name}-public-default",
            route_table_id=self.public_route_table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=self.igw.id,
            opts=child,
        )
        for i, subnet in enumerate(self.public_subnets):
            ec2.RouteTableAssociation(
                f"{name}-public-{i}",
                subnet_id=subnet.id,
                route_table_id=self.public_route_table.id,
                opts=child,
            )

        # NAT: one per AZ (an AZ outage leaves the others their egress), or one for the VPC.
        nat_count = s.az_count if s.nat == "per-az" else 1
        self.nat_gateways: list[ec2.NatGateway] = []
        for i in range(nat_count):
            eip = ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags=tagged(f"nat-{i}"), opts=child)
            self.nat_gateways.append(
                ec2.NatGateway(
                    f"{name}-nat-{i}",
                    allocation_id=eip.id,
                    subnet_id=self.public_subnets[i].id,
                    connectivity_type="public",
                    tags=tagged(f"nat-{args.zones[i]}"),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self.igw]),
                )
            )

        # One private route table per AZ, default route through its AZ's NAT (or the single one).
        self.private_route_tables: list[ec2.RouteTable] = []
        for i, subnet in enumerate(self.private_subnets):
            table = ec2.RouteTable(
                f"{name}-private-{i}", vpc_id=self.vpc.id, tags=tagged(f"private-{args.zones[i]}"), opts=child
            )
            ec2.Route(
                f"{name}-private-{i}-default",
                route_table_id=table.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=self.nat_gateways[i % nat_count].id,
                opts=child,
            )
            ec2.RouteTableAssociation(
                f"{name}-private-{i}", subnet_id=subnet.id, route_table_id=table.id, opts=child
            )
            self.private_route_tables.append(table)

        # S3 gateway endpoint on every route table (artifacts, backups: no NAT traffic, no internet).
        self.s3_endpoint = ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[t.id for t in self.private_route_tables] + [self.public_route_table.id],
            tags=tagged("s3"),
            opts=child,
        )

        # Security groups (rules separately: one resource per flow).
        self.security_groups: dict[str, ec2.SecurityGroup] = {
            group: ec2.SecurityGroup(
                f"{name}-{group}",
                vpc_id=self.vpc.id,
                description=_SG_DESCRIPTIONS[group],
                tags=tagged(group),
                opts=child,
            )
            for group in SECURITY_GROUPS
        }
        self.flows = intended_flows(
            vpc_cidr=s.cidr,
            ports=args.ports,
            source_cidrs=s.source_cidrs,
            source_ports=s.source_ports,
            enrichment_cidrs=s.enrichment_cidrs,
            enrichment_ports=s.enrichment_ports,
            destination_cidrs=s.destination_cidrs,
            destination_ports=s.destination_ports,
            public_ingest=s.public_ingest,
            peer_cidr=args.peer_cidr,
        )
        self.rules: list[pulumi.CustomResource] = []
        for flow in self.flows:
            peer: dict[str, pulumi.Input[str]] = {}
            if flow.peer_kind == "sg":
                peer["referenced_security_group_id"] = self.security_groups[flow.peer].id
            elif flow.peer_kind == "cidr":
                peer["cidr_ipv4"] = flow.peer
            else:
                peer["prefix_list_id"] = self.s3_endpoint.prefix_list_id
            cls = vpc.SecurityGroupIngressRule if flow.direction == "ingress" else vpc.SecurityGroupEgressRule
            self.rules.append(
                cls(
                    f"{name}-{_slug(flow)}",
                    security_group_id=self.security_groups[flow.group].id,
                    ip_protocol="tcp",
                    from_port=flow.from_port,
                    to_port=flow.to_port,
                    description=flow.description,
                    opts=child,
                    **peer,
                )
            )

        # Interface endpoints: SSM (Session Manager) and CloudWatch without the internet.
        self.interface_endpoints = [
            ec2.VpcEndpoint(
                f"{name}-{service}",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{args.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[sn.id for sn in self.private_subnets],
                security_group_ids=[self.security_groups["endpoints"].id],
                tags=tagged(service),
                opts=child,
            )
            for service in INTERFACE_ENDPOINTS
        ]

        # The environment's keys (with an account): its log groups', and its EBS volumes' (the fleets'
        # launch templates, the EKS nodes, the data plane's volumes), which Auto Scaling may use.
        self.logs_key: kms.Key | None = None
        self.ebs_key: kms.Key | None = None
        if args.account_id is not None:
            self.logs_key = customer_key(
                f"{name}-logs",
                f"pipeline-infra {args.environment}: CloudWatch log groups",
                tags=tags,
                policy=logs_key_policy(account_id=args.account_id, region=args.region),
                opts=child,
            )
            self.ebs_key = customer_key(
                f"{name}-ebs",
                f"pipeline-infra {args.environment}: EBS volumes (fleets, EKS nodes, data plane)",
                tags=tags,
                policy=ebs_key_policy(account_id=args.account_id, region=args.region),
                opts=child,
            )
            kms.Alias(
                f"{name}-ebs",
                name=f"alias/pipeline-infra/{args.environment}/ebs",
                target_key_id=self.ebs_key.key_id,
                opts=child,
            )

        # VPC flow logs to CloudWatch Logs, written by a role that can do only that.
        self.flow_log_group = cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/pipeline-infra/{args.environment}/vpc-flow-logs",
            retention_in_days=s.flow_logs_retention_days,
            kms_key_id=self.logs_key.arn if self.logs_key is not None else None,
            tags=tags,
            opts=child,
        )
        trust: dict = {
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
        if args.account_id is not None:  # no confused deputy: only this account's flow logs
            trust["Condition"] = {
                "StringEquals": {"aws:SourceAccount": args.account_id},
                "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{args.region}:{args.account_id}:vpc-flow-log/*"},
            }
        self.flow_log_role = iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [trust]}),
            tags=tags,
            opts=child,
        )
        iam.RolePolicy(
            f"{name}-flow-logs",
            role=self.flow_log_role.id,
            policy=self.flow_log_group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                    "logs:DescribeLogStreams",
                                ],
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        self.flow_log = ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=self.flow_log_role.arn,
            max_aggregation_interval=60,
            tags=tagged("flow-log"),
            opts=child,
        )

        self.private_subnet_ids = pulumi.Output.all(*[sn.id for sn in self.private_subnets])
        self.public_subnet_ids = pulumi.Output.all(*[sn.id for sn in self.public_subnets])
        self.private_route_table_ids = pulumi.Output.all(*[t.id for t in self.private_route_tables])
        self.security_group_ids = {group: sg.id for group, sg in self.security_groups.items()}
        self.register_outputs(
            {
                "vpc_id": self.vpc.id,
                "vpc_cidr": self.vpc.cidr_block,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
                "private_route_table_ids": self.private_route_table_ids,
                "security_group_ids": self.security_group_ids,
            }
        )


_SG_DESCRIPTIONS = {
    "alpha": "Module alpha fleet: sources in, handoff to beta",
    "beta": "Module beta fleet: handoff from alpha, to gamma, enrichment out",
    "gamma": "Module gamma fleet: handoff from beta, delivery out",
    "ingest-lb": "Ingest load balancer: source listener, health checks",
    "handoff-lb-beta": "Handoff load balancer of beta: from alpha, health checks",
    "handoff-lb-gamma": "Handoff load balancer of gamma: from beta, health checks",
    "data-plane": "EKS nodes: Kafka, PostgreSQL, ScyllaDB, Schema Registry, OTLP, Prometheus",
    "endpoints": "Interface VPC endpoints (SSM, CloudWatch)",
}
