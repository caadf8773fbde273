"""The local (Docker) target: one `DockerService` per long-running service, one `DockerJob` per one-shot
step (schemas), and `Connector` (components/local/connector.py) per Kafka Connect connector.

Completion, not creation, is what later steps wait for:
- a `DockerService` with a health check is created with `wait=True`: the docker provider returns
  only once the container is healthy, and fails the step after `wait_timeout` otherwise
  (pulumi-docker Container docs: "wait: If true, then the Docker container is waited for being
  healthy state after creation");
- a `DockerJob` is a pulumi-command `local.Command` running `docker run --rm`: the command provider
  "considers a command to have failed when it finished with a non-zero exit code. This will fail the
  CRUD step of the Command resource" (pulumi-command local.Command docs), and the failed step's output
  is printed by `pulumi up`. A failed create is not recorded, so the next `pulumi up` runs it again.
Containers take their image by id (a pulled image's `image_id`, a built image's `repo_digest`, which
for a local build is its image id), never by tag: a new image replaces the container.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_command.local as local
import pulumi_docker as docker

from components.local.docker import digest, docker_run


@dataclass(frozen=True)
class DockerServiceArgs:
    image: pulumi.Input[str]
    network: pulumi.Input[str]
    envs: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    # container port -> host port; published on 127.0.0.1 only
    ports: dict[int, int] = field(default_factory=dict)
    # container path -> a named volume the component creates
    volumes: tuple[str, ...] = ()
    # container path -> host path, mounted read-only (host metrics)
    host_mounts: dict[str, str] = field(default_factory=dict)
    # container path -> file content (configuration rendered by the program)
    files: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    command: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    healthcheck: tuple[str, ...] = ()
    memory_mb: int | None = None
    # False for an image the program built (it has no registry to pull from)
    pull: bool = True
    pid_host: bool = False
    depends_on: tuple[pulumi.Resource, ...] = ()

    def __post_init__(self) -> None:
        for inner, outer in self.ports.items():
            if not (0 < inner < 65536 and 0 < outer < 65536):
                raise ValueError(f"port mapping {inner}->{outer} is not two TCP ports")
        for path in (*self.volumes, *self.files, *self.host_mounts, *self.host_mounts.values()):
            if not path.startswith("/"):
                raise ValueError(f"container path {path!r} must be absolute")
        if self.memory_mb is not None and self.memory_mb < 64:
            raise ValueError("memory_mb below 64 MiB cannot run a service")


class DockerService(pulumi.ComponentResource):
    """A container on the platform's network: image by id, named volumes, rendered files, loopback ports;
    healthy before anything that depends on it starts."""

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
            # The data survives `pulumi destroy` and a replacement: the volume is protected (what a
            # policy pack sees: pulumi-policy's analyzer is not sent retain_on_delete) and retained on
            # delete; `pulumi destroy --exclude-protected` keeps it, and it goes only when asked (README).
            vol = docker.Volume(
                f"{name}-{suffix}",
                name=f"pipeline-{name}-{suffix}",
                opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
            )
            volumes.append(docker.ContainerVolumeArgs(container_path=path, volume_name=vol.name))
        for path, host in sorted(args.host_mounts.items()):
            volumes.append(docker.ContainerVolumeArgs(container_path=path, host_path=host, read_only=True))
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
            pid_mode="host" if args.pid_host else None,
            restart="unless-stopped",
            must_run=True,
            wait=bool(args.healthcheck),
            wait_timeout=300,
            memory=args.memory_mb,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        self.register_outputs({"container": self.container.name})


@dataclass(frozen=True)
class DockerJobArgs:
    image: pulumi.Input[str]
    network: pulumi.Input[str]
    # what `sh -ec` runs in the container; `script` is its standard input
    shell: str
    script: str
    # variable name -> value (secret values stay secret in the state)
    env: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    # Secret lines sent on standard input before the script (the shell reads them with `read`): a
    # credential reaches the container's process without being in its environment or command line.
    secret_lines: tuple[pulumi.Input[str], ...] = ()
    depends_on: tuple[pulumi.Resource, ...] = ()

    def __post_init__(self) -> None:
        if not self.script.strip():
            raise ValueError("a one-shot step needs a script")


class DockerJob(pulumi.ComponentResource):
    """A one-shot step: `docker run --rm` of a pinned image on the platform's network, awaited; a
    non-zero exit fails `pulumi up` with the step's output. It runs again when its script or image changes."""

    def __init__(self, name: str, args: DockerJobArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-infra:local:DockerJob", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pulled = docker.RemoteImage(f"{name}-image", name=args.image, keep_locally=True, opts=child)
        names = sorted(args.env)
        run = pulumi.Output.all(pulled.image_id, args.network).apply(
            lambda a: docker_run(a[0], args.shell, network=a[1], env_names=names)
        )
        self.run = local.Command(
            name,
            create=run,
            stdin=(
                pulumi.Output.secret(
                    pulumi.Output.all(*args.secret_lines).apply(
                        lambda lines: "".join(f"{line}\n" for line in lines) + args.script
                    )
                )
                if args.secret_lines
                else args.script
            ),
            environment={k: args.env[k] for k in names} or None,
            triggers=[digest(args.script), pulled.image_id],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        self.register_outputs({"stdout": self.run.stdout})
