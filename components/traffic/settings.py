"""Settings of the ingest DNS: the hosted zone and domain both sites of a DR pair carry
(`pipeline-infra:dns`) and the blue-green traffic switch (`pipeline-infra:traffic`, the traffic stack)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from lib.settings import Strict

Colour = Literal["blue", "green"]

_DNS_NAME = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
# A stack-name setting: a short stack name of this project, or organization/project/stack.
STACK_NAME = r"^([A-Za-z0-9_.-]+|[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)$"
# Names reserved for documentation and testing (RFC 2606, RFC 6761): no public hosted zone has them.
RESERVED_ZONES = (
    "example.com", "example.net", "example.org", "example", "test", "invalid", "localhost", "local"
)


def reserved(name: str) -> str | None:
    """The reserved name `name` falls under (a placeholder, never a real zone), or None. Pure."""
    for zone in RESERVED_ZONES:
        if name == zone or name.endswith(f".{zone}"):
            return zone
    return None


class DnsSettings(Strict):
    """The ingest names of an environment in Route 53 (seed 003 Blue-Green Deployment > Cutover Phase:
    "update DNS entries"; Geographic Failover: DNS redirects traffic to the DR site). Both sites of a
    DR pair carry the same values; the DR site checks them against the primary's outputs."""

    zone_name: str = Field(
        pattern=_DNS_NAME,
        description="the existing public Route 53 hosted zone the ingest records are created in (looked "
        "up, not created): set it to your own zone, the same on both sites of a DR pair; a reserved "
        "name (example.com, .test, ...) is refused",
    )
    domain: str | None = Field(
        None,
        pattern=_DNS_NAME,
        description="the sources' ingest name, inside `zone_name`: the failover pair (PRIMARY on the "
        "primary site's traffic stack, SECONDARY on the DR site) over each site's records at "
        "`<environment>.<domain>`; unset: `ingest.<zone_name>`",
    )

    @model_validator(mode="after")
    def _inside_zone(self) -> DnsSettings:
        """zone_name is no reserved placeholder name (example.com, .test, .invalid, ...).
        domain lies inside zone_name.
        """
        if reserved(self.zone_name):
            raise ValueError(
                f"zone_name: {self.zone_name} is a reserved placeholder name; set your Route 53 public "
                "hosted zone"
            )
        if self.domain is not None and not (
            self.domain == self.zone_name or self.domain.endswith(f".{self.zone_name}")
        ):
            raise ValueError(f"domain: {self.domain} is not inside zone_name {self.zone_name}")
        return self

    @property
    def ingest_domain(self) -> str:
        return self.domain or f"ingest.{self.zone_name}"


class TrafficSettings(Strict):
    """Blue-green traffic switch of 003 Blue-Green Deployment > Cutover Phase (the traffic stack)."""

    active: Colour = Field(
        description="the colour that receives the ingest traffic: weight 100, the other 0 (seed 003 "
        "Blue-Green Deployment > Cutover Phase: redirect traffic from blue to green)"
    )
    weights: dict[Colour, int] | None = Field(
        None,
        description="optional weighted split of the Route 53 weighted records instead of all-or-nothing: "
        "each 0-100, summing to 100, the active colour above 0",
    )
    colour_stacks: dict[Colour, str] = Field(
        default_factory=lambda: {"blue": "prod-blue", "green": "prod-green"},
        description="stacks of the blue and green fleet colours, read by StackReference (their ingest "
        "load balancers): short names of this project's stacks (qualified with the organisation at "
        "run time) or organization/project/stack; both colours required",
    )
    failover: bool = Field(
        False,
        description="the environment is the primary site of a DR pair: also declare the PRIMARY failover "
        "record at the ingest domain, guarded by the DR site's promotion gate (its alarm name and region "
        "read from the environment stack's outputs)",
    )

    @model_validator(mode="after")
    def _weights(self) -> TrafficSettings:
        """colour_stacks names the stacks of both colours, blue and green.
        colour_stacks are stack names (short, or organization/project/stack).
        each of weights is 0-100.
        weights sum to 100.
        weights give the active colour more than 0.
        """
        import re

        if set(self.colour_stacks) != {"blue", "green"}:
            raise ValueError("colour_stacks: name the stack of both colours, blue and green")
        for colour, stack in sorted(self.colour_stacks.items()):
            if not re.match(STACK_NAME, stack):
                raise ValueError(f"colour_stacks.{colour}: {stack!r} is not a stack name")
        if self.weights is not None:
            if any(not 0 <= w <= 100 for w in self.weights.values()):
                raise ValueError("weights: each weight must be from 0 to 100")
            if sum(self.weights.values()) != 100:
                raise ValueError(f"weights: must sum to 100 (got {sum(self.weights.values())})")
            if self.weights.get(self.active, 0) == 0:
                raise ValueError(f"weights: the active colour {self.active} must have a weight above 0")
        return self
