"""Pure helpers of the ingest DNS (no Pulumi): weights, record names, the DR promotion gate."""

from __future__ import annotations

COLOURS = ("blue", "green")


def colour_weights(active: str, weights: dict[str, int] | None = None) -> dict[str, int]:
    """Weighted-record weights: the configured split, or 100 to the active colour and 0 to the other
    (seed 003 Blue-Green Deployment > Cutover Phase: redirect traffic from blue to green)."""
    if active not in COLOURS:
        raise ValueError(f"active must be one of {COLOURS} (got {active!r})")
    if weights is None:
        return {c: (100 if c == active else 0) for c in COLOURS}
    out = {c: int(weights.get(c, 0)) for c in COLOURS}
    if sum(out.values()) != 100 or out[active] == 0 or any(not 0 <= w <= 100 for w in out.values()):
        raise ValueError(f"weights must be 0-100, sum to 100 and favour {active} (got {weights})")
    return out


def site_name(environment: str, domain: str) -> str:
    """The name of a site's own ingest records (the weighted set on the primary, the DR load
    balancer on the DR site); the failover pair at `domain` points at these."""
    return f"{environment}.{domain}"


def gate_alarm_name(dr_stack: str) -> str:
    """CloudWatch alarm (in the DR region, owned by the DR stack) that is in ALARM while the DR site is
    promoted; the primary's failover record is healthy only while it is not."""
    return f"pipeline-{dr_stack.rsplit('/', 1)[-1]}-dr-promoted"


def gate_alarm(promoted: bool) -> dict[str, object]:
    """Alarm settings of the gate. Its metric is the DR ingest target group's HealthyHostCount (always
    >= 0): standby alarms on `< 0` and treats missing data as not breaching (never in ALARM);
    promoted alarms on `>= 0` and treats missing data as breaching (always in ALARM). Only these two
    fields change on promotion: an update in place."""
    if promoted:
        return {"comparison_operator": "GreaterThanOrEqualToThreshold", "treat_missing_data": "breaching"}
    return {"comparison_operator": "LessThanThreshold", "treat_missing_data": "notBreaching"}


def dr_ingest_alarm(promoted: bool) -> dict[str, object]:
    """The DR ingest health alarm that guards the SECONDARY failover record (seed 003 Runbook M.1:
    activation is declared). Standby: `HealthyHostCount >= 0` with missing data breaching, always in
    ALARM, so Route53 never serves a standby DR site even when the primary's record is unhealthy.
    Promoted: `< 1` healthy host (the real health). Only these fields change: an update in place."""
    if promoted:
        return {"comparison_operator": "LessThanThreshold", "threshold": 1}
    return {"comparison_operator": "GreaterThanOrEqualToThreshold", "threshold": 0}
