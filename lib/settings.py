"""The base of every settings model: strict, frozen pydantic models and the shared value types
(networks, Kubernetes resources). Each component's own settings model builds on these."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

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


def _region(value: str) -> str:
    """an AWS region of lib/aws/regions.yaml (the AWS SDKs' endpoint data)."""
    from lib.catalog import close_matches, region_partitions

    regions = region_partitions()
    if value not in regions:
        nearest = ", ".join(close_matches(value, sorted(regions))) or "none is close"
        raise ValueError(f"must be an AWS region of lib/aws/regions.yaml; nearest: {nearest}")
    return value


Region = Annotated[str, AfterValidator(_region)]


def repeated(items: list) -> list:
    """The entries of a list that occur more than once, each once, in their first order."""
    seen: set = set()
    out: list = []
    for item in items:
        if item in seen and item not in out:
            out.append(item)
        seen.add(item)
    return out


# The largest memory-optimised EC2 instance (r7i.48xlarge: 192 vCPU, 1536 GiB): a pod above either can
# never be scheduled on a node group of this project.
MAX_POD_CPU = 192
MAX_POD_MEMORY_GIB = 1536


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

    @model_validator(mode="after")
    def _sizes(self) -> Resources:
        """cpu and memory above zero (a pod of zero size is refused or never runs).
        cpu at most 192 cores, memory at most 1536Gi (the largest memory-optimised EC2 instance).
        """
        from lib.quantities import quantity

        cpu, memory = quantity(self.cpu), quantity(self.memory)
        if cpu <= 0 or memory <= 0:
            raise ValueError(f"cpu and memory must be above zero (got cpu {self.cpu}, memory {self.memory})")
        if cpu > MAX_POD_CPU or memory > MAX_POD_MEMORY_GIB * 2**30:
            raise ValueError(
                f"cpu at most {MAX_POD_CPU} cores and memory at most {MAX_POD_MEMORY_GIB}Gi, the largest "
                f"memory-optimised EC2 instance (got cpu {self.cpu}, memory {self.memory}); check the unit"
            )
        return self

