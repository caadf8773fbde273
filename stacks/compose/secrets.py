"""The Alertmanager receiver secrets of an AWS environment (seed 003 Alert Routing), by file name:
from the stack's Pulumi secrets (`secrets.source: config`) or, by default, read at deploy time (and
at preview) from one AWS Secrets Manager secret by name: a JSON object with a key per receiver
secret. The value is a secret Output: it is encrypted in state and never printed."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws.secretsmanager as secretsmanager

from stacks.settings import StackSettings


def receiver_values(secret_string: str, *, names: tuple[str, ...], secret_name: str) -> dict[str, str]:
    """The receiver secrets of the JSON object `secret_string`. Pure. Raises naming the secret and the
    missing keys (never a value)."""
    try:
        doc = json.loads(secret_string)
    except json.JSONDecodeError:
        raise ValueError(f"Secrets Manager secret {secret_name}: not a JSON object") from None
    if not isinstance(doc, dict):
        raise ValueError(f"Secrets Manager secret {secret_name}: not a JSON object")
    missing = [n for n in names if not isinstance(doc.get(n), str) or not doc[n]]
    if missing:
        raise ValueError(f"Secrets Manager secret {secret_name}: missing keys {', '.join(missing)}")
    return {n: doc[n] for n in names}


def receiver_secrets(settings: StackSettings, secret_files: dict[str, str]) -> dict[str, Any]:
    """file name -> secret value (SecretStr from config, or a secret Output from Secrets Manager)."""
    if settings.secrets_source == "config":
        # load_settings guarantees every alerting secret on an AWS environment with source config.
        return {file_name: getattr(settings, field) for file_name, field in secret_files.items()}
    name = settings.alertmanager_secret_name
    version = secretsmanager.get_secret_version_output(secret_id=name)
    names = tuple(sorted(set(secret_files.values())))
    values = pulumi.Output.secret(version.secret_string).apply(
        lambda text: receiver_values(text, names=names, secret_name=name)
    )
    return {
        file_name: pulumi.Output.secret(values.apply(lambda v, f=field: v[f]))
        for file_name, field in secret_files.items()
    }
