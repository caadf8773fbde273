"""Settings of the Schema Registry (`pipeline-infra:schema_registry`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lib.settings import Strict


class SchemaRegistrySettings(Strict):
    replicas: int = Field(2, ge=1, le=9)
    compatibility: Literal[
        "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE"
    ] = "BACKWARD"
