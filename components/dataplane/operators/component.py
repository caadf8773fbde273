"""The operators of the data plane as pinned Helm releases, and the namespaces they and their
custom resources live in. Every custom resource `depends_on` its operator's release (exposed here)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.yaml.v2 as k8s_yaml

from components.dataplane.operators import values
from lib import versions
from lib.kube.helm import helm_release
from lib.kube.resources import stateful
from lib.kube.target import NAMESPACES, KubeTarget

# Namespaces this component creates (observability belongs to the observability area).
DATA_PLANE_NAMESPACES = ("operators", "cert-manager", "scylla", "scylla-manager", "postgres", "kafka")


@dataclass(frozen=True)
class OperatorsArgs:
    kube: KubeTarget

    def __post_init__(self) -> None:
        if not self.kube.storage_class:
            raise ValueError("kube.storage_class: Scylla Manager's own ScyllaDB needs a storage class")


class Operators(pulumi.ComponentResource):
    """cert-manager, Strimzi, Scylla Operator (+ Scylla Manager), CloudNativePG (+ barman-cloud plugin)."""

    def __init__(self, name: str, args: OperatorsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-infra:dataplane:Operators", name, None, opts)
        kube = args.kube
        base = kube.options(self)

        self.namespaces: dict[str, core.Namespace] = {}
        for key in DATA_PLANE_NAMESPACES:
            ns = NAMESPACES[key]
            self.namespaces[key] = core.Namespace(
                f"{name}-ns-{key}",
                metadata=meta.ObjectMetaArgs(name=ns, labels={"app.kubernetes.io/part-of": "pipeline-infra"}),
                opts=base,
            )

        def opts_for(*deps: pulumi.Resource) -> pulumi.ResourceOptions:
            return kube.options(self, *deps)

        ops_ns = self.namespaces["operators"]
        self.cert_manager = helm_release(
            f"{name}-cert-manager",
            versions.CERT_MANAGER,
            NAMESPACES["cert-manager"],
            values.cert_manager_values(),
            opts_for(self.namespaces["cert-manager"]),
            "cert-manager",
        )
        # Strimzi's CRDs from its release tag, applied (server-side) by Pulumi so that a new STRIMZI
        # version upgrades them; the chart's own copies (crds/, which Helm never upgrades) are skipped.
        # Retained on delete: removing a CRD deletes every Kafka resource of that kind.
        self.strimzi_crds = k8s_yaml.ConfigGroup(
            f"{name}-strimzi-crds",
            files=list(versions.STRIMZI_CRDS),
            opts=pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(retain_on_delete=True)),
        )
        self.strimzi = helm_release(
            f"{name}-strimzi",
            versions.STRIMZI,
            NAMESPACES["operators"],
            values.strimzi_values(),
            opts_for(ops_ns, self.namespaces["kafka"], self.strimzi_crds),
            "strimzi",
            skip_crds=True,
        )
        # scylla-operator's CRDs the same way (its chart's crds/ at the release tag), retained on delete.
        self.scylla_crds = k8s_yaml.ConfigGroup(
            f"{name}-scylla-crds",
            files=list(versions.SCYLLA_OPERATOR_CRDS),
            opts=pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(retain_on_delete=True)),
        )
        self.scylla_operator = helm_release(
            f"{name}-scylla-operator",
            versions.SCYLLA_OPERATOR,
            NAMESPACES["operators"],
            values.scylla_operator_values(),
            opts_for(ops_ns, self.cert_manager, self.scylla_crds),
            "scylla-operator",
            skip_crds=True,
        )
        # Scylla Manager runs the ScyllaCluster's backups and repairs (spec.backups, spec.repairs).
        self.scylla_manager = helm_release(
            f"{name}-scylla-manager",
            versions.SCYLLA_MANAGER,
            NAMESPACES["scylla-manager"],
            values.scylla_manager_values(kube.storage_class),
            # Its own ScyllaDB keeps the task history on a volume: protected like the data clusters.
            stateful(opts_for(self.namespaces["scylla-manager"], self.scylla_operator)),
            "scylla-manager",
        )
        self.cloudnative_pg = helm_release(
            f"{name}-cloudnative-pg",
            versions.CLOUDNATIVE_PG,
            NAMESPACES["operators"],
            values.cloudnative_pg_values(),
            opts_for(ops_ns),
            "cloudnative-pg",
        )
        self.barman_cloud = helm_release(
            f"{name}-barman-cloud",
            versions.BARMAN_CLOUD_PLUGIN,
            NAMESPACES["operators"],
            values.barman_cloud_values(),
            opts_for(self.cloudnative_pg, self.cert_manager),
            "barman-cloud",
        )
        # What a ScyllaCluster, a CNPG Cluster (with its ObjectStore) wait for.
        self.scylla: list[pulumi.Resource] = [self.scylla_operator, self.scylla_manager]
        self.postgres: list[pulumi.Resource] = [self.cloudnative_pg, self.barman_cloud]
        self.register_outputs(
            {
                "namespaces": {k: v.metadata.name for k, v in self.namespaces.items()},
                "charts": {
                    c.name: c.version
                    for c in (
                        versions.CERT_MANAGER,
                        versions.STRIMZI,
                        versions.SCYLLA_OPERATOR,
                        versions.SCYLLA_MANAGER,
                        versions.CLOUDNATIVE_PG,
                        versions.BARMAN_CLOUD_PLUGIN,
                    )
                },
            }
        )
