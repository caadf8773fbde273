"""The data plane's NetworkPolicies as Kubernetes resources (manifests.data_plane_policies)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes.networking.v1 as networking

from components.dataplane.network.manifests import ClusterNames, data_plane_policies, policy_name
from lib.kube.target import NAMESPACES, KubeTarget


@dataclass(frozen=True)
class DataPlaneNetworkArgs:
    kube: KubeTarget
    names: ClusterNames
    # This site's network (network.cidr) and, on a replicated estate, the other site's (dr.peer_cidr).
    vpc_cidrs: tuple[str, ...]
    peer_cidr: str | None = None
    # namespace key -> app names (app.kubernetes.io/name) of the backup CronJobs there.
    backup_jobs: Mapping[str, Sequence[str]] = field(default_factory=dict)
    namespace_resources: Sequence[pulumi.Resource] = ()

    def __post_init__(self) -> None:
        if not self.vpc_cidrs:
            raise ValueError(
                "vpc_cidrs: the policies admit the Kubernetes API and the load balancers from it"
            )


class DataPlaneNetwork(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: DataPlaneNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pipeline-infra:dataplane:DataPlaneNetwork", name, None, opts)
        manifests = data_plane_policies(
            NAMESPACES,
            args.names,
            vpc_cidrs=args.vpc_cidrs,
            peer_cidr=args.peer_cidr,
            backup_jobs=args.backup_jobs,
        )
        self.policies = [
            networking.NetworkPolicy(
                f"{name}-{policy_name(m)}",
                metadata=m["metadata"],
                spec=m["spec"],
                opts=args.kube.options(self, *args.namespace_resources),
            )
            for m in manifests
        ]
        self.register_outputs({"policies": [policy_name(m) for m in manifests]})
