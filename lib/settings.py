"""The base of every settings model: strict, frozen pydantic models and the shared value types
(networks, Kubernetes resources). Each component's own settings model builds on these."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# The Pulumi project name: every project key of a stack file lives under this namespace.
PROJECT = "pipeline-infra"


MODULES = ("alpha", "beta", "gamma")


class Strict(BaseModel):
    """Base of every settings model: unknown keys are errors (typos must not pass), values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _cidr(value: str) -> str:
    """an IPv4 network in CIDR notation, such as 10.0.0.0/16."""
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"must be an IPv4 network in CIDR notation such as 10.0.0.0/16 ({exc})") from None
    if net.version != 4:
        raise ValueError("must be an IPv4 network in CIDR notation such as 10.0.0.0/16")
    return str(net)


Cidr = Annotated[str, AfterValidator(_cidr)]


QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?$"


class Resources(Strict):
    """Kubernetes resources of one pod or container."""

    cpu: str = Field(
        pattern=QUANTITY, description="CPU as a Kubernetes quantity: cores (2) or millicores (500m)"
    )
    memory: str = Field(
        pattern=r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti)$",
        description='memory with a binary unit (Ki, Mi, Gi, Ti), such as 8Gi ("512m" would be '
        "milli-bytes to Kubernetes)",
    )
