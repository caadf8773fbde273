"""Capacity horizon, module fleets and backups."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import Strict

Module = Literal["alpha", "beta", "gamma"]


class CapacitySettings(Strict):
    """How the fleets are sized from capacity-plan.yaml (seed 003 Capacity Planning)."""

    profile: Literal["production", "staging", "warm-standby"]
    horizon_months: int | None = Field(None, ge=0, le=36, description="months of 7 %/month growth")
    growth_factor: float | None = Field(None, ge=1.0, le=10.0, description="explicit growth factor")
    reserved_discount_pct: float = Field(30.0, ge=0, lt=100, description="discount of reserved instances")

    @model_validator(mode="after")
    def _one_growth(self) -> CapacitySettings:
        if self.horizon_months is not None and self.growth_factor is not None:
            raise ValueError("set horizon_months or growth_factor, not both")
        return self


class FleetOverride(Strict):
    min: int | None = Field(None, ge=0, le=200)
    desired: int | None = Field(None, ge=0, le=200)
    max: int | None = Field(None, ge=1, le=200)


class AlphaParams(Strict):
    """003 Module Alpha Step 3: environment-specific parameters of alpha.yaml."""

    # 003 Runbook H.1: "DEFAULT_BATCH_SIZE: 2000  # Increased from 1000" -> baseline 1000.
    DEFAULT_BATCH_SIZE: int = Field(1000, ge=1, le=100_000)
    MAX_RETRY_COUNT: int = Field(3, ge=0, le=20)
    CONNECTION_TIMEOUT_MS: int = Field(30_000, ge=100, le=600_000)
    BUFFER_CAPACITY: int = Field(100_000, ge=1000, le=10_000_000)
    # 003 Runbook H.1 Optimizing Module Alpha Performance: the tuning knobs, defaults the baselines
    # the runbook raises from ("Increased from 4", "from 10", "from 300000").
    PARSER_THREAD_COUNT: int = Field(4, ge=1, le=64)
    CONNECTION_POOL_SIZE: int = Field(10, ge=1, le=500)
    CONNECTION_IDLE_TIMEOUT_MS: int = Field(300_000, ge=1000, le=3_600_000)
    # H.1 enables parallel rules and relaxes strict mode "if acceptable": the baselines are off / on.
    VALIDATION_PARALLEL_RULES: bool = False
    VALIDATION_STRICT_MODE: bool = True


class BetaParams(Strict):
    """003 Module Beta Step 3: environment-specific parameters of beta.yaml."""

    # 003 Runbook H.2: "TRANSFORM_PARALLELISM: 16  # Increased from 8" -> baseline 8.
    TRANSFORM_PARALLELISM: int = Field(8, ge=1, le=256)
    # H.2: "ENRICHMENT_CACHE_TTL: 7200 # Increased from 3600", "TRANSFORM_BATCH_SIZE: 1000 # ... from 500".
    ENRICHMENT_CACHE_TTL: int = Field(3600, ge=1, le=604_800, description="seconds")
    TRANSFORM_BATCH_SIZE: int = Field(500, ge=1, le=100_000)
    # 003 Operational Metrics > Module Beta: average quality score warning below 0.8.
    QUALITY_THRESHOLD_WARN: float = Field(0.8, gt=0, le=1)
    # 003 Runbook H.2: "ENRICHMENT_CACHE_MAX_SIZE: 200000  # Increased from 100000".
    ENRICHMENT_CACHE_MAX_SIZE: int = Field(100_000, ge=1000, le=10_000_000)


class GammaParams(Strict):
    """003 Module Gamma Step 3: environment-specific parameters of gamma.yaml."""

    # 003 Runbook H.3: "OUTPUT_BATCH_SIZE: 1000  # Increased from 500".
    OUTPUT_BATCH_SIZE: int = Field(500, ge=1, le=100_000)
    MAX_DELIVERY_RETRIES: int = Field(5, ge=0, le=50)
    DLQ_RETENTION_DAYS: int = Field(7, ge=1, le=365)
    # H.3: "ACK_WAIT_TIMEOUT_MS: 30000  # Reduced from 60000" -> baseline 60000.
    ACK_WAIT_TIMEOUT_MS: int = Field(60_000, ge=100, le=600_000)
    # 003 Runbook H.3: "ACK_TIMEOUT_ACTION: ASSUME_SUCCESS  # Was: RETRY_DELIVERY".
    ACK_TIMEOUT_ACTION: Literal["RETRY_DELIVERY", "ASSUME_SUCCESS"] = "RETRY_DELIVERY"


class ModuleParams(Strict):
    alpha: AlphaParams = Field(default_factory=AlphaParams)
    beta: BetaParams = Field(default_factory=BetaParams)
    gamma: GammaParams = Field(default_factory=GammaParams)


class FleetSettings(Strict):
    """The alpha/beta/gamma fleets a stack declares (one colour)."""

    colour: Literal["blue", "green"]
    modules: list[Module] = Field(default_factory=lambda: ["alpha", "beta", "gamma"], min_length=1)
    overrides: dict[Module, FleetOverride] = Field(default_factory=dict)
    params: ModuleParams = Field(default_factory=ModuleParams)
    artifact_version: str = Field("1.0.0", pattern=r"^[0-9A-Za-z][0-9A-Za-z.+-]*$")
    # 003 Artifact Verification: checksum of each module's artifact (sha256, hex).
    artifact_sha256: dict[Module, str] = Field(default_factory=dict)
    handoff_port: int = Field(9000, ge=1024, le=65535, description="alpha -> beta -> gamma handoff")
    health_port: int = Field(8080, ge=1024, le=65535, description="health and admin endpoint")
    metrics_port: int = Field(9100, ge=1024, le=65535, description="node exporter")

    @model_validator(mode="after")
    def _checks(self) -> FleetSettings:
        if len(set(self.modules)) != len(self.modules):
            raise ValueError("modules: each module may be listed once")
        for module, digest in self.artifact_sha256.items():
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ValueError(f"artifact_sha256.{module}: must be 64 lowercase hex characters")
        ports = {self.handoff_port, self.health_port, self.metrics_port}
        if len(ports) != 3:
            raise ValueError("handoff_port, health_port and metrics_port must differ")
        return self


class BackupSettings(Strict):
    """Backup buckets (003 Backup and Recovery > Backup Classifications)."""

    replicate_to_region: str | None = Field(None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    state_retention_days: int = Field(7, ge=1, le=3650)  # State Backups: 7 days
    db_full_retention_days: int = Field(30, ge=1, le=3650)  # Database Backups: 30 days full
    db_incremental_retention_days: int = Field(7, ge=1, le=3650)  # 7 days incremental
    audit_retention_years: int = Field(7, ge=1, le=100)  # Audit Log Backups: 7 years
