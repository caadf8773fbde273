"""The one input model of the streaming layer: exactly what Kafka, Kafka Connect, the Schema Registry
and MirrorMaker 2 read, so that no streaming component is handed the whole stack's settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from components.streaming.connect.settings import ConnectSettings
from components.streaming.kafka.settings import KafkaSettings
from components.streaming.schema_registry.settings import SchemaRegistrySettings
from lib.cdc import IDENT, CdcTable
from lib.settings import Cidr, Strict


class CdcSource(Strict):
    """The CDC tables the source connector reads and the topics are named after (seed 000)."""

    keyspace: str = Field(pattern=IDENT, description="the Scylla keyspace holding the CDC tables")
    tables: list[CdcTable] = Field(min_length=1, description="the CDC-enabled tables, one topic each")


class Replication(Strict):
    """The site's place in a DR pair (seed 003 Disaster Recovery): the primary opens a replication
    listener to its peer's network; the DR site runs MirrorMaker 2 and keeps its connectors stopped
    until it is promoted."""

    site: Literal["primary", "dr"] = Field(description="which side of the DR pair this stack is")
    role: Literal["standby", "primary"] = Field(description="the DR site's role: standby or promoted")
    peer_cidr: Cidr = Field(description="the other site's VPC network (replication listener source)")


class FleetAccess(Strict):
    """The module fleets' access to Kafka from EC2: the networks they run in (the listener's source
    ranges) and the modules that read Kafka, one KafkaUser each (the composition derives both)."""

    cidrs: list[Cidr] = Field(min_length=1, description="the fleets' VPC networks (listener source ranges)")
    modules: list[str] = Field(description="the modules that read Kafka (one SCRAM-SHA-512 KafkaUser each)")


class StreamingSpec(Strict):
    """Everything the streaming components read."""

    kafka: KafkaSettings = Field(description="the Kafka cluster")
    connect: ConnectSettings = Field(description="the Kafka Connect cluster and its connectors")
    schema_registry: SchemaRegistrySettings = Field(description="the Schema Registry")
    scylla: CdcSource = Field(description="the CDC source tables")
    dr: Replication | None = Field(None, description="replication between the sites of a DR pair")
    fleets: FleetAccess | None = Field(
        None, description="the fleets' listener (an AWS environment: its fleets or its colour stacks')"
    )
