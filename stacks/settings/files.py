"""Reading a stack file (`Pulumi.<stack>.yaml`) into its config mapping, and the checks that need the
file itself rather than the values: where `secure:` values stand and the secrets provider's key.

Every failure is a SettingsError naming the file as the user gave it. Pure: no Pulumi.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from . import OFFLINE_SECRET, PROJECT, SettingsError, StackSettings, load_settings, secret_allowed

TOP_LEVEL = ("config", "encryptionsalt", "secretsprovider", "encryptedkey", "environment")
# Secrets providers of a stack file (Pulumi's stack settings file reference): the cloud KMS ones keep
# the stack's data key encrypted in `encryptedkey`; the passphrase provider keeps its salt in
# `encryptionsalt`; `default` (the Pulumi Cloud service) needs neither.
CLOUD_SECRETS_PROVIDERS = ("awskms://", "azurekeyvault://", "gcpkms://", "hashivault://")


def read_stack_file(path: Path, source: str) -> dict[str, Any]:
    """The `config:` mapping of a stack file."""
    if not path.is_file():
        raise SettingsError(source, "-", "stack file not found")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise SettingsError(source, "-", f"not valid YAML{where}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict) or not isinstance(doc.get("config", {}), dict):
        raise SettingsError(source, "config", "a stack file is a mapping with a `config:` mapping")
    unknown = sorted(set(doc) - set(TOP_LEVEL))
    if unknown:
        raise SettingsError(source, unknown[0], "unknown top-level key; allowed: " + ", ".join(TOP_LEVEL))
    check_secrets_provider(doc, source)
    return dict(doc.get("config") or {})


def check_secrets_provider(doc: dict[str, Any], source: str) -> None:
    """A cloud secrets provider has its `encryptedkey`, the passphrase provider its `encryptionsalt`,
    and neither key stands without its provider."""
    provider = doc.get("secretsprovider")
    key, salt = doc.get("encryptedkey"), doc.get("encryptionsalt")
    cloud = isinstance(provider, str) and provider.startswith(CLOUD_SECRETS_PROVIDERS)
    if provider is not None and not (cloud or provider in ("default", "passphrase")):
        raise SettingsError(
            source,
            "secretsprovider",
            "must be default, passphrase or a KMS URL (awskms://, azurekeyvault://, gcpkms://, "
            f"hashivault://) (got {provider!r})",
        )
    if cloud and not key:
        raise SettingsError(
            source,
            "encryptedkey",
            f"required with secretsprovider {provider}: the stack's data key encrypted by it "
            "(pulumi stack change-secrets-provider writes it)",
        )
    if key and not cloud:
        raise SettingsError(source, "encryptedkey", "only used with a KMS secretsprovider (awskms://, ...)")
    if provider == "passphrase" and not salt:
        raise SettingsError(
            source, "encryptionsalt", "required with secretsprovider passphrase (pulumi stack init writes it)"
        )
    if salt and cloud:
        raise SettingsError(
            source, "encryptionsalt", f"only used with the passphrase provider, not {provider}"
        )


def _secure_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return [path]
        return [p for k, v in value.items() for p in _secure_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _secure_paths(v, (*path, i))]
    return []


def check_secure_values(config: dict[str, Any], source: str) -> None:
    """Every `secure:` value stands where a secret is allowed (otherwise the plan would read the
    offline stand-in, and the real program a secret, as plain configuration)."""
    for full_key in sorted(config, key=str):
        for path in _secure_paths(config[full_key]):
            if not secret_allowed(str(full_key), path):
                shown = str(full_key) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
                raise SettingsError(
                    source,
                    shown,
                    "a secure: value where a secret is not allowed: this key is plain configuration "
                    f"(the secrets are {PROJECT}:pagerduty_critical_key and the others marked secret in "
                    "docs/settings.md)",
                )


def _strip_secure(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return OFFLINE_SECRET, True
        found = False
        out = {}
        for k, v in value.items():
            out[k], s = _strip_secure(v)
            found |= s
        return out, found
    if isinstance(value, list):
        items = [_strip_secure(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def to_runtime_config(config: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The flat string map the engine hands a program: structured values as JSON text; `secure:`
    values (which only the stack's secrets provider can decrypt) as offline placeholders."""
    flat: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        value, secret = _strip_secure(value)
        if secret:
            secret_keys.append(key)
        flat[key] = value if isinstance(value, str) else json.dumps(value)
    return flat, secret_keys


def settings_of_file(path: Path, source: str) -> StackSettings:
    """A stack file's validated settings, as the offline plan reads it (secrets stood in for)."""
    config = read_stack_file(path, source)
    check_secure_values(config, source)
    flat, secret_keys = to_runtime_config(config)
    return load_settings(flat, source=source, secret_keys=secret_keys, offline=True)
