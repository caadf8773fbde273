"""Settings of Kafka (`pipeline-infra:kafka`): KRaft controllers and brokers, replication, topics."""

from __future__ import annotations

from pydantic import Field, model_validator

from lib.settings import Resources, Strict


class KafkaSettings(Strict):
    controllers: int = Field(3, ge=1, le=9)
    brokers: int = Field(3, ge=1, le=64)
    storage_gib: int = Field(500, ge=1, le=65536)
    # KRaft controllers keep only the metadata log: a small volume each.
    controller_storage_gib: int = Field(20, ge=1, le=1024)
    controller_resources: Resources = Field(default_factory=lambda: Resources(cpu="500m", memory="2Gi"))
    resources: Resources = Field(default_factory=lambda: Resources(cpu="2", memory="8Gi"))
    replication_factor: int = Field(3, ge=1, le=5)
    min_insync_replicas: int = Field(2, ge=1, le=5)
    topic_partitions: int = Field(12, ge=1, le=1000)
    retention_hours: int = Field(168, ge=1, le=87600)
    dlq_retention_hours: int = Field(336, ge=1, le=87600)

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSettings:
        if self.replication_factor > self.brokers:
            raise ValueError(f"replication_factor {self.replication_factor} exceeds brokers {self.brokers}")
        if self.min_insync_replicas > self.replication_factor:
            raise ValueError("min_insync_replicas must not exceed replication_factor")
        return self
