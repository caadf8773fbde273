"""Observability settings (seeds 003 Monitoring and Alerting, 000 Monitoring and Alerting)."""

from __future__ import annotations

from pydantic import Field

from .base import Strict


class AlertingSettings(Strict):
    """Alertmanager receivers of 003 Alert Routing. Keys and webhooks are Pulumi secrets."""

    slack_channel_ops: str = Field("#pipeline-ops", pattern=r"^#[a-z0-9_-]+$")
    slack_channel_info: str = Field("#pipeline-info", pattern=r"^#[a-z0-9_-]+$")
    email_ops: str = Field("pipeline-ops@example.com", pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    smarthost: str = Field("smtp.example.com:587", pattern=r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")


class ObservabilitySettings(Strict):
    # Metrics retention: the seeds set none for metrics (003 Log Retention covers logs). 30 days: the
    # SLOs' error-budget period (seed 002 SLOs: 99.9 % over 30 days, components/observability/slos.yaml)
    # and week-over-week baselines; a stack with less (staging, local) sees budgets over what it keeps.
    retention_days: int = Field(30, ge=1, le=365)
    retention_size_gib: int = Field(100, ge=1, le=10000)
    prometheus_storage_gib: int = Field(200, ge=10, le=10000)
    alerting: AlertingSettings = Field(default_factory=AlertingSettings)
    tracing: bool = True
