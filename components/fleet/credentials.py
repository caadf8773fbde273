"""Where a module fleet's credentials live, and what they hold (pure: no Pulumi).

Each module reads its credentials at run time from SSM Parameter Store SecureStrings that the
environment stack writes (components/fleet/credentials_store.py): never from its user data. The
module configuration (cloud_init.module_config) names them as `credentials_ref: ssm:<parameter>`, and
the instance role may read exactly these parameters (component.instance_policy).

  /pipeline/<environment>/<module>/postgres   {"username", "password"}: its PostgreSQL login role
  /pipeline/<environment>/<module>/kafka      {"username", "password", "mechanism", "ca_cert"}: its
                                              SCRAM-SHA-512 KafkaUser and the cluster CA its TLS
                                              connection trusts (modules that read Kafka only)
"""

from __future__ import annotations

import json

from components.fleet.profile import profile

SERVICES = ("postgres", "kafka")
KAFKA_MECHANISM = "SCRAM-SHA-512"
KAFKA_PROTOCOL = "SASL_SSL"


def parameter(environment: str, module: str, service: str) -> str:
    """The SSM parameter of a module's credentials for `service` (postgres or kafka)."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; allowed: {', '.join(SERVICES)}")
    profile(module)  # raises on an unknown module
    return f"/pipeline/{environment}/{module}/{service}"


def credentials_ref(environment: str, module: str, service: str) -> str:
    """What <module>.yaml names: `ssm:` and the parameter."""
    return f"ssm:{parameter(environment, module, service)}"


def services(module: str) -> tuple[str, ...]:
    """The services a module holds credentials for: PostgreSQL always (pipeline_db, seed 003 Database
    Backups), Kafka when it reads Kafka (profile.uses_kafka)."""
    return ("postgres", "kafka") if profile(module).uses_kafka else ("postgres",)


def parameter_arn(*, region: str, account: str, name: str) -> str:
    return f"arn:aws:ssm:{region}:{account}:parameter{name}"


def postgres_document(username: str, password: str) -> str:
    return json.dumps({"username": username, "password": password}, sort_keys=True)


def kafka_document(username: str, password: str, ca_cert: str) -> str:
    return json.dumps(
        {"username": username, "password": password, "mechanism": KAFKA_MECHANISM, "ca_cert": ca_cert},
        sort_keys=True,
    )
