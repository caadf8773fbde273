"""The network flows of an AWS environment, as data. Pure: no Pulumi.

Every security-group rule the Network component declares comes from `intended_flows`: one `Flow`
per (security group, direction, peer, port range). The component turns each into one
`aws.vpc.SecurityGroupIngressRule` / `SecurityGroupEgressRule`; the tests compare what the program
declares with the flows seed 003 asks for.

Security groups (keys of `SECURITY_GROUPS`):
- ``alpha``, ``beta``, ``gamma``: the module fleets (seed 003 Module Alpha/Beta/Gamma Deployment,
  Fresh Installation, Step 1: Infrastructure Preparation);
- ``ingest-lb``: the ingest load balancer in front of alpha (source listener, health checks);
- ``handoff-lb-beta``, ``handoff-lb-gamma``: the internal load balancers alpha hands records to beta
  through, and beta to gamma (handoff listener, health checks);
- ``data-plane``: carried by the EKS nodes (Kafka, PostgreSQL, ScyllaDB, Schema Registry, the OTLP
  collector and Prometheus run there);
- ``endpoints``: the interface VPC endpoints (SSM, CloudWatch) the fleets reach over HTTPS.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

SECURITY_GROUPS: tuple[str, ...] = (
    "alpha",
    "beta",
    "gamma",
    "ingest-lb",
    "handoff-lb-beta",
    "handoff-lb-gamma",
    "data-plane",
    "endpoints",
)
# The internal load balancer in front of each module that receives a handoff.
HANDOFF_LBS: dict[str, str] = {"beta": "handoff-lb-beta", "gamma": "handoff-lb-gamma"}
FLEET_MODULES: tuple[str, ...] = ("alpha", "beta", "gamma")
WORLD = "0.0.0.0/0"

# Ports of the data plane the fleets use (seed 000 architecture; DESIGN.md components).
# Each service is one port range (one rule): (first, last).
DATA_PLANE_PORTS: dict[str, tuple[int, int]] = {
    "kafka": (9092, 9094),  # the fleets' listener, TLS and the replication listener (internal NLBs)
    "postgresql": (5432, 5432),
    "scylla-cql": (9042, 9042),
    "otlp": (4317, 4318),  # gRPC and HTTP
    "schema-registry": (8081, 8081),
}
# Ports the two sites of a DR pair use between their data planes: Scylla inter-DC gossip/streaming
# (7000, TLS 7001) and CQL, Kafka (MirrorMaker 2), PostgreSQL streaming replication.
REPLICATION_PORTS: dict[str, tuple[int, int]] = {
    "scylla-internode": (7000, 7001),
    "scylla-cql": (9042, 9042),
    "kafka": (9092, 9094),  # plain, TLS and the replication listener of the DR pair
    "postgresql": (5432, 5432),
}
# Interface endpoints the fleets use instead of the internet (SSM agent, CloudWatch logs/metrics).
INTERFACE_ENDPOINTS: tuple[str, ...] = ("ssm", "ssmmessages", "ec2messages", "logs", "monitoring")
HTTPS = 443


@dataclass(frozen=True)
class FleetPorts:
    handoff: int
    health: int
    metrics: int


@dataclass(frozen=True, order=True)
class Flow:
    """One allowed flow: on security group `group`, `direction` traffic to/from `peer` on TCP
    `from_port`..`to_port`. `peer` is ("sg", name), ("cidr", cidr) or ("prefix-list", "s3")."""

    group: str
    direction: Literal["ingress", "egress"]
    peer_kind: Literal["sg", "cidr", "prefix-list"]
    peer: str
    from_port: int
    to_port: int
    description: str

    @property
    def key(self) -> tuple[str, str, str, str, int, int]:
        return (self.group, self.direction, self.peer_kind, self.peer, self.from_port, self.to_port)


def _pair(group: str, peer_group: str, port: int, what: str, to_port: int | None = None) -> list[Flow]:
    """group -> peer_group on port (..to_port): egress on the source, ingress on the destination."""
    last = port if to_port is None else to_port
    return [
        Flow(group, "egress", "sg", peer_group, port, last, f"{what} ({group} -> {peer_group})"),
        Flow(peer_group, "ingress", "sg", group, port, last, f"{what} ({group} -> {peer_group})"),
    ]


def intended_flows(
    *,
    vpc_cidr: str,
    ports: FleetPorts,
    source_cidrs: list[str],
    source_ports: list[int],
    enrichment_cidrs: list[str],
    enrichment_ports: list[int],
    destination_cidrs: list[str],
    destination_ports: list[int],
    public_ingest: bool,
    peer_cidr: str | None = None,
) -> list[Flow]:
    """Every rule of the environment's security groups."""
    flows: list[Flow] = []
    # Sources -> ingest listener -> alpha (003 Module Alpha Step 1: inbound on the source adapter ports).
    # The load balancers carry security groups, so the instances admit their load balancer's group.
    for port in source_ports:
        for cidr in source_cidrs:
            flows.append(
                Flow("ingest-lb", "ingress", "cidr", cidr, port, port, f"sources {cidr} -> ingest listener")
            )
        if public_ingest:
            flows.append(
                Flow(
                    "ingest-lb",
                    "ingress",
                    "cidr",
                    WORLD,
                    port,
                    port,
                    "public ingest listener for sources on the internet",
                )
            )
        flows += _pair("ingest-lb", "alpha", port, "ingest listener forwards sources")
    # Load-balancer health checks on the health endpoint (003 Step 1 of each module; Step 4 health check).
    flows += _pair("ingest-lb", "alpha", ports.health, "load balancer health check")
    # Handoff: alpha -> beta, beta -> gamma through their load balancers (003 Module Beta/Gamma Step 1).
    for sender, receiver in (("alpha", "beta"), ("beta", "gamma")):
        lb = HANDOFF_LBS[receiver]
        flows += _pair(sender, lb, ports.handoff, "record handoff")
        flows += _pair(lb, receiver, ports.handoff, "record handoff")
        flows += _pair(lb, receiver, ports.health, "load balancer health check")
    # Prometheus on the EKS nodes scrapes every fleet's node exporter (metrics port) and the module's
    # own /metrics on its health/admin port (003 Monitoring Architecture; `curl http://alpha:8080/metrics`).
    for module in FLEET_MODULES:
        flows += _pair("data-plane", module, ports.metrics, "Prometheus scrape")
        flows += _pair("data-plane", module, ports.health, "Prometheus scrape of the module's /metrics")
    # Beta -> enrichment sources; gamma -> delivery destinations (003 Module Beta/Gamma Step 1).
    for cidr in enrichment_cidrs:
        for port in enrichment_ports:
            flows.append(Flow("beta", "egress", "cidr", cidr, port, port, f"enrichment source {cidr}"))
    for cidr in destination_cidrs:
        for port in destination_ports:
            flows.append(Flow("gamma", "egress", "cidr", cidr, port, port, f"delivery destination {cidr}"))
    # Fleets -> data plane (Kafka, PostgreSQL, ScyllaDB, OTLP telemetry and logs, Schema Registry).
    # The fleets reach it through internal network load balancers (their addresses are in the VPC's
    # subnets and carry no security group) or pod addresses on the nodes: egress to the VPC's network,
    # ingress on the nodes' data-plane group from the fleets' groups.
    for module in FLEET_MODULES:
        for service, (first, last) in DATA_PLANE_PORTS.items():
            flows.append(
                Flow(
                    module,
                    "egress",
                    "cidr",
                    vpc_cidr,
                    first,
                    last,
                    f"{service} ({module} -> data plane in the VPC)",
                )
            )
            flows.append(
                Flow(
                    "data-plane", "ingress", "sg", module, first, last, f"{service} ({module} -> data plane)"
                )
            )
        # Artifacts and state backups in S3 through the gateway endpoint; SSM/CloudWatch endpoints.
        flows.append(Flow(module, "egress", "prefix-list", "s3", HTTPS, HTTPS, "S3 via the gateway endpoint"))
        flows += _pair(module, "endpoints", HTTPS, "SSM and CloudWatch interface endpoints")
    flows += _pair("data-plane", "endpoints", HTTPS, "SSM and CloudWatch interface endpoints")
    # DR pair: the data planes of both sites replicate to each other over the peering.
    if peer_cidr is not None:
        for service, (first, last) in REPLICATION_PORTS.items():
            for direction in ("ingress", "egress"):
                flows.append(
                    Flow(
                        "data-plane",
                        direction,
                        "cidr",
                        peer_cidr,
                        first,
                        last,
                        f"DR replication {service} with the peer site",
                    )
                )
    unique = {f.key: f for f in flows}
    return sorted(unique.values())


# --- subnets --------------------------------------------------------------------------------------
def subnet_plan(cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """(private, public) subnet CIDRs per AZ. The VPC is cut into eighths: one per AZ for the private
    subnets (EKS pods take VPC addresses), the last eighth cut into eight small public subnets."""
    net = ipaddress.ip_network(cidr)
    if not 1 <= az_count <= 6:
        raise ValueError(f"az_count {az_count} is not in 1..6")
    if net.prefixlen > 20:
        raise ValueError(f"{cidr}: the VPC needs a /20 or larger network")
    eighths = list(net.subnets(prefixlen_diff=3))
    private = [str(eighths[i]) for i in range(az_count)]
    public_pool = list(eighths[7].subnets(prefixlen_diff=3))
    public = [str(public_pool[i]) for i in range(az_count)]
    return private, public
