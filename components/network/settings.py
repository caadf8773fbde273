"""Settings of the AWS network (`pipeline-infra:network`), and the cross-stack rule that VPCs of the
estate never overlap."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from lib.settings import Cidr, Strict, repeated


class NetworkSettings(Strict):
    """The stack's VPC. CIDRs of all stacks must not overlap (peering prod <-> prod-dr)."""

    cidr: Cidr = Field(
        description="the VPC's IPv4 network, /16 to /20, split into a private and a public subnet per "
        "AZ; disjoint from every other stack's (peering prod <-> prod-dr)"
    )
    az_count: int = Field(
        3, ge=2, le=6, description="availability zones the VPC spans (subnets, NAT, a ScyllaDB rack each)"
    )
    nat: Literal["per-az", "single"] = Field(
        "per-az", description="NAT gateways: one per AZ (survives a zone's loss), or a single one"
    )
    source_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="networks of the data sources allowed to reach the ingest listener on the "
        "source_ports (seed 003 Module Alpha Step 1: inbound on the source adapter ports)",
    )
    source_ports: list[int] = Field(
        default_factory=lambda: [8443],
        min_length=1,
        description="TCP ports of the source adapters: one ingest load balancer listener each "
        "(seed 003 Module Alpha Step 1); must stay [8443] where the fleets are colour stacks",
    )
    enrichment_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="networks of the enrichment sources beta may reach on the enrichment_ports "
        "(seed 003 Module Beta Step 1: egress to enrichment sources)",
    )
    destination_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="networks of the delivery destinations gamma may reach on the destination_ports "
        "(seed 003 Module Gamma Step 1: egress to destinations)",
    )
    public_ingest: bool = Field(
        False,
        description="an internet-facing ingest listener on the source ports for sources on the "
        "internet (the only ingress from 0.0.0.0/0); false: internal, from source_cidrs only",
    )
    flow_logs_retention_days: int = Field(
        180,
        ge=1,
        le=3653,
        description="days the VPC flow logs (and the EKS control-plane logs) are kept in CloudWatch Logs "
        "(seed 003 Log Retention, Security: hot 30 / warm 180 days)",
    )
    enrichment_ports: list[int] = Field(
        default_factory=lambda: [443],
        min_length=1,
        description="TCP ports beta reaches the enrichment sources on (default HTTPS)",
    )
    destination_ports: list[int] = Field(
        default_factory=lambda: [443],
        min_length=1,
        description="TCP ports gamma reaches the delivery destinations on (default HTTPS)",
    )

    @model_validator(mode="after")
    def _ports(self) -> NetworkSettings:
        """every port of source_ports, enrichment_ports and destination_ports is a TCP port (1-65535).
        no port and no network is listed twice in one list (two listeners or rules would collide).
        """
        for key in ("source_ports", "enrichment_ports", "destination_ports"):
            for port in getattr(self, key):
                if not 1 <= port <= 65535:
                    raise ValueError(f"{key}: {port} is not a TCP port (1-65535)")
        for key in (
            "source_ports", "enrichment_ports", "destination_ports",
            "source_cidrs", "enrichment_cidrs", "destination_cidrs",
        ):
            twice = repeated(getattr(self, key))
            if twice:
                raise ValueError(f"{key}: {', '.join(map(str, twice))} listed more than once")
        return self

    @model_validator(mode="after")
    def _networks(self) -> NetworkSettings:
        """cidr is a /16 to /20 network.
        source_cidrs, enrichment_cidrs and destination_cidrs never name 0.0.0.0/0 (see public_ingest).
        source_cidrs, enrichment_cidrs and destination_cidrs do not overlap the VPC's cidr.
        """
        import ipaddress

        prefix = ipaddress.ip_network(self.cidr).prefixlen
        if not 16 <= prefix <= 20:
            raise ValueError(f"cidr: a VPC network from /16 to /20 is needed (got /{prefix})")
        for key in ("source_cidrs", "enrichment_cidrs", "destination_cidrs"):
            for cidr in getattr(self, key):
                if ipaddress.ip_network(cidr).prefixlen == 0:
                    raise ValueError(
                        f"{key}: {cidr} is the whole internet; name the networks "
                        "(sources on the internet: public_ingest: true)"
                    )
                if ipaddress.ip_network(cidr).overlaps(ipaddress.ip_network(self.cidr)):
                    raise ValueError(f"{key}: {cidr} overlaps the VPC's own cidr {self.cidr}")
        return self


def overlapping_networks(cidrs: dict[str, str]) -> list[tuple[str, str]]:
    """Pairs of stacks (name -> network.cidr) whose VPC networks overlap. Every AWS stack's VPC must be
    disjoint from the others' (peering prod <-> prod-dr, routes between sites and to the sources)."""
    import ipaddress

    items = sorted((name, ipaddress.ip_network(cidr)) for name, cidr in cidrs.items())
    return [(a, b) for i, (a, na) in enumerate(items) for b, nb in items[i + 1 :] if na.overlaps(nb)]
