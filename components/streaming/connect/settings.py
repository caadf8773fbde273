"""Settings of Kafka Connect (`pipeline-infra:connect`): workers, heap, tasks, the built image."""

from __future__ import annotations

from pydantic import Field, model_validator

from lib.quantities import quantity
from lib.settings import Resources, Strict


class ConnectSettings(Strict):
    """The Kafka Connect cluster `pipeline-connect` and its two connectors (seed 000)."""

    replicas: int = Field(3, ge=1, le=32, description="Kafka Connect worker pods")
    heap_min: str = Field(
        "2g",
        pattern=r"^[0-9]+[mg]$",
        description="initial JVM heap of each worker, -Xms (m or g; seed 000 Scaling > Vertical: "
        'KAFKA_HEAP_OPTS "-Xms2G -Xmx4G")',
    )
    heap_max: str = Field(
        "4g",
        pattern=r"^[0-9]+[mg]$",
        description="maximum JVM heap of each worker, -Xmx, at least heap_min (seed 000 Scaling > "
        'Vertical: "-Xmx4G")',
    )
    resources: Resources = Field(
        default_factory=lambda: Resources(cpu="2", memory="6Gi"),
        description="cpu and memory requests of each worker; the memory is also its limit (leave room "
        "above heap_max)",
    )
    topic_prefix: str = Field(
        "cdc.scylla",
        pattern=r"^[a-z][a-z0-9._-]*$",
        description="the source connector's topic.prefix: CDC topics are `<prefix>.<keyspace>.<table>` "
        "(seed 000: subject cdc.scylla.users-value)",
    )
    source_tasks: int = Field(
        4,
        ge=1,
        le=64,
        description="tasks.max of the scylla-source connector (seed 000 Step 4 expected output: "
        '"RUNNING (4/4 tasks)")',
    )
    sink_tasks: int = Field(
        4,
        ge=1,
        le=64,
        description="tasks.max of the postgres-sink connector (seed 000 Step 4: 4 tasks; High "
        "Replication Lag: raise to 8)",
    )
    image_repository: str | None = Field(
        None,
        pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9._-]+)+$",
        description="registry/repository, without tag, Strimzi's build pushes the Connect image with "
        "the plugins to; unset on AWS: an ECR repository of the stack pushed to through IRSA; "
        "required on an existing cluster (kubernetes.kubeconfig)",
    )
    push_secret: str | None = Field(
        None,
        pattern=r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$",
        description="name of a kubernetes.io/dockerconfigjson Secret in the kafka namespace with "
        "push access to image_repository; only used with image_repository",
    )

    @model_validator(mode="after")
    def _registry(self) -> ConnectSettings:
        """push_secret only with image_repository.
        heap_min <= heap_max (the JVM refuses to start otherwise).
        heap_max at most 75 % of resources.memory (the rest: metaspace, threads, direct buffers).
        """
        if self.push_secret is not None and self.image_repository is None:
            raise ValueError("push_secret is only used with image_repository")
        # The JVM refuses to start when the initial heap exceeds the maximum.
        if _heap_mib(self.heap_min) > _heap_mib(self.heap_max):
            raise ValueError(f"heap_min {self.heap_min} must not exceed heap_max {self.heap_max}")
        memory_mib = int(quantity(self.resources.memory)) // 2**20
        if _heap_mib(self.heap_max) * 4 > memory_mib * 3:
            # The container's memory is its limit: a heap filling it gets the worker OOM-killed.
            raise ValueError(
                f"heap_max {self.heap_max} does not fit resources.memory {self.resources.memory}: at most "
                f"75 % of it ({memory_mib * 3 // 4}m), the rest is the JVM's own memory"
            )
        return self


def _heap_mib(size: str) -> int:
    return int(size[:-1]) * (1024 if size.endswith("g") else 1)
