"""Settings of the module fleets (`pipeline-infra:fleets`) and of their sizing
(`pipeline-infra:capacity`, seed 003 Capacity Planning)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from lib.settings import Strict

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

    DEFAULT_BATCH_SIZE: int = Field(500, ge=1, le=100_000)
    MAX_RETRY_COUNT: int = Field(3, ge=0, le=20)
    CONNECTION_TIMEOUT_MS: int = Field(30_000, ge=100, le=600_000)
    BUFFER_CAPACITY: int = Field(100_000, ge=1000, le=10_000_000)


class BetaParams(Strict):
    """003 Module Beta Step 3: environment-specific parameters of beta.yaml."""

    TRANSFORM_PARALLELISM: int = Field(16, ge=1, le=256)
    ENRICHMENT_CACHE_TTL: int = Field(3600, ge=1, le=604_800, description="seconds")
    TRANSFORM_BATCH_SIZE: int = Field(500, ge=1, le=100_000)
    # 003 Operational Metrics > Module Beta: average quality score warning below 0.8.
    QUALITY_THRESHOLD_WARN: float = Field(0.8, gt=0, le=1)


class GammaParams(Strict):
    """003 Module Gamma Step 3: environment-specific parameters of gamma.yaml."""

    OUTPUT_BATCH_SIZE: int = Field(500, ge=1, le=100_000)
    MAX_DELIVERY_RETRIES: int = Field(5, ge=0, le=50)
    DLQ_RETENTION_DAYS: int = Field(7, ge=1, le=365)
    ACK_WAIT_TIMEOUT_MS: int = Field(30_000, ge=100, le=600_000)


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
