"""Network and cluster settings (AWS targets)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import Cidr, Strict


class NetworkSettings(Strict):
    """The stack's VPC. CIDRs of all stacks must not overlap (peering prod <-> prod-dr)."""

    cidr: Cidr
    az_count: int = Field(3, ge=2, le=6, description="availability zones the VPC spans")
    nat: Literal["per-az", "single"] = Field("per-az", description="one NAT gateway per AZ, or one")
    # 003 Module Alpha Step 1: sources reach the adapters on their ports.
    source_cidrs: list[Cidr] = Field(default_factory=list, description="networks of the data sources")
    source_ports: list[int] = Field(
        default_factory=lambda: [8443], min_length=1, description="source adapter ports"
    )
    # 003 Module Beta Step 1: egress to enrichment sources; Gamma Step 1: egress to destinations.
    enrichment_cidrs: list[Cidr] = Field(default_factory=list)
    destination_cidrs: list[Cidr] = Field(default_factory=list)
    public_ingest: bool = Field(False, description="a public listener for sources on the internet")
    # seed 003 Log Retention, Security (VPC flow logs; the EKS control-plane and audit logs follow it):
    # hot 30 / warm 180 days -> CloudWatch Logs keeps them 180 days.
    flow_logs_retention_days: int = Field(180, ge=1, le=3653)
    # TCP ports beta reaches enrichment sources on and gamma reaches destinations on (HTTPS unless set).
    enrichment_ports: list[int] = Field(default_factory=lambda: [443], min_length=1)
    destination_ports: list[int] = Field(default_factory=lambda: [443], min_length=1)

    @model_validator(mode="after")
    def _ports(self) -> NetworkSettings:
        for key in ("source_ports", "enrichment_ports", "destination_ports"):
            for port in getattr(self, key):
                if not 1 <= port <= 65535:
                    raise ValueError(f"{key}: {port} is not a TCP port (1-65535)")
        return self

    @model_validator(mode="after")
    def _networks(self) -> NetworkSettings:
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


class NodeGroupSettings(Strict):
    instance_type: str = Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
    min: int = Field(ge=0, le=100)
    desired: int = Field(ge=0, le=100)
    max: int = Field(ge=1, le=100)
    disk_gib: int = Field(100, ge=20, le=16384)

    @model_validator(mode="after")
    def _bounds(self) -> NodeGroupSettings:
        if not self.min <= self.desired <= self.max:
            raise ValueError(f"needs min <= desired <= max (got {self.min}/{self.desired}/{self.max})")
        return self


def _default_node_groups() -> dict[str, NodeGroupSettings]:
    return {
        "scylla": NodeGroupSettings(instance_type="i4i.2xlarge", min=3, desired=3, max=6),
        "kafka": NodeGroupSettings(instance_type="r6i.xlarge", min=3, desired=3, max=6),
        "postgres": NodeGroupSettings(instance_type="r6i.xlarge", min=3, desired=3, max=4),
        "platform": NodeGroupSettings(instance_type="m7i.xlarge", min=2, desired=3, max=6),
    }


class ClusterSettings(Strict):
    """The EKS cluster the data plane runs on, or an existing one (secret kubernetes.kubeconfig)."""

    version: str | None = Field(None, pattern=r"^1\.\d{2}$", description="overrides the pinned EKS version")
    node_groups: dict[Literal["scylla", "kafka", "postgres", "platform"], NodeGroupSettings] = Field(
        default_factory=_default_node_groups
    )
    endpoint_public: bool = False
    # Networks allowed to reach a public API endpoint (required with endpoint_public; never the world).
    endpoint_public_cidrs: list[Cidr] = Field(default_factory=list)

    @model_validator(mode="after")
    def _every_group(self) -> ClusterSettings:
        # The data plane pins each service to its group (KubeTarget.placement): none may be missing.
        missing = [g for g in ("scylla", "kafka", "postgres", "platform") if g not in self.node_groups]
        if missing:
            raise ValueError(f"node_groups: every data service needs its group; missing {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _public_endpoint(self) -> ClusterSettings:
        import ipaddress

        if self.endpoint_public and not self.endpoint_public_cidrs:
            raise ValueError(
                "endpoint_public_cidrs: name the networks allowed to reach the public API endpoint"
            )
        if not self.endpoint_public and self.endpoint_public_cidrs:
            raise ValueError("endpoint_public_cidrs: only used with endpoint_public: true")
        for cidr in self.endpoint_public_cidrs:
            if ipaddress.ip_network(cidr).prefixlen == 0:
                raise ValueError(f"endpoint_public_cidrs: {cidr} opens the API endpoint to the internet")
        return self


def overlapping_networks(cidrs: dict[str, str]) -> list[tuple[str, str]]:
    """Pairs of stacks (name -> network.cidr) whose VPC networks overlap. Every AWS stack's VPC must be
    disjoint from the others' (peering prod <-> prod-dr, routes between sites and to the sources)."""
    import ipaddress

    items = sorted((name, ipaddress.ip_network(cidr)) for name, cidr in cidrs.items())
    return [(a, b) for i, (a, na) in enumerate(items) for b, nb in items[i + 1 :] if na.overlaps(nb)]
