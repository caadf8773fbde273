"""The local (Docker) target: one `DockerService` component per service of the platform."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker


@dataclass(frozen=True)
class DockerServiceArgs:
    image: pulumi.Input[str]
    network: pulumi.Input[str]
    envs: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    # container port -> host port; published on 127.0.0.1 only
    ports: dict[int, int] = field(default_factory=dict)
    # container path -> named volume (created by the component, kept on `pulumi destroy` of the
    # container only when retained by the user)
    volumes: tuple[str, ...] = ()
    # container path -> file content (configuration rendered by the program)
    files: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    command: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    healthcheck: tuple[str, ...] = ()
    one_shot: bool = False
    memory_mb: int | None = None
    pull: bool = True
    depends_on: tuple[pulumi.Resource, ...] = ()

    def __post_init__(self) -> None:
        for inner, outer in self.ports.items():
            if not (0 < inner < 65536 and 0 < outer < 65536):
                raise ValueError(f"port mapping {inner}->{outer} is not two TCP ports")
        for path in (*self.volumes, *self.files):
            if not path.startswith("/"):
                raise ValueError(f"container path {path!r} must be absolute")
        if self.memory_mb is not None and self.memory_mb < 64:
            raise ValueError("memory_mb below 64 MiB cannot run a service")


class DockerService(pulumi.ComponentResource):
    """A container on the platform's network: pinned image, named volumes, rendered files, loopback ports."""

    def __init__(
        self, name: str, args: DockerServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pipeline-infra:local:DockerService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        image: pulumi.Input[str] = args.image
        if args.pull:
            pulled = docker.RemoteImage(f"{name}-image", name=args.image, keep_locally=True, opts=child)
            image = pulled.image_id
        volumes = []
        for path in args.volumes:
            suffix = path.strip("/").replace("/", "-")
            vol = docker.Volume(f"{name}-{suffix}", name=f"pipeline-{name}-{suffix}", opts=child)
            volumes.append(docker.ContainerVolumeArgs(container_path=path, volume_name=vol.name))
        self.container = docker.Container(
            f"{name}",
            name=f"pipeline-{name}",
            image=image,
            hostname=name,
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=args.network, aliases=[name])],
            envs=pulumi.Output.all(**args.envs).apply(lambda e: [f"{k}={v}" for k, v in sorted(e.items())])
            if args.envs
            else None,
            ports=[
                docker.ContainerPortArgs(internal=i, external=o, ip="127.0.0.1")
                for i, o in sorted(args.ports.items())
            ],
            volumes=volumes,
            uploads=[
                docker.ContainerUploadArgs(file=path, content=content)
                for path, content in sorted(args.files.items())
            ],
            command=list(args.command) or None,
            entrypoints=list(args.entrypoint) or None,
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=["CMD-SHELL", *args.healthcheck],
                interval="10s",
                retries=12,
                start_period="30s",
                timeout="5s",
            )
            if args.healthcheck
            else None,
            restart="no" if args.one_shot else "unless-stopped",
            must_run=not args.one_shot,
            wait=bool(args.healthcheck) and not args.one_shot,
            wait_timeout=300,
            memory=args.memory_mb,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        self.register_outputs({"container": self.container.name})
