"""Schema Registry (Confluent-compatible API on 8081) as a Deployment, Service and PodDisruptionBudget
rendered by the pure `components.streaming.schema_registry.manifests`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes.apps.v1 as apps
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.networking.v1 as networking
import pulumi_kubernetes.policy.v1 as policy

from components.streaming.schema_registry import manifests as sm
from components.streaming.spec import StreamingSpec
from lib.kube.target import NAMESPACES, KubeTarget


@dataclass(frozen=True)
class SchemaRegistryArgs:
    settings: StreamingSpec
    kube: KubeTarget
    namespace: str
    # The KafkaUser schema-registry (its Secret is mounted), the _schemas topic, the Kafka cluster.
    depends_on: tuple[pulumi.Resource, ...] = field(default_factory=tuple)



class SchemaRegistry(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: SchemaRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pipeline-infra:streaming:SchemaRegistry", name, None, opts)
        s, kube, ns = args.settings, args.kube, args.namespace
        child = kube.options(self, *args.depends_on)
        jmx = sm.jmx_exporter_configmap(namespace=ns)
        self.jmx_config = core.ConfigMap(
            f"{name}-jmx-exporter", metadata=jmx["metadata"], data=jmx["data"], opts=child
        )
        dep = sm.deployment(s, namespace=ns, placement=KubeTarget.placement("platform"))
        self.deployment = apps.Deployment(
            f"{name}-deployment",
            metadata=dep["metadata"],
            spec=dep["spec"],
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.jmx_config])),
        )
        svc = sm.service(namespace=ns)
        self.service = core.Service(f"{name}-service", metadata=svc["metadata"], spec=svc["spec"], opts=child)
        pol = sm.network_policy(namespace=ns, client_namespaces=(ns, NAMESPACES["observability"]))
        self.network_policy = networking.NetworkPolicy(
            f"{name}-network-policy", metadata=pol["metadata"], spec=pol["spec"], opts=child
        )
        pdb = sm.pod_disruption_budget(s, namespace=ns)
        self.pdb = None
        if pdb is not None:
            self.pdb = policy.PodDisruptionBudget(
                f"{name}-pdb", metadata=pdb["metadata"], spec=pdb["spec"], opts=child
            )
        self.url = sm.url(ns)
        self.register_outputs({"url": self.url})
