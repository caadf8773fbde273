"""The whole settings of one stack, and the checks that span sections."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from components.backups.settings import BackupSettings
from components.cluster.settings import ClusterSettings
from components.dataplane.postgres.settings import PostgresSettings
from components.dataplane.scylla.settings import ScyllaSettings
from components.fleet.profile import PROFILES
from components.fleet.settings import CapacitySettings, FleetSettings
from components.network.settings import NetworkSettings
from components.observability.alertmanager import RECEIVER_SECRETS
from components.observability.settings import ObservabilitySettings
from components.streaming.connect.settings import ConnectSettings
from components.streaming.kafka.settings import KafkaSettings
from components.streaming.schema_registry.settings import SchemaRegistrySettings
from components.streaming.spec import CdcSource, FleetAccess, Replication, StreamingSpec
from components.traffic.settings import STACK_NAME, DnsSettings, TrafficSettings
from lib.settings import Cidr, Region, Strict


class DrSettings(Strict):
    """Disaster recovery (003 Disaster Recovery; 004 RTO < 5 min / RPO < 1 min)."""

    site: Literal["primary", "dr"] = Field(
        description="which side of the DR pair this stack is: primary (prod) or dr (the warm standby "
        "in the second region)"
    )
    role: Literal["standby", "primary"] = Field(
        None,  # type: ignore[assignment]  # filled in from site below
        validate_default=True,
        description="the site's current role: standby (replica cluster, connectors stopped, MirrorMaker 2 "
        "running into it, no client traffic) or primary (writable, connectors running, traffic). "
        "Default: primary on the primary site, standby on the dr site. Promotion of the dr site and "
        "failback (the primary site demoted to standby, then promoted back) are each this value",
    )
    peer_stack: str = Field(
        pattern=STACK_NAME,
        description="the other site's stack, read by StackReference on the DR site (VPC, route tables, "
        "Kafka, PostgreSQL and ScyllaDB outputs, the ingest DNS); a short name of this project's "
        "stacks (qualified with the organisation at run time) or organization/project/stack",
    )
    peer_region: Region = Field(description="AWS region of the other site; must differ from aws:region")
    peer_cidr: Cidr = Field(
        description="the other site's network.cidr (peering routes, the replication listener's "
        "source); must not overlap this stack's"
    )
    promotion_token: str | None = Field(
        None,
        description="CloudNativePG promotion token (the demoted primary's demotion token) for a "
        "controlled switchover during drills; only with role primary; unset: a failover",
    )

    @field_validator("role", mode="before")
    @classmethod
    def _default_role(cls, value: object, info: ValidationInfo) -> object:
        """unset: the site's own role (primary on the primary site, standby on the dr site)."""
        if value is None:
            return "primary" if info.data.get("site") == "primary" else "standby"
        return value

    def references_peer(self) -> bool:
        """The dr site always reads its peer (replication sources); the primary site only while it is
        demoted or promoted back with a token (failback: it replicates from the dr site)."""
        return self.site == "dr" or self.role == "standby" or self.promotion_token is not None


class SecretsSettings(Strict):
    """Where an AWS environment's Alertmanager receiver secrets come from (seed 003 Alert Routing)."""

    source: Literal["secretsmanager", "config"] = Field(
        "secretsmanager",
        description="secretsmanager: read at deploy time (preview too) from the AWS Secrets Manager "
        "secret `alertmanager_secret`, a JSON object with one key per receiver secret "
        "(pagerduty_critical_key, pagerduty_high_key, slack_webhook_url, smtp_password), kept secret "
        "in state; config: the stack's own Pulumi secrets (pipeline-infra:<key>, each required)",
    )
    alertmanager_secret: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$",
        description="name of the Secrets Manager secret in the stack's account and region; unset: "
        "`pipeline-infra/<environment>/alertmanager`",
    )


class KubernetesSettings(Strict):
    """An existing Kubernetes cluster instead of EKS (the whole key is a Pulumi secret)."""

    kubeconfig: SecretStr | None = Field(
        None,
        description="kubeconfig of an existing cluster: no EKS is declared, only a provider from it "
        "(no IRSA, so connect.image_repository is required)",
    )
    storage_class: str = Field(
        "gp3-encrypted",
        pattern=r"^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$",
        description="on an existing cluster (kubeconfig set), the StorageClass the data plane's and "
        "observability's volumes use there",
    )


class StackSettings(Strict):
    """Everything a stack file may set under the pipeline-infra namespace (plus aws:region)."""

    role: Literal["environment", "fleet-colour", "traffic"] = Field(
        description="environment: a whole environment (network, data plane, observability, ...); "
        "fleet-colour: one blue or green colour of an environment's fleets; traffic: the blue-green "
        "weighted ingest records over the colour stacks (and the primary's failover record)"
    )
    target: Literal["docker", "aws"] = Field(
        description="docker: the local stack as containers (environment only); aws: AWS and EKS"
    )
    environment: str = Field(
        pattern=r"^[a-z][a-z0-9-]{1,19}$",
        description="the environment's name: prefix of resource names, the Environment tag, "
        "Prometheus' environment label; a colour stack carries its environment's",
    )
    region: Region | None = Field(
        None, description="the AWS region, set as aws:region (not under pipeline-infra)"
    )

    network: NetworkSettings | None = Field(None, description="the stack's VPC and its traffic flows")
    cluster: ClusterSettings | None = Field(None, description="the EKS cluster and its node groups")
    kubernetes: KubernetesSettings | None = Field(
        None, description="an existing Kubernetes cluster instead of EKS (a Pulumi secret)"
    )
    capacity: CapacitySettings | None = Field(
        None, description="how the fleets are sized from capacity-plan.yaml (seed 003 Capacity Planning)"
    )
    fleets: FleetSettings | None = Field(
        None, description="the alpha/beta/gamma module fleets of one colour"
    )
    backups: BackupSettings | None = Field(
        None, description="the backup and audit buckets (seed 003 Backup Classifications)"
    )
    scylla: ScyllaSettings | None = Field(None, description="the ScyllaDB cluster, the CDC source")
    postgres: PostgresSettings | None = Field(None, description="the PostgreSQL cluster, the CDC sink")
    kafka: KafkaSettings | None = Field(None, description="the Kafka cluster and its topics")
    connect: ConnectSettings | None = Field(
        None, description="Kafka Connect and the CDC source and sink connectors"
    )
    schema_registry: SchemaRegistrySettings | None = Field(None, description="the Schema Registry")
    observability: ObservabilitySettings | None = Field(
        None, description="Prometheus, Alertmanager, Grafana and tracing"
    )
    dns: DnsSettings | None = Field(
        None,
        description="the Route 53 zone and ingest domain (both sites of a DR pair, and an environment "
        "whose fleets are colour stacks)",
    )
    traffic: TrafficSettings | None = Field(
        None, description="the blue-green ingest DNS switch over the colour stacks (the traffic stack)"
    )
    dr: DrSettings | None = Field(
        None, description="this stack's place in a DR pair (seed 003 Disaster Recovery)"
    )
    environment_stack: str | None = Field(
        None,
        pattern=STACK_NAME,
        description="the environment stack of a fleet-colour stack (network, security groups, buckets, "
        "keys, OTLP endpoint) or of a traffic stack (ingest DNS, DR gate), read by StackReference; a "
        "short name of this project's stacks (qualified with the organisation at run time) or "
        "organization/project/stack",
    )

    secrets: SecretsSettings | None = Field(
        None,
        description="where the Alertmanager receiver secrets come from (an AWS environment; unset: "
        "AWS Secrets Manager by its default name)",
    )

    # Secrets (Pulumi secrets only: `pulumi config set --secret pipeline-infra:<key> ...`), with
    # secrets.source config.
    pagerduty_critical_key: SecretStr | None = Field(
        None,
        description="PagerDuty routing key of receiver pagerduty-critical (seed 003 Alert Routing: "
        "${PAGERDUTY_CRITICAL_KEY}); a Pulumi secret, required on an AWS environment with secrets.source "
        "config",
    )
    pagerduty_high_key: SecretStr | None = Field(
        None,
        description="PagerDuty routing key of receiver pagerduty-high (seed 003 Alert Routing: "
        "${PAGERDUTY_HIGH_KEY}); a Pulumi secret, required on an AWS environment with secrets.source "
        "config",
    )
    slack_webhook_url: SecretStr | None = Field(
        None,
        description="Slack incoming webhook of receivers slack-ops and slack-info; a Pulumi secret, "
        "required on an AWS environment with secrets.source config",
    )
    deadmans_switch_url: SecretStr | None = Field(
        None,
        description="webhook URL of the dead man's switch (a heartbeat service) that receiver "
        "deadmans-switch pings with the always-firing Watchdog alert every minute; the service pages "
        "when the pings stop (seed 003 P1: complete loss of monitoring visibility); a Pulumi secret, "
        "required on an AWS environment",
    )
    smtp_password: SecretStr | None = Field(
        None,
        description="password of the SMTP smarthost for receiver email-ops; a Pulumi secret, required "
        "on an AWS environment with secrets.source config",
    )

    @property
    def secrets_source(self) -> str:
        return self.secrets.source if self.secrets is not None else "secretsmanager"

    @property
    def alertmanager_secret_name(self) -> str:
        name = self.secrets.alertmanager_secret if self.secrets is not None else None
        return name or f"pipeline-infra/{self.environment}/alertmanager"

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
            # An AWS environment's fleets (its own, or its colour stacks' in the same VPC) reach Kafka
            # through their own listener from the environment's network.
            fleets=None
            if self.network is None
            else FleetAccess(
                cidrs=[self.network.cidr], modules=[m for m, p in PROFILES.items() if p.uses_kafka]
            ),
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
    ("traffic", "aws"): ("region", "traffic", "environment_stack"),
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
        "dns",
        "traffic",
        "dr",
        "environment_stack",
        "secrets",
    ),
    ("environment", "aws"): ("environment_stack", "traffic"),
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
        "dns",
        "traffic",
        "secrets",
    ),
    ("traffic", "aws"): (
        "network",
        "cluster",
        "kubernetes",
        "capacity",
        "fleets",
        "backups",
        "scylla",
        "postgres",
        "kafka",
        "connect",
        "schema_registry",
        "observability",
        "dns",
        "dr",
        "secrets",
    ),
}
# Secrets an AWS environment needs for its Alertmanager receivers (003 Alert Routing): the
# observability component's list, each a SecretStr field of StackSettings.
ALERTING_SECRETS = RECEIVER_SECRETS
