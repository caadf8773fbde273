"""Settings of the Schema Registry (`pipeline-infra:schema_registry`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lib.settings import Strict


class SchemaRegistrySettings(Strict):
    """The Confluent Schema Registry the connectors' Avro converters use."""

    replicas: int = Field(
        2,
        ge=1,
        le=9,
        description="Schema Registry pods; 2 or more also get a PodDisruptionBudget of minAvailable 1",
    )
    compatibility: Literal[
        "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE"
    ] = Field(
        "BACKWARD",
        description="default compatibility level of every subject (the registry's own default; seed "
        "000 Schema Compatibility Failure switches a subject to FORWARD)",
    )
