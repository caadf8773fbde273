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
        True,
        description="expose the Kubernetes API endpoint publicly, only to `endpoint_public_cidrs` (it is "
        "always private too): Pulumi drives the Kubernetes provider through it from where it runs (a "
        "deployer's machine, the CI runner), and the stack creates the VPC, so nothing is inside it "
        "before the first `up`; false only where every `up` and preview runs inside the VPC",
    )
    endpoint_public_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="public networks allowed to reach the public API endpoint: the deployers' and the "
        "CI preview runner's egress addresses (EKS accepts at most 40); required with endpoint_public, "
        "only used with it; never 0.0.0.0/0, never a private or documentation range",
    )
    deployer_role: str = Field(
        "pipeline-infra-deployer",
        pattern=r"^([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$",
        description="name (with its path, if any) of the IAM role in this account that runs `pulumi up`: "
        "its EKS access entry is cluster admin (AmazonEKSClusterAdminPolicy); the cluster's creator "
        "gets no implicit admin, so run every `up` as this role",
    )
    preview_role: str | None = Field(
        "pipeline-infra-preview",
        pattern=r"^([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$",
        description="name (with its path) of the IAM role CI's `pulumi preview` assumes: its access entry "
        "may read the cluster and server-side-apply dry-run what the stack declares (write verbs on "
        "the managed namespaces, Namespaces and StorageClasses); unset: no preview access",
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
        endpoint_public_cidrs are public networks (no private, shared or documentation range).
        endpoint_public_cidrs name at most 40 networks.
        preview_role is another role than deployer_role.
        """
        import ipaddress

        if self.endpoint_public and not self.endpoint_public_cidrs:
            raise ValueError(
                "endpoint_public_cidrs: name the networks allowed to reach the public API endpoint"
            )
        if not self.endpoint_public and self.endpoint_public_cidrs:
            raise ValueError("endpoint_public_cidrs: only used with endpoint_public: true")
        for cidr in self.endpoint_public_cidrs:
            net = ipaddress.ip_network(cidr)
            if net.prefixlen == 0:
                raise ValueError(f"endpoint_public_cidrs: {cidr} opens the API endpoint to the internet")
            if not net.is_global:
                raise ValueError(
                    f"endpoint_public_cidrs: {cidr} is a private, shared or documentation range; name the "
                    "public egress addresses of the deployers and the CI runner"
                )
        twice = repeated(self.endpoint_public_cidrs)
        if twice:
            raise ValueError(f"endpoint_public_cidrs: {', '.join(twice)} listed more than once")
        if len(self.endpoint_public_cidrs) > 40:
            raise ValueError("endpoint_public_cidrs: EKS accepts at most 40 networks")
        if self.preview_role is not None and self.preview_role == self.deployer_role:
            raise ValueError("preview_role: must be another role than deployer_role")
        return self
