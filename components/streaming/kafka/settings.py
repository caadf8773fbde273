"""Settings of Kafka (`pipeline-infra:kafka`): KRaft controllers and brokers, replication, topics."""

from __future__ import annotations

from pydantic import Field, model_validator

from lib.settings import Resources, Strict


class KafkaSettings(Strict):
    """The Strimzi Kafka cluster `pipeline` (KRaft): a controller and a broker node pool."""

    controllers: int = Field(3, ge=1, le=9, description="KRaft controller nodes (controllers node pool)")
    brokers: int = Field(3, ge=1, le=64, description="broker nodes (brokers node pool)")
    storage_gib: int = Field(500, ge=1, le=65536, description="size in GiB of each broker's volume")
    controller_storage_gib: int = Field(
        20,
        ge=1,
        le=1024,
        description="size in GiB of each controller's volume (KRaft controllers keep only the metadata "
        "log)",
    )
    controller_resources: Resources = Field(
        default_factory=lambda: Resources(cpu="500m", memory="2Gi"),
        description="cpu and memory of each controller",
    )
    resources: Resources = Field(
        default_factory=lambda: Resources(cpu="2", memory="8Gi"), description="cpu and memory of each broker"
    )
    replication_factor: int = Field(
        3,
        ge=1,
        le=5,
        description="replicas of every topic (default.replication.factor, the internal, Connect, DLQ and "
        "mirrored topics); at most brokers",
    )
    min_insync_replicas: int = Field(
        2,
        ge=1,
        le=5,
        description="in-sync replicas a write needs (min.insync.replicas); below replication_factor "
        "(1 with replication_factor 1)",
    )
    topic_partitions: int = Field(
        12,
        ge=1,
        le=1000,
        description="partitions of each CDC topic and the DLQ (num.partitions; also MirrorMaker 2's "
        "source tasks on a DR site)",
    )
    retention_hours: int = Field(
        168,
        ge=1,
        le=87600,
        description="hours the CDC topics keep records (log.retention.hours; default 7 days)",
    )
    dlq_retention_hours: int = Field(
        336,
        ge=1,
        le=87600,
        description="hours the sink's dead letter queue topic dlq-scylla-source keeps records, to be "
        "replayed (seed 000 P1 DLQ Accumulation; default 14 days)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSettings:
        """replication_factor <= brokers.
        min_insync_replicas below replication_factor (1 with replication_factor 1): a broker may be lost.
        """
        if self.replication_factor > self.brokers:
            raise ValueError(f"replication_factor {self.replication_factor} exceeds brokers {self.brokers}")
        if self.min_insync_replicas >= self.replication_factor and self.min_insync_replicas != 1:
            # Equal, every write with acks=all stops when one broker of a partition is down.
            raise ValueError(
                f"min_insync_replicas {self.min_insync_replicas} must be below replication_factor "
                f"{self.replication_factor} (equal, one broker down stops every write)"
            )
        return self
