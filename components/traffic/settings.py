"""Settings of the blue-green traffic switch (`pipeline-infra:traffic`, prod only)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from lib.settings import Strict

Colour = Literal["blue", "green"]


class TrafficSettings(Strict):
    """Blue-green traffic switch of 003 Blue-Green Deployment > Cutover Phase (prod only)."""

    active: Colour = Field(
        description="the colour that receives the ingest traffic: weight 100, the other 0 (seed 003 "
        "Blue-Green Deployment > Cutover Phase: redirect traffic from blue to green)"
    )
    weights: dict[Colour, int] | None = Field(
        None,
        description="optional weighted split of the Route 53 weighted records instead of all-or-nothing: "
        "each 0-100, summing to 100, the active colour above 0",
    )
    domain: str = Field(
        "ingest.pipeline.example.com",
        pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$",
        description="the sources' ingest name: the failover record (PRIMARY here, SECONDARY on the DR "
        "site) over the weighted records at `<environment>.<domain>`; a DR site uses the default",
    )
    zone_name: str = Field(
        "pipeline.example.com",
        pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$",
        description="the existing public Route 53 hosted zone the ingest records are created in "
        "(looked up, not created); a DR site uses the default",
    )
    colour_stacks: dict[Colour, str] = Field(
        default_factory=lambda: {"blue": "prod-blue", "green": "prod-green"},
        description="stack names of the blue and green fleet colours (StackReference to their ingest "
        "load balancers); both colours required",
    )

    @model_validator(mode="after")
    def _weights(self) -> TrafficSettings:
        """colour_stacks names the stacks of both colours, blue and green.
        each of weights is 0-100.
        weights sum to 100.
        weights give the active colour more than 0.
        """
        if set(self.colour_stacks) != {"blue", "green"}:
            raise ValueError("colour_stacks: name the stack of both colours, blue and green")
        if self.weights is not None:
            if any(not 0 <= w <= 100 for w in self.weights.values()):
                raise ValueError("weights: each weight must be from 0 to 100")
            if sum(self.weights.values()) != 100:
                raise ValueError(f"weights: must sum to 100 (got {sum(self.weights.values())})")
            if self.weights.get(self.active, 0) == 0:
                raise ValueError(f"weights: the active colour {self.active} must have a weight above 0")
        return self
