"""Settings of the module fleets (`pipeline-infra:fleets`) and of their sizing
(`pipeline-infra:capacity`, seed 003 Capacity Planning)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from lib.settings import Strict

Module = Literal["alpha", "beta", "gamma"]

AMI_ID = re.compile(r"^ami-[0-9a-f]{8,17}$")
# The public SSM parameter Debian publishes for one dated release of its Debian 12 amd64 AMI, in every
# region it uploads to: <prefix>/<upload type>/<release name or id>/<version>/<arch>, the version
# `<YYYYMMDD>-<build>` of an official image, set once and never overwritten (only `latest` moves).
# Source: Debian cloud team, debian-cloud-images (salsa.debian.org/cloud-team/debian-cloud-images):
# src/debian_cloud_images/cli/put_ssm.py (the keys), src/debian_cloud_images/resources/image.yaml
# (release bookworm = id 12; official outputVersion '{date}-{version}').
DEBIAN_12_PARAMETER = re.compile(r"^/aws/service/debian/release/(bookworm|12)/[0-9]{8}-[0-9]+/amd64$")
AMI_ALLOWED = (
    "an AMI id ami-<8 to 17 hex> or the dated Debian 12 amd64 public parameter "
    "/aws/service/debian/release/bookworm/<YYYYMMDD>-<build>/amd64 (or .../release/12/...; "
    "never latest or daily: the image is bumped on purpose)"
)


class CapacitySettings(Strict):
    """How the fleets are sized from capacity-plan.yaml (seed 003 Capacity Planning)."""

    profile: Literal["production", "staging", "warm-standby"] = Field(
        description="sizing profile of capacity-plan.yaml: production (min = the reserved baseline of "
        "seed 003 Reserved Capacity, desired = the Scaling Calculations formula, max = the 12-month "
        "projection), staging (seed 003 Module Step 1 staging counts at half spec) or warm-standby "
        "(the plan's warm_standby counts at production shape, a DR site; promoted: production)"
    )
    horizon_months: int | None = Field(
        None,
        ge=0,
        le=36,
        description="months of growth the fleets are sized for, at capacity-plan.yaml's monthly_growth "
        "of 7 % (seed 003 Growth Projections); unset: 0, today's peak",
    )
    growth_factor: float | None = Field(
        None,
        ge=1.0,
        le=10.0,
        description="explicit growth factor of the Scaling Calculations formula (seed 003 example: "
        "1.5), instead of horizon_months",
    )
    reserved_discount_pct: float = Field(
        30.0,
        ge=0,
        lt=100,
        description="percent off the on-demand price for the reserved baseline instances in the cost "
        "figures (seed 003 Reserved Capacity names the baselines, no discount: 30 is this project's "
        "assumption)",
    )

    @model_validator(mode="after")
    def _one_growth(self) -> CapacitySettings:
        """horizon_months and growth_factor are not both set."""
        if self.horizon_months is not None and self.growth_factor is not None:
            raise ValueError("set horizon_months or growth_factor, not both")
        return self


class FleetOverride(Strict):
    """Explicit Auto Scaling group bounds of one module, replacing the capacity plan's figures."""

    min: int | None = Field(
        None,
        ge=0,
        le=200,
        description="minimum instances; production profile: at least the module's reserved_baseline "
        "of capacity-plan.yaml; unset: the plan's",
    )
    desired: int | None = Field(None, ge=0, le=200, description="desired instances; unset: the plan's")
    max: int | None = Field(None, ge=1, le=200, description="maximum instances; unset: the plan's")


class AlphaParams(Strict):
    """003 Module Alpha Step 3: environment-specific parameters of alpha.yaml."""

    DEFAULT_BATCH_SIZE: int = Field(
        1000,
        ge=1,
        le=100_000,
        description="records processed in each batch cycle (seed 003 Module Alpha Step 3; baseline "
        "1000 from Runbook H.1: \"DEFAULT_BATCH_SIZE: 2000  # Increased from 1000\")",
    )
    MAX_RETRY_COUNT: int = Field(
        3,
        ge=0,
        le=20,
        description="retries of a failed operation before the record goes to the dead letter queue "
        "(seed 003 Module Alpha Step 3; 3 as the source adapter's retry_count of Runbook A.1)",
    )
    CONNECTION_TIMEOUT_MS: int = Field(
        30_000,
        ge=100,
        le=600_000,
        description="milliseconds to wait for a source connection (seed 003 Module Alpha Step 3; "
        "30000 as the source adapter's timeout_ms of Runbook A.1)",
    )
    BUFFER_CAPACITY: int = Field(
        100_000,
        ge=1000,
        le=10_000_000,
        description="records the in-memory and persistent ingest buffer holds (seed 003 Module Alpha "
        "Step 3; the seed gives no figure)",
    )
    PARSER_THREAD_COUNT: int = Field(
        4,
        ge=1,
        le=64,
        description="parser threads (seed 003 Runbook H.1 Optimizing Module Alpha Performance; baseline "
        "4: \"Increased from 4\")",
    )
    CONNECTION_POOL_SIZE: int = Field(
        10,
        ge=1,
        le=500,
        description="source connections pooled per instance (seed 003 Runbook H.1; baseline 10: "
        "\"from 10\")",
    )
    CONNECTION_IDLE_TIMEOUT_MS: int = Field(
        300_000,
        ge=1000,
        le=3_600_000,
        description="milliseconds an idle pooled connection is kept (seed 003 Runbook H.1; baseline "
        "300000)",
    )
    VALIDATION_PARALLEL_RULES: bool = Field(
        False,
        description="validate with the rules in parallel (seed 003 Runbook H.1 enables it when tuning; "
        "baseline off)",
    )
    VALIDATION_STRICT_MODE: bool = Field(
        True,
        description="strict validation (seed 003 Runbook H.1 relaxes it \"if acceptable\"; baseline on)",
    )


class BetaParams(Strict):
    """003 Module Beta Step 3: environment-specific parameters of beta.yaml."""

    TRANSFORM_PARALLELISM: int = Field(
        8,
        ge=1,
        le=256,
        description="concurrent transformation threads (seed 003 Module Beta Step 3; baseline 8 from "
        "Runbook H.2: \"TRANSFORM_PARALLELISM: 16  # Increased from 8\")",
    )
    ENRICHMENT_CACHE_TTL: int = Field(
        3600,
        ge=1,
        le=604_800,
        description="seconds cached enrichment data stays valid (seed 003 Module Beta Step 3; 3600 "
        "before Runbook H.2's tuning)",
    )
    TRANSFORM_BATCH_SIZE: int = Field(
        500,
        ge=1,
        le=100_000,
        description="records transformed per batch cycle (seed 003 Module Beta Step 3; 500 before "
        "Runbook H.2's tuning)",
    )
    QUALITY_THRESHOLD_WARN: float = Field(
        0.8,
        gt=0,
        le=1,
        description="average quality score below which beta warns (seed 003 Operational Metrics > "
        "Module Beta: warning below 0.8)",
    )
    ENRICHMENT_CACHE_MAX_SIZE: int = Field(
        100_000,
        ge=1000,
        le=10_000_000,
        description="entries the enrichment cache holds (seed 003 Runbook H.2; baseline 100000: "
        "\"Increased from 100000\")",
    )


class GammaParams(Strict):
    """003 Module Gamma Step 3: environment-specific parameters of gamma.yaml."""

    OUTPUT_BATCH_SIZE: int = Field(
        500,
        ge=1,
        le=100_000,
        description="records delivered per batch (seed 003 Module Gamma Step 3; 500 as Runbook C.1's "
        "delivery batch_size, before Runbook H.3's tuning)",
    )
    MAX_DELIVERY_RETRIES: int = Field(
        5,
        ge=0,
        le=50,
        description="delivery attempts retried before a record goes to the dead letter queue "
        "(seed 003 Module Gamma Step 3; the seed gives no figure)",
    )
    DLQ_RETENTION_DAYS: int = Field(
        7,
        ge=1,
        le=365,
        description="days records stay in gamma's dead letter queue (seed 003 Module Gamma Step 3; "
        "the seed gives no figure)",
    )
    ACK_WAIT_TIMEOUT_MS: int = Field(
        60_000,
        ge=100,
        le=600_000,
        description="milliseconds to wait for a destination's acknowledgment (seed 003 Module Gamma "
        "Step 3; baseline 60000 from Runbook H.3: \"30000  # Reduced from 60000\"); gamma's instance "
        "drain time is at least this long",
    )
    ACK_TIMEOUT_ACTION: Literal["RETRY_DELIVERY", "ASSUME_SUCCESS"] = Field(
        "RETRY_DELIVERY",
        description="what gamma does when an acknowledgment times out (seed 003 Runbook H.3; baseline "
        "RETRY_DELIVERY: \"ACK_TIMEOUT_ACTION: ASSUME_SUCCESS  # Was: RETRY_DELIVERY\")",
    )


class ModuleParams(Strict):
    """The environment parameters written into each module's `<module>.yaml` (seed 003 Step 3)."""

    alpha: AlphaParams = Field(default_factory=AlphaParams, description="parameters of alpha.yaml")
    beta: BetaParams = Field(default_factory=BetaParams, description="parameters of beta.yaml")
    gamma: GammaParams = Field(default_factory=GammaParams, description="parameters of gamma.yaml")


class FleetSettings(Strict):
    """The alpha/beta/gamma fleets a stack declares (one colour)."""

    colour: Literal["blue", "green"] = Field(
        description="the blue-green colour of these fleets (seed 003 Blue-Green Deployment), in their "
        "names and `Colour` tags"
    )
    modules: list[Module] = Field(
        default_factory=lambda: ["alpha", "beta", "gamma"],
        min_length=1,
        description="the modules that get a fleet, each once; a colour stack or a DR site needs alpha "
        "(the ingest DNS points at its load balancer)",
    )
    overrides: dict[Module, FleetOverride] = Field(
        default_factory=dict,
        description="per module (one of modules), explicit min/desired/max instead of the capacity "
        "plan's sizing",
    )
    params: ModuleParams = Field(
        default_factory=ModuleParams,
        description="environment-specific parameters of each module's configuration file "
        "(seed 003 Module Alpha/Beta/Gamma Step 3)",
    )
    artifact_version: str = Field(
        "1.0.0",
        pattern=r"^[0-9A-Za-z][0-9A-Za-z.+-]*$",
        description="release the instances install from the artifacts bucket: "
        "`artifacts/<module>/<version>/<module>-<version>.tar.gz` (seed 003 Artifact Verification: "
        "version verification)",
    )
    artifact_sha256: dict[Module, str] = Field(
        default_factory=dict,
        description="per module, the sha256 (64 lowercase hex characters) the artifact is verified "
        "against; unset: the `.sha256` published beside it (seed 003 Artifact Verification: checksum "
        "validation)",
    )
    ami_id: str | None = Field(
        None,
        description="the image every instance of these fleets boots: the official Debian 12 (bookworm) "
        "amd64 AMI of the stack's region (owner 136693071363), as its id `ami-...` or as the dated "
        "public parameter Debian publishes for it in every region "
        "(`/aws/service/debian/release/bookworm/<YYYYMMDD>-<build>/amd64`, read at preview with "
        "ssm:GetParameter; never `latest`); pinned and bumped on purpose (a new image rolls the fleets "
        "through the instance refresh); required on AWS, the offline plan stands "
        "`ami-00000000000000000` in; docs/fleets.md says how to look it up",
    )
    handoff_port: int = Field(
        9000,
        ge=1024,
        le=65535,
        description="TCP port of the alpha -> beta -> gamma record handoff and its internal load "
        "balancers (seed 003 Module Beta/Gamma Step 1); a colour stack keeps the default",
    )
    health_port: int = Field(
        8080,
        ge=1024,
        le=65535,
        description="TCP port of each module's health and admin endpoint, the load balancers' health "
        "check (seed 003 Runbook H.3: http://gamma:8080/admin); a colour stack keeps the default",
    )
    metrics_port: int = Field(
        9100,
        ge=1024,
        le=65535,
        description="TCP port of the node exporter Prometheus scrapes on every fleet instance "
        "(seed 003 Monitoring Architecture); a colour stack keeps the default",
    )

    @field_validator("ami_id")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        """ami_id is an AMI id or a dated Debian 12 amd64 public parameter."""
        if value is not None and not (AMI_ID.match(value) or DEBIAN_12_PARAMETER.match(value)):
            raise ValueError(f"must be {AMI_ALLOWED}")
        return value

    @model_validator(mode="after")
    def _checks(self) -> FleetSettings:
        """modules lists each module once.
        each artifact_sha256 is 64 lowercase hex characters.
        handoff_port, health_port and metrics_port differ.
        """
        if len(set(self.modules)) != len(self.modules):
            raise ValueError("modules: each module may be listed once")
        for module, digest in self.artifact_sha256.items():
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ValueError(f"artifact_sha256.{module}: must be 64 lowercase hex characters")
        ports = {self.handoff_port, self.health_port, self.metrics_port}
        if len(ports) != 3:
            raise ValueError("handoff_port, health_port and metrics_port must differ")
        return self
