"""Per-module operating figures of the fleets, from seed 003. Pure: no Pulumi.

Every figure names the seed section it comes from; where the seed is silent the choice is documented
here and in docs/fleets.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MODULES = ("alpha", "beta", "gamma")


@dataclass(frozen=True)
class ModuleProfile:
    module: str
    role: str
    # Time an instance is given to finish in-flight work when it leaves the load balancer: the
    # termination lifecycle hook's heartbeat, the target group's deregistration delay and the
    # systemd ExecStop drain all use it.
    drain_seconds: int
    # Minimum observation of an updated instance before the next one is touched: the instance
    # refresh's instance warmup and checkpoint delay.
    stabilisation_seconds: int
    # Boot, bootstrap and application start before ELB health checks count.
    health_grace_seconds: int
    # Module directories beside bin, config, lib, logs and data (003 Step 2 of each module).
    extra_dirs: tuple[str, ...]
    # Which module it hands records to (None: gamma delivers to the configured destinations).
    downstream: str | None
    # 003 Database Backups "validation cache, transformation state, delivery tracking": pipeline_db.
    # 003 Module Alpha Step 1: "message queue consumer ports" among the source adapter types.
    uses_kafka: bool
    # 003 State Backup: what the 4-hourly snapshot captures.


PROFILES: dict[str, ModuleProfile] = {
    # 003 Module Alpha Deployment > Rolling Update Procedure > Phase 2: "maximum timeout of sixty
    # seconds" (drain) and "minimum of five minutes" (stability monitoring).
    "alpha": ModuleProfile(
        module="alpha",
        role="ingestion",
        drain_seconds=60,
        stabilisation_seconds=300,
        health_grace_seconds=300,
        extra_dirs=(),
        downstream="beta",
        uses_kafka=True,
    ),
    # 003 Module Beta Deployment > Rolling Update Procedure > Phase 3: "maximum timeout of one hundred
    # twenty seconds" (drain) and "minimum of ten minutes" (extended stability monitoring). The longer
    # grace covers the abbreviated cache warmup of Phase 3.
    "beta": ModuleProfile(
        module="beta",
        role="transformation",
        drain_seconds=120,
        stabilisation_seconds=600,
        health_grace_seconds=600,
        extra_dirs=("cache",),
        downstream="gamma",
        uses_kafka=False,
    ),
    # 003 has no Rolling Update Procedure for Module Gamma. Gamma follows the standard procedure
    # (Module Alpha's: 60 s drain, 5 min stabilisation); its drain is stretched to the
    # acknowledgment wait (ACK_WAIT_TIMEOUT_MS) when that is longer, so that no delivery in flight
    # loses its acknowledgment (see gamma_drain_seconds). Directories: 003 Module Gamma Step 2.
    "gamma": ModuleProfile(
        module="gamma",
        role="delivery",
        drain_seconds=60,
        stabilisation_seconds=300,
        health_grace_seconds=300,
        extra_dirs=("dlq", "templates"),
        downstream=None,
        uses_kafka=False,
    ),
}

# Health endpoint the load balancer probes on the module's health port (003 Module Alpha Step 4:
# "Health check endpoint testing"; the admin API of 003 State Backup lives on :8080).
HEALTH_PATH = "/health"
# CPU target of the scaling policy: 003 Capacity Planning > Scaling Calculations "Target
# utilization: 70%" (capacity-plan.yaml target_utilisation).
STATE_BACKUP_CALENDAR = "*-*-* 00/4:00:00"  # 003 Backup Schedules: state snapshot every 4 hours at :00


def profile(module: str) -> ModuleProfile:
    if module not in PROFILES:
        raise ValueError(f"unknown module {module!r}; allowed: {', '.join(MODULES)}")
    return PROFILES[module]


def drain_seconds(module: str, ack_wait_timeout_ms: int | None = None) -> int:
    """The module's drain time; gamma's is at least its acknowledgment wait."""
    base = profile(module).drain_seconds
    if module == "gamma" and ack_wait_timeout_ms is not None:
        return max(base, math.ceil(ack_wait_timeout_ms / 1000))
    return base


def refresh_checkpoints(desired: int) -> list[int]:
    """Checkpoint after the first replaced instance (the canary), then the rest: percentages of the
    group an instance refresh pauses at, each pause lasting the stabilisation time."""
    first = math.ceil(100 / max(1, desired))
    return [first, 100] if first < 100 else [100]


def refresh_max_healthy(desired: int) -> int:
    """Launch one replacement before terminating one (capacity never drops below desired)."""
    return min(200, 100 + math.ceil(100 / max(1, desired)))
