"""Test configuration shared by every suite."""

from __future__ import annotations

import functools
import hashlib
import json

import pytest


@functools.cache
def estate_of():
    """The estate of every committed stack, evaluated once per session (planner.estate.evaluate)."""
    from planner.estate import evaluate

    return evaluate()


def pytest_addoption(parser):
    """Options of the host suite (tests/hosts), here because pytest reads options only from the
    conftest at the tests' root."""
    group = parser.getgroup("pipeline hosts (tests/hosts)")
    group.addoption("--stack", default=None,
                    help="stack the hosts were deployed from (its plan says what they must hold)")
    group.addoption("--local-host", action="store_true",
                    help="boot local module hosts (Debian 12 under systemd-nspawn, as root) and check them")


def _digest(plan) -> str:
    return hashlib.sha256(
        json.dumps([r.to_json() for r in plan.resources], sort_keys=True, default=str).encode()
    ).hexdigest()


@pytest.fixture(scope="session")
def plan_of():
    """plan_of(stack, **overrides-as-dict) -> Plan, cached per session: the real program under the mock
    runtime, evaluated in its estate (planner.estate: the stacks it references are evaluated too, and
    its StackReferences answer with their outputs), once per distinct configuration. The plans are
    shared by every test, so a test must never change them: at the end of the session each is checked
    against its digest."""
    from planner.estate import evaluate

    digests: dict[tuple, tuple[object, str]] = {}

    @functools.cache
    def _plan(stack: str, overrides: tuple[tuple[str, object], ...] = ()):
        if overrides:
            plan = evaluate([stack], overrides={stack: dict(overrides)}).plans[stack]
        else:
            plan = estate_of().plans[stack]
        digests[(stack, overrides)] = (plan, _digest(plan))
        return plan

    def get(stack: str, overrides: dict[str, object] | None = None):
        return _plan(stack, tuple(sorted((overrides or {}).items())))

    yield get
    changed = [key for key, (plan, digest) in digests.items() if _digest(plan) != digest]
    assert not changed, f"a test changed the shared plans of {changed}: copy before changing"
