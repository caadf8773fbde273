"""The whole settings of one stack, and the checks that span sections."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from components.backups.settings import BackupSettings
from components.cluster.settings import ClusterSettings
from components.dataplane.postgres.settings import PostgresSettings
from components.dataplane.scylla.settings import ScyllaSettings
from components.fleet.settings import CapacitySettings, FleetSettings
from components.network.settings import NetworkSettings
from components.observability.alertmanager import RECEIVER_SECRETS
from components.observability.settings import ObservabilitySettings
from components.streaming.connect.settings import ConnectSettings
from components.streaming.kafka.settings import KafkaSettings
from components.streaming.schema_registry.settings import SchemaRegistrySettings
from components.streaming.spec import CdcSource, Replication, StreamingSpec
from components.traffic.settings import TrafficSettings
from lib.settings import Cidr, Strict

_REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"




class DrSettings(Strict):
    """Disaster recovery (003 Disaster Recovery; 004 RTO < 5 min / RPO < 1 min)."""

    site: Literal["primary", "dr"]
    role: Literal["standby", "primary"] = Field("standby", description="the DR site's role; promotion")
    peer_stack: str = Field(pattern=r"^[A-Za-z0-9_.\-/]+$", description="stack of the other site")
    peer_region: str = Field(pattern=_REGION)
    peer_cidr: Cidr
    promotion_token: str | None = Field(
        None, description="CloudNativePG promotion token for a controlled switchover during drills"
    )

    @model_validator(mode="after")
    def _role(self) -> DrSettings:
        if self.site == "primary" and self.role != "standby":
            raise ValueError("role: only a dr site is promoted; the primary site keeps role standby")
        return self


class KubernetesSettings(Strict):
    kubeconfig: SecretStr | None = None
    # An existing cluster (kubeconfig set): the storage class the data plane's volumes use there.
    storage_class: str = Field("gp3-encrypted", pattern=r"^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$")


class StackSettings(Strict):
    """Everything a stack file may set under the pipeline-infra namespace (plus aws:region)."""

    role: Literal["environment", "fleet-colour"]
    target: Literal["docker", "aws"]
    environment: str = Field(pattern=r"^[a-z][a-z0-9-]{1,19}$", description="Environment tag")
    region: str | None = Field(None, pattern=_REGION, description="aws:region")

    network: NetworkSettings | None = None
    cluster: ClusterSettings | None = None
    kubernetes: KubernetesSettings | None = None
    capacity: CapacitySettings | None = None
    fleets: FleetSettings | None = None
    backups: BackupSettings | None = None
    scylla: ScyllaSettings | None = None
    postgres: PostgresSettings | None = None
    kafka: KafkaSettings | None = None
    connect: ConnectSettings | None = None
    schema_registry: SchemaRegistrySettings | None = None
    observability: ObservabilitySettings | None = None
    traffic: TrafficSettings | None = None
    dr: DrSettings | None = None
    # fleet-colour stacks: the environment stack they attach to (StackReference).
    environment_stack: str | None = Field(None, pattern=r"^[A-Za-z0-9_.\-/]+$")

    # Secrets (Pulumi secrets only: `pulumi config set --secret pipeline-infra:<key> ...`).
    pagerduty_critical_key: SecretStr | None = None
    pagerduty_high_key: SecretStr | None = None
    slack_webhook_url: SecretStr | None = None
    smtp_password: SecretStr | None = None

    @property
    def data_plane(self) -> bool:
        return self.role == "environment"

    @property
    def colour(self) -> str | None:
        return self.fleets.colour if self.fleets else None

    def streaming(self) -> StreamingSpec:
        """The streaming layer's input, composed from this stack's sections (an environment stack has
        them all: REQUIRED below)."""
        assert self.kafka and self.connect and self.schema_registry and self.scylla
        dr = self.dr
        return StreamingSpec(
            kafka=self.kafka,
            connect=self.connect,
            schema_registry=self.schema_registry,
            scylla=CdcSource(keyspace=self.scylla.keyspace, tables=self.scylla.tables),
            dr=None if dr is None else Replication(site=dr.site, role=dr.role, peer_cidr=dr.peer_cidr),
        )


# Sections a stack must have, per (role, target); and those it must not have.
REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("environment", "docker"): ("scylla", "postgres", "kafka", "connect", "schema_registry", "observability"),
    ("environment", "aws"): (
        "region",
        "network",
        "cluster",
        "scylla",
        "postgres",
        "kafka",
        "connect",
        "schema_registry",
        "observability",
        "backups",
    ),
    ("fleet-colour", "aws"): ("region", "capacity", "fleets", "environment_stack"),
}
FORBIDDEN: dict[tuple[str, str], tuple[str, ...]] = {
    ("environment", "docker"): (
        "region",
        "network",
        "cluster",
        "kubernetes",
        "capacity",
        "fleets",
        "backups",
        "traffic",
        "dr",
        "environment_stack",
    ),
    ("environment", "aws"): ("environment_stack",),
    ("fleet-colour", "aws"): (
        "network",
        "cluster",
        "kubernetes",
        "backups",
        "scylla",
        "postgres",
        "kafka",
        "connect",
        "schema_registry",
        "observability",
        "traffic",
    ),
}
# Secrets an AWS environment needs for its Alertmanager receivers (003 Alert Routing): the
# observability component's list, each a SecretStr field of StackSettings.
ALERTING_SECRETS = RECEIVER_SECRETS
