"""VPC peering between the two sites of a DR pair, declared by the DR site (the requester).

Both sites are in one account: the DR site requests the peering in its region, accepts it in the
primary's region (the resources' own `region`, through the stack's one provider), and routes the
other site's CIDR over it on the private route tables of both VPCs. The primary reads nothing from
the DR site, so the primary deploys first and the DR site after it (the DR site reads the
primary's `vpc_id`, `vpc_cidr` and `private_route_table_ids`, which the composition passes in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws.ec2 as ec2


def checked_peer_network(declared: str, actual: str, peer_stack: str) -> str:
    if actual != declared:
        raise ValueError(f"dr.peer_cidr is {declared} but stack {peer_stack} has vpc_cidr {actual}")
    return actual


@dataclass(frozen=True)
class VpcPeeringArgs:
    environment: str
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    route_table_ids: Sequence[pulumi.Input[str]]
    # The primary's outputs (the composition reads them from its stack by StackReference).
    peer_stack: str  # names the primary in errors
    peer_vpc_id: pulumi.Input[str]
    peer_vpc_cidr: pulumi.Input[str]
    peer_route_table_ids: pulumi.Input[Sequence[str]]
    peer_region: str
    peer_cidr: str
    account_id: pulumi.Input[str]
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import ipaddress

        if ipaddress.ip_network(self.vpc_cidr).overlaps(ipaddress.ip_network(self.peer_cidr)):
            raise ValueError(f"peer_cidr {self.peer_cidr} overlaps {self.vpc_cidr}")
        if not self.route_table_ids:
            raise ValueError("route_table_ids: the private route tables to route the peer over")


class VpcPeering(pulumi.ComponentResource):
    def __init__(self, name: str, args: VpcPeeringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-infra:network:VpcPeering", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {"Environment": args.environment, "Name": name, **args.tags}
        # The peer region's side (acceptance, routes) per resource (pulumi-aws v7 `region`) through
        # the default provider: it inherits the stack's `aws:` configuration (credentials, tags, ...).
        in_peer = {"region": args.peer_region}

        # dr.peer_cidr must be the peer's actual network: routes and security-group rules use it.
        self.peer_cidr = pulumi.Output.from_input(args.peer_vpc_cidr).apply(
            lambda actual: checked_peer_network(args.peer_cidr, actual, args.peer_stack)
        )
        peer_vpc_id = pulumi.Output.all(args.peer_vpc_id, self.peer_cidr).apply(
            lambda a: a[0]
        )
        self.connection = ec2.VpcPeeringConnection(
            f"{name}-request",
            vpc_id=args.vpc_id,
            peer_vpc_id=peer_vpc_id,
            peer_region=args.peer_region,
            peer_owner_id=args.account_id,
            auto_accept=False,  # cross-region: accepted by the accepter resource in the peer region
            tags=tags,
            opts=child,
        )
        self.accepter = ec2.VpcPeeringConnectionAccepter(
            f"{name}-accept",
            vpc_peering_connection_id=self.connection.id,
            auto_accept=True,
            tags=tags,
            opts=child,
            **in_peer,
        )

        after_accept = pulumi.ResourceOptions(parent=self, depends_on=[self.accepter])
        for i, table in enumerate(args.route_table_ids):
            ec2.Route(
                f"{name}-to-peer-{i}",
                route_table_id=table,
                destination_cidr_block=args.peer_cidr,
                vpc_peering_connection_id=self.connection.id,
                opts=after_accept,
            )

        # The peer's private route tables: their count is the peer stack's, from its outputs (known at
        # preview time: stack references are read before the plan).
        def peer_routes(table_ids: list[str]) -> list[str]:
            for i, table in enumerate(table_ids):
                ec2.Route(
                    f"{name}-from-peer-{i}",
                    route_table_id=table,
                    destination_cidr_block=args.vpc_cidr,
                    vpc_peering_connection_id=self.connection.id,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self.accepter]),
                    **in_peer,
                )
            return table_ids

        self.peer_route_tables = pulumi.Output.from_input(args.peer_route_table_ids).apply(peer_routes)
        self.register_outputs(
            {"vpc_peering_connection_id": self.connection.id, "peer_route_tables": self.peer_route_tables}
        )
