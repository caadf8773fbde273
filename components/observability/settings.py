"""Settings of the observability stack (`pipeline-infra:observability`; seeds 003 and 000 Monitoring
and Alerting)."""

from __future__ import annotations

from pydantic import Field, model_validator

from lib.settings import Strict


class AlertingSettings(Strict):
    """Alertmanager receivers of 003 Alert Routing. Keys and webhooks are Pulumi secrets."""

    slack_channel_ops: str = Field(
        "#pipeline-ops",
        pattern=r"^#[a-z0-9_-]+$",
        description="Slack channel of receiver slack-ops: medium alerts and anything unrouted "
        "(seed 003 Alert Routing: '#pipeline-ops')",
    )
    slack_channel_info: str = Field(
        "#pipeline-info",
        pattern=r"^#[a-z0-9_-]+$",
        description="Slack channel of receiver slack-info: info alerts (seed 003 Alert Routing names "
        "the receiver, not its channel)",
    )
    email_ops: str = Field(
        "pipeline-ops@example.com",
        pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$",
        description="address of receiver email-ops: low alerts (seed 003 Alert Routing: "
        "'pipeline-ops@example.com'); Alertmanager sends as `alertmanager@<its domain>`",
    )
    smarthost: str = Field(
        "smtp.example.com:587",
        pattern=r"^[A-Za-z0-9.-]+:[0-9]{1,5}$",
        description="SMTP relay host:port Alertmanager sends mail through (TLS required; password: "
        "the smtp_password secret)",
    )


class ObservabilitySettings(Strict):
    """Prometheus, Alertmanager, Grafana and tracing of the environment."""

    retention_days: int = Field(
        30,
        ge=1,
        le=365,
        description="days Prometheus keeps metrics; the seeds set none for metrics (003 Log Retention "
        "covers logs): 30 is the SLOs' error-budget period (seed 002 SLOs: 99.9 % over 30 days) and "
        "covers week-over-week baselines",
    )
    retention_size_gib: int = Field(
        100,
        ge=1,
        le=10000,
        description="size in GiB after which Prometheus drops its oldest blocks (the local Docker "
        "stack passes it as GB)",
    )
    prometheus_storage_gib: int = Field(
        200,
        ge=10,
        le=10000,
        description="size in GiB of each Prometheus replica's volume on the cluster's encrypted storage "
        "class (AWS environments)",
    )
    alerting: AlertingSettings = Field(
        default_factory=AlertingSettings,
        description="Alertmanager receivers of seed 003 Alert Routing",
    )
    tracing: bool = Field(
        True,
        description="the OpenTelemetry operator and a Jaeger collector whose OTLP endpoint the fleets "
        "send spans to (AWS environments); false: none, and otlp_endpoint is empty",
    )

    @model_validator(mode="after")
    def _fits(self) -> ObservabilitySettings:
        """retention_size_gib at most 90 % of prometheus_storage_gib (the WAL is not counted in it)."""
        # Prometheus' storage docs: retention.size bounds the blocks only; the write-ahead log and the
        # blocks being compacted need room beside them, or the volume fills before retention acts.
        most = self.prometheus_storage_gib * 9 // 10
        if self.retention_size_gib > most:
            raise ValueError(
                f"retention_size_gib {self.retention_size_gib} does not fit prometheus_storage_gib "
                f"{self.prometheus_storage_gib}: at most 90 % of it ({most}), the write-ahead log needs "
                "the rest"
            )
        return self
