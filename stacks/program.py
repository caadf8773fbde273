"""The Pulumi program: load and validate the stack's settings, then compose its role.

`__main__.py` calls `main()`; the offline plan calls the same `main()` under the mock runtime.
"""

from __future__ import annotations

import pulumi
from pulumi.runtime import config as runtime_config

from stacks.settings import SettingsError, StackSettings, load_settings

__all__ = ["main", "build", "SettingsError"]


def runtime_configuration() -> tuple[dict[str, object], set[str]]:
    """The stack's config as the engine (or the mock runtime) handed it to the program."""
    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = set(runtime_config.get_config_secret_keys_env()) | set(runtime_config._SECRET_KEYS.get())
    return values, secret_keys


def main(*, source: str | None = None, offline: bool = False) -> StackSettings:
    """Validate the configuration, alone and against the project's other stacks (raising SettingsError
    before anything is registered), then build."""
    from stacks.settings.estate import check_stack_in_estate

    values, secret_keys = runtime_configuration()
    source = source or f"Pulumi.{pulumi.get_stack()}.yaml"
    settings = load_settings(values, source=source, secret_keys=secret_keys, offline=offline)
    check_stack_in_estate(pulumi.get_stack(), settings, source)
    build(settings)
    return settings


def build(settings: StackSettings) -> None:
    """Compose the stack's role. Imports are per role so that a stack loads only its providers."""
    if settings.target == "docker":
        from stacks.compose.local import build_local

        outputs = build_local(settings)
    elif settings.role == "traffic":
        from stacks.compose.traffic import build_traffic_switch

        outputs = build_traffic_switch(settings)
    elif settings.role == "fleet-colour":
        from stacks.compose.fleet_colour import build_fleet_colour

        outputs = build_fleet_colour(settings)
    else:
        from stacks.compose.aws_environment import build_aws_environment

        outputs = build_aws_environment(settings)
    for key, value in sorted(outputs.items()):
        pulumi.export(key, value)
