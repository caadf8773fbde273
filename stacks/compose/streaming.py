"""The streaming layer of an AWS environment's data plane: Kafka (Strimzi, KRaft), its topics and users,
Schema Registry, Kafka Connect with the Scylla CDC source and the PostgreSQL sink, and on a DR site
MirrorMaker 2 replicating the primary's topics.

Called by stacks/compose/data_plane.py once the operators, ScyllaDB and PostgreSQL are declared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from components.streaming.connect.component import KafkaConnect, KafkaConnectArgs
from components.streaming.kafka.component import (
    KafkaCluster,
    KafkaClusterArgs,
    MirrorMaker2,
    MirrorMaker2Args,
)
from components.streaming.schema_registry.component import SchemaRegistry, SchemaRegistryArgs
from lib.kube.target import NAMESPACES, KubeTarget
from stacks.references import stack_reference
from stacks.settings import StackSettings


def build_streaming(
    settings: StackSettings,
    kube: KubeTarget,
    *,
    strimzi: pulumi.Resource,
    scylla_contact_points: str,
    scylla_datacenter: str,
    postgres_jdbc_url: str,
    postgres_sink_user: str,
    postgres_sink_password: pulumi.Output[str],
    depends_on: Sequence[pulumi.Resource] = (),
) -> dict[str, Any]:
    """Declare the streaming layer; returns kafka_bootstrap_servers, schema_registry_url, the fleets'
    listener (kafka_fleet_bootstrap) and, on a primary site with a DR peer, what the DR site's
    MirrorMaker 2 reads (kafka_cluster_ca_cert, kafka_mirrormaker_password); kafka_fleet_passwords are
    the fleet users' passwords (secrets) and kafka_fleet_ca_cert the CA their TLS connection trusts."""
    ns = NAMESPACES["kafka"]
    dr = settings.dr
    spec = settings.streaming()
    kafka = KafkaCluster(
        "kafka", KafkaClusterArgs(settings=spec, kube=kube, operator=strimzi, namespace=ns)
    )
    kafka_ready: list[pulumi.Resource] = [kafka.kafka, *kafka.topics, *kafka.users.values()]

    registry = SchemaRegistry(
        "schema-registry",
        SchemaRegistryArgs(settings=spec, kube=kube, namespace=ns, depends_on=tuple(kafka_ready)),
    )

    KafkaConnect(
        "kafka-connect",
        KafkaConnectArgs(
            settings=spec,
            kube=kube,
            operator=strimzi,
            namespace=ns,
            scylla_contact_points=scylla_contact_points,
            scylla_datacenter=scylla_datacenter,
            postgres_jdbc_url=postgres_jdbc_url,
            postgres_sink_user=postgres_sink_user,
            postgres_sink_password=postgres_sink_password,
            schema_registry_url=registry.url,
            depends_on=(*kafka_ready, registry, *depends_on),
            tags={"Environment": settings.environment},
        ),
    )

    outputs: dict[str, Any] = {
        "kafka_bootstrap_servers": kafka.bootstrap_servers,
        "schema_registry_url": registry.url,
    }
    if kafka.fleet_bootstrap is not None:
        # The module fleets' listener (ENVIRONMENT_OUTPUTS: the colour stacks read it too).
        outputs["kafka_fleet_bootstrap"] = kafka.fleet_bootstrap
        outputs["kafka_fleet_ca_cert"] = kafka.cluster_ca_cert
    if kafka.replication_bootstrap is not None:
        # The other site's MirrorMaker 2 reads through the replication listener: the DR site's from
        # the primary's kafka_bootstrap_servers (PRIMARY_SITE_OUTPUTS), the primary's during a
        # failback from the DR site's kafka_replication_bootstrap (the DR site's own fleets keep the
        # cluster's bootstrap in kafka_bootstrap_servers).
        if dr is not None and dr.site == "primary":
            outputs["kafka_bootstrap_servers"] = kafka.replication_bootstrap
        else:
            outputs["kafka_replication_bootstrap"] = kafka.replication_bootstrap
        outputs["kafka_cluster_ca_cert"] = kafka.cluster_ca_cert
        outputs["kafka_mirrormaker_password"] = kafka.mirrormaker_password
    if dr is not None and dr.references_peer():
        peer = stack_reference(dr.peer_stack)
        mm2 = MirrorMaker2(
            "mirrormaker2",
            MirrorMaker2Args(
                settings=spec,
                kube=kube,
                operator=strimzi,
                namespace=ns,
                kafka=kafka.kafka,
                source_bootstrap=peer.require_output(
                    "kafka_bootstrap_servers" if dr.site == "dr" else "kafka_replication_bootstrap"
                ),
                source_ca_cert=peer.require_output("kafka_cluster_ca_cert"),
                source_password=peer.require_output("kafka_mirrormaker_password"),
            ),
        )
        outputs["kafka_mirrormaker_state"] = mm2.state
    if kafka.fleet_passwords:
        # Not a stack output: build_data_plane stores them where the fleets read them and drops them.
        outputs["kafka_fleet_passwords"] = kafka.fleet_passwords
    return outputs
