"""Settings of Kafka Connect (`pipeline-infra:connect`): workers, heap, tasks, the built image."""

from __future__ import annotations

from pydantic import Field, model_validator

from lib.settings import Resources, Strict


class ConnectSettings(Strict):
    replicas: int = Field(3, ge=1, le=32)
    # seed 000 Scaling > Vertical: KAFKA_HEAP_OPTS "-Xms2G -Xmx4G".
    heap_min: str = Field("2g", pattern=r"^[0-9]+[mg]$")
    heap_max: str = Field("4g", pattern=r"^[0-9]+[mg]$")
    resources: Resources = Field(default_factory=lambda: Resources(cpu="2", memory="6Gi"))
    topic_prefix: str = Field("cdc.scylla", pattern=r"^[a-z][a-z0-9._-]*$")
    # seed 000 Step 4 expected output: "RUNNING (4/4 tasks)"; High Replication Lag: tasks.max 8.
    source_tasks: int = Field(4, ge=1, le=64)
    sink_tasks: int = Field(4, ge=1, le=64)
    # Where Strimzi's `build` pushes the Connect image with the plugins. Unset on AWS: an ECR repository
    # of the stack, pushed to by the build pod's IAM role (IRSA). Set: any registry, with
    # `push_secret` naming a kubernetes.io/dockerconfigjson Secret in the kafka namespace.
    image_repository: str | None = Field(
        None,
        pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9._-]+)+$",
        description="registry/repository of the built Connect image, without tag",
    )
    push_secret: str | None = Field(None, pattern=r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")

    @model_validator(mode="after")
    def _registry(self) -> ConnectSettings:
        if self.push_secret is not None and self.image_repository is None:
            raise ValueError("push_secret is only used with image_repository")
        # The JVM refuses to start when the initial heap exceeds the maximum.
        if _heap_mib(self.heap_min) > _heap_mib(self.heap_max):
            raise ValueError(f"heap_min {self.heap_min} must not exceed heap_max {self.heap_max}")
        return self


def _heap_mib(size: str) -> int:
    return int(size[:-1]) * (1024 if size.endswith("g") else 1)
