"""Settings of the EKS cluster (`pipeline-infra:cluster`): version, node groups, API endpoint."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from lib.settings import Cidr, Strict, repeated
from lib.versions import EKS_VERSION


class NodeGroupSettings(Strict):
    """One EKS managed node group (on demand, AL2023) a data service is pinned to."""

    instance_type: str = Field(
        pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", description="EC2 instance type of the group's nodes"
    )
    min: int = Field(ge=0, le=100, description="minimum number of nodes (scaling_config.min_size)")
    desired: int = Field(ge=0, le=100, description="desired number of nodes (scaling_config.desired_size)")
    max: int = Field(ge=1, le=100, description="maximum number of nodes (scaling_config.max_size)")
    disk_gib: int = Field(
        100, ge=20, le=16384, description="size in GiB of each node's encrypted gp3 root volume"
    )

    @model_validator(mode="after")
    def _bounds(self) -> NodeGroupSettings:
        """min <= desired <= max."""
        if not self.min <= self.desired <= self.max:
            raise ValueError(f"needs min <= desired <= max (got {self.min}/{self.desired}/{self.max})")
        return self


def _default_node_groups() -> dict[str, NodeGroupSettings]:
    return {
        "scylla": NodeGroupSettings(instance_type="i4i.2xlarge", min=3, desired=3, max=6),
        "kafka": NodeGroupSettings(instance_type="r6i.xlarge", min=3, desired=3, max=6),
        "postgres": NodeGroupSettings(instance_type="r6i.xlarge", min=3, desired=3, max=4),
        # At least 3: the platform pods request more than two nodes hold (docs/data-plane.md Sizing).
        "platform": NodeGroupSettings(instance_type="m7i.xlarge", min=3, desired=3, max=6),
    }


class ClusterSettings(Strict):
    """The EKS cluster the data plane runs on, or an existing one (secret kubernetes.kubeconfig)."""

    version: str | None = Field(
        None,
        pattern=r"^1\.\d{2}$",
        description=f"Kubernetes minor version of the EKS cluster, such as {EKS_VERSION}; unset: EKS_VERSION "
        "pinned in lib/versions.py",
    )
    node_groups: dict[Literal["scylla", "kafka", "postgres", "platform"], NodeGroupSettings] = Field(
        default_factory=_default_node_groups,
        description="one node group per data service, each labelled and (except platform) tainted "
        "`pipeline-infra/workload=<group>`; all four groups are required",
    )
    endpoint_public: bool = Field(
        False, description="also expose the Kubernetes API endpoint publicly (it is always private)"
    )
    endpoint_public_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="networks allowed to reach the public API endpoint: required with "
        "endpoint_public, only used with it, never 0.0.0.0/0",
    )

    @field_validator("version")
    @classmethod
    def _supported(cls, value: str | None) -> str | None:
        """a version EKS creates clusters on (lib/aws/eks-versions.yaml)."""
        from lib.catalog import eks_versions

        if value is not None and value not in eks_versions():
            raise ValueError(
                f"EKS creates clusters on {', '.join(eks_versions())} (lib/aws/eks-versions.yaml)"
            )
        return value

    @model_validator(mode="after")
    def _every_group(self) -> ClusterSettings:
        """node_groups has all four groups: scylla, kafka, postgres, platform."""
        # The data plane pins each service to its group (KubeTarget.placement): none may be missing.
        missing = [g for g in ("scylla", "kafka", "postgres", "platform") if g not in self.node_groups]
        if missing:
            raise ValueError(f"node_groups: every data service needs its group; missing {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _public_endpoint(self) -> ClusterSettings:
        """endpoint_public needs endpoint_public_cidrs.
        endpoint_public_cidrs are only used with endpoint_public: true.
        endpoint_public_cidrs never name 0.0.0.0/0.
        endpoint_public_cidrs lists each network once.
        """
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
        twice = repeated(self.endpoint_public_cidrs)
        if twice:
            raise ValueError(f"endpoint_public_cidrs: {', '.join(twice)} listed more than once")
        return self
