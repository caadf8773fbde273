"""Kafka on Kubernetes with Strimzi: the cluster (KRaft node pools), its topics and users, and the DR
site's MirrorMaker 2. Manifests come from the pure `components.streaming.kafka.manifests`."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta
import pulumi_random as random
from pulumi_kubernetes.apiextensions import CustomResource

from components.streaming.kafka import manifests as m
from components.streaming.spec import StreamingSpec
from lib.kube.resources import custom_resource, stateful
from lib.kube.target import KubeTarget


@dataclass(frozen=True)
class KafkaClusterArgs:
    settings: StreamingSpec
    kube: KubeTarget
    operator: pulumi.Resource  # the Strimzi Helm release
    namespace: str

    def __post_init__(self) -> None:
        if not self.kube.storage_class:
            raise ValueError("kube.storage_class: the brokers' volumes need a storage class")


class KafkaCluster(pulumi.ComponentResource):
    """Kafka + KafkaNodePools (controllers, brokers), KafkaTopics, KafkaUsers (connect, schema-registry,
    fleet-<module> for each module fleet that reads Kafka; on a primary site with a DR peer also the DR
    site's replication user)."""

    def __init__(self, name: str, args: KafkaClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-infra:streaming:KafkaCluster", name, None, opts)
        s, kube, ns = args.settings, args.kube, args.namespace

        def child(*deps: pulumi.Resource) -> pulumi.ResourceOptions:
            return kube.options(self, args.operator, *deps)

        placement = KubeTarget.placement("kafka")
        self.pools = [
            custom_resource(
                f"{name}-{role}s",
                m.node_pool(
                    s, role=role, namespace=ns, storage_class=kube.storage_class, placement=placement
                ),
                stateful(child()),
            )
            for role in ("controller", "broker")
        ]
        self.kafka = custom_resource(f"{name}-kafka", m.kafka(s, namespace=ns), stateful(child(*self.pools)))
        self.topics = [
            custom_resource(f"{name}-topic-{t['metadata']['name']}", t, child(self.kafka))
            for t in m.topics(s, namespace=ns)
        ]
        self.users: dict[str, CustomResource] = {
            m.CONNECT_USER: custom_resource(
                f"{name}-user-connect",
                m.user(m.CONNECT_USER, namespace=ns, acls=m.connect_acls(s)),
                child(self.kafka),
            ),
            m.SCHEMA_REGISTRY_USER: custom_resource(
                f"{name}-user-schema-registry",
                m.user(m.SCHEMA_REGISTRY_USER, namespace=ns, acls=m.schema_registry_acls()),
                child(self.kafka),
            ),
        }
        self.bootstrap_servers: pulumi.Output[str] = pulumi.Output.from_input(m.bootstrap_address(ns))
        outputs: dict[str, Any] = {"bootstrap_servers": self.bootstrap_servers}

        # The ids resolve once the Kafka resource exists: a preview of a new stack (where it does not
        # yet) skips these reads instead of failing on objects Strimzi has not made (Strimzi creates
        # them before it reports the cluster Ready, which the Kafka resource waits for).
        def after_kafka(object_id: str) -> pulumi.Output[str]:
            return self.kafka.metadata.apply(lambda _: object_id)

        def read(resource: str, object_id: str, kind: Any) -> Any:
            return kind.get(
                f"{name}-{resource}",
                after_kafka(object_id),
                opts=pulumi.ResourceOptions(parent=self, provider=kube.provider, depends_on=[self.kafka]),
            )

        def scram_user(key: str, username: str, acls: list[dict[str, Any]]) -> pulumi.Output[str]:
            """A SCRAM-SHA-512 KafkaUser whose password is a Pulumi secret (a Secret it reads)."""
            password = random.RandomPassword(
                f"{name}-{key}-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
            )
            secret_name = f"{username}-password"
            secret = core.Secret(
                f"{name}-{key}-password",
                metadata=meta.ObjectMetaArgs(name=secret_name, namespace=ns),
                type="Opaque",
                string_data={"password": pulumi.Output.secret(password.result)},
                opts=child(),
            )
            self.users[username] = custom_resource(
                f"{name}-user-{key}",
                m.user(
                    username,
                    namespace=ns,
                    acls=acls,
                    authentication="scram-sha-512",
                    password_secret=secret_name,
                ),
                child(self.kafka, secret),
            )
            return pulumi.Output.secret(password.result)

        self.cluster_ca_cert: pulumi.Output[str] | None = None
        if s.fleets is not None or m.replication_listener_enabled(s):
            ca = read("cluster-ca-cert", f"{ns}/{m.cluster_ca_secret()}", core.Secret)
            self.cluster_ca_cert = ca.data.apply(_ca_cert)
            outputs["cluster_ca_cert"] = self.cluster_ca_cert

        # The module fleets' listener: its bootstrap load balancer and a user per module that reads Kafka.
        self.fleet_bootstrap: pulumi.Output[str] | None = None
        self.fleet_passwords: dict[str, pulumi.Output[str]] = {}
        if s.fleets is not None:
            for module in s.fleets.modules:
                self.fleet_passwords[module] = scram_user(
                    f"fleet-{module}", m.fleet_user(module), m.fleet_acls(s, module)
                )
            svc = read("fleets-bootstrap", f"{ns}/{m.fleet_bootstrap_service()}", core.Service)
            # No address yet (the load balancer is still being made): "" and the fleets get no Kafka
            # section rather than a name they cannot resolve.
            self.fleet_bootstrap = svc.status.apply(lambda st: _lb_address(st, m.FLEET_PORT, ""))
            outputs["fleet_bootstrap"] = self.fleet_bootstrap

        # Primary site with a DR peer: what the DR site's MirrorMaker 2 needs, exported as outputs.
        self.replication_bootstrap: pulumi.Output[str] | None = None
        self.mirrormaker_password: pulumi.Output[str] | None = None
        if m.replication_listener_enabled(s):
            self.mirrormaker_password = scram_user(
                "mirrormaker-dr", m.MIRRORMAKER_SOURCE_USER, m.mirrormaker_source_acls(s)
            )
            fallback = f"{m.CLUSTER}-kafka-replication-bootstrap.{ns}.svc:{m.REPLICATION_PORT}"
            svc = read("replication-bootstrap", f"{ns}/{m.CLUSTER}-kafka-replication-bootstrap", core.Service)
            self.replication_bootstrap = svc.status.apply(
                lambda st: _lb_address(st, m.REPLICATION_PORT, fallback)
            )
            outputs |= {
                "replication_bootstrap": self.replication_bootstrap,
                "mirrormaker_password": self.mirrormaker_password,
            }
        self.register_outputs(outputs)


def _lb_address(status: Any, port: int, fallback: str) -> str:
    """host:port of a listener's bootstrap load balancer (NLB DNS name)."""
    try:
        ingress = status.load_balancer.ingress or []
    except AttributeError:
        ingress = []
    for item in ingress:
        host = getattr(item, "hostname", None) or getattr(item, "ip", None)
        if host:
            return f"{host}:{port}"
    return fallback


def _ca_cert(data: Any) -> str:
    value = (data or {}).get("ca.crt") if isinstance(data, dict) else None
    return base64.b64decode(value).decode() if value else ""


@dataclass(frozen=True)
class MirrorMaker2Args:
    settings: StreamingSpec
    kube: KubeTarget
    operator: pulumi.Resource
    namespace: str
    kafka: pulumi.Resource  # the DR site's own Kafka (the target)
    # From the primary site's stack outputs (StackReference).
    source_bootstrap: pulumi.Input[str]
    source_ca_cert: pulumi.Input[str]
    source_password: pulumi.Input[str]

    def __post_init__(self) -> None:
        if self.settings.dr is None:
            raise ValueError("MirrorMaker 2 runs on a site of a DR pair only (a dr section)")


class MirrorMaker2(pulumi.ComponentResource):
    """KafkaMirrorMaker2 replicating the primary's topics into the DR site, with its users and the
    primary's CA certificate and replication password as Secrets. Promotion stops its connectors."""

    def __init__(self, name: str, args: MirrorMaker2Args, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-infra:streaming:MirrorMaker2", name, None, opts)
        s, kube, ns = args.settings, args.kube, args.namespace

        def child(*deps: pulumi.Resource) -> pulumi.ResourceOptions:
            return kube.options(self, args.operator, *deps)

        # The other site's CA and the password of its replication user (distinct from this site's own
        # mirrormaker-dr-password, which the other site reads).
        source_alias = m.aliases(s)[0]
        ca_name = f"{source_alias}-cluster-ca-cert"
        pw_name = f"{source_alias}-{m.MIRRORMAKER_SOURCE_USER}-password"
        ca = core.Secret(
            f"{name}-source-ca",
            metadata=meta.ObjectMetaArgs(name=ca_name, namespace=ns),
            type="Opaque",
            string_data={"ca.crt": args.source_ca_cert},
            opts=child(),
        )
        pw = core.Secret(
            f"{name}-source-password",
            metadata=meta.ObjectMetaArgs(name=pw_name, namespace=ns),
            type="Opaque",
            string_data={"password": pulumi.Output.secret(args.source_password)},
            opts=child(),
        )
        user = custom_resource(
            f"{name}-user",
            m.user(m.MIRRORMAKER_USER, namespace=ns, acls=m.mirrormaker_target_acls(s)),
            child(args.kafka),
        )
        placement = KubeTarget.placement("platform")
        # The source's address is the only value from the other stack: the rest of the manifest (the
        # connectors' states) stays known in a preview whatever the reference resolves to.
        manifest = m.mirror_maker2(
            s,
            namespace=ns,
            source_bootstrap=args.source_bootstrap,  # type: ignore[arg-type]
            source_ca_secret=ca_name,
            source_password_secret=pw_name,
            placement=placement,
        )
        self.mirror_maker = custom_resource(f"{name}-mm2", manifest, child(args.kafka, user, ca, pw))
        self.state = "stopped" if s.dr is not None and s.dr.role == "primary" else "running"
        self.register_outputs({"state": self.state})
