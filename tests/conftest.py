"""Test configuration shared by every suite."""

from __future__ import annotations

import functools

import pytest


@pytest.fixture(scope="session")
def plan_of():
    """plan_of(stack, **overrides-as-dict) -> Plan, cached per session: the real program under the mock
    runtime is evaluated once per distinct configuration."""
    from planner.runtime import run_plan

    @functools.cache
    def _plan(stack: str, overrides: tuple[tuple[str, object], ...] = ()):
        return run_plan(stack, dict(overrides))

    def get(stack: str, overrides: dict[str, object] | None = None):
        return _plan(stack, tuple(sorted((overrides or {}).items())))

    return get
