"""Faulty configurations built from the committed stack files by one change each, and how to check that
one ends in one clear error (the settings contract: the stack file, the key path, what is allowed)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import yaml

from planner.runtime import REPO, apply_overrides
from stacks.settings import SettingsError, load_settings

STACKS = ("local", "staging", "prod", "prod-dr", "prod-blue", "prod-green", "prod-traffic")


def committed(stack: str) -> dict[str, Any]:
    """The config mapping of the committed Pulumi.<stack>.yaml."""
    return yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))["config"]


def changed(stack: str, key: str, value: Any) -> dict[str, Any]:
    """The committed stack's config with one key path set (`kafka.brokers`, `aws:region`, ...)."""
    return apply_overrides(copy.deepcopy(committed(stack)), {key: value})


@dataclass(frozen=True)
class Case:
    """One fault: in `stack`, `change` key path set to `value`; the error names `key` and says `says`."""

    name: str
    stack: str
    change: str
    value: Any
    key: str
    says: str
    source: str = field(default="")

    @property
    def file(self) -> str:
        return self.source or f"Pulumi.{self.stack}.yaml"

    def config(self) -> dict[str, Any]:
        return changed(self.stack, self.change, self.value)


def settings_error(case: Case) -> SettingsError:
    """The error load_settings raises for the case (fails the test if it raises none)."""
    try:
        load_settings(case.config(), source=case.file, offline=True)
    except SettingsError as error:
        return error
    raise AssertionError(f"{case.name}: accepted")


def assert_one_clear_line(case: Case, error: SettingsError) -> None:
    line = str(error)
    assert "\n" not in line, line
    assert line.startswith(f"{case.file}: {case.key}: "), line
    assert case.says in line, line
    assert "offline-placeholder-secret" not in line and "<stack>" not in line, line
