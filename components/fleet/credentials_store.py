"""FleetCredentials: the SSM SecureString parameters the module fleets read their credentials from
(components/fleet/credentials.py names them). The environment stack writes them from the secrets it
holds (the PostgreSQL login roles' and the Kafka users' generated passwords): the values are Pulumi
secrets, encrypted in the state and by SSM (the account's aws/ssm key), never in user data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws.ssm as ssm

from components.fleet import credentials as c


@dataclass(frozen=True)
class ModuleSecret:
    username: str
    password: pulumi.Input[str]


@dataclass(frozen=True)
class FleetCredentialsArgs:
    environment: str
    # module -> its PostgreSQL login role; module -> its Kafka user (modules that read Kafka)
    postgres: Mapping[str, ModuleSecret]
    kafka: Mapping[str, ModuleSecret] = field(default_factory=dict)
    kafka_ca_cert: pulumi.Input[str] = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [m for m in self.postgres if "kafka" in c.services(m) and m not in self.kafka]
        if missing:
            raise ValueError(f"modules {missing} read Kafka but no Kafka user is given for them")
        extra = [m for m in self.kafka if "kafka" not in c.services(m)]
        if extra:
            raise ValueError(f"modules {extra} do not read Kafka (profile.uses_kafka)")


class FleetCredentials(pulumi.ComponentResource):
    def __init__(self, name: str, args: FleetCredentialsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pipeline-infra:fleet:FleetCredentials", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, "Environment": args.environment}
        self.parameters: dict[tuple[str, str], ssm.Parameter] = {}

        def put(module: str, service: str, value: pulumi.Output[str]) -> None:
            self.parameters[(module, service)] = ssm.Parameter(
                f"{name}-{module}-{service}",
                name=c.parameter(args.environment, module, service),
                type="SecureString",
                value=pulumi.Output.secret(value),
                description=f"pipeline {args.environment} {module}: {service} credentials",
                tags={**tags, "Module": module},
                opts=child,
            )

        for module, secret in sorted(args.postgres.items()):
            put(
                module,
                "postgres",
                pulumi.Output.from_input(secret.password).apply(
                    lambda pw, u=secret.username: c.postgres_document(u, pw)
                ),
            )
        for module, secret in sorted(args.kafka.items()):
            put(
                module,
                "kafka",
                pulumi.Output.all(secret.password, args.kafka_ca_cert).apply(
                    lambda v, u=secret.username: c.kafka_document(u, v[0], v[1])
                ),
            )
        self.register_outputs({"parameters": [p.name for p in self.parameters.values()]})
