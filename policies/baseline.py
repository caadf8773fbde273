"""The seed figures the rules check against: baseline.json beside this file (written by
`make policy-baseline` from the project's data; the pack reads it without importing the project)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FILE = Path(__file__).resolve().parent / "baseline.json"


@cache
def baseline() -> dict[str, Any]:
    return json.loads(FILE.read_text(encoding="utf-8"))


def environment_of(stack: str, tags_env: Any = None) -> str:
    """The environment a resource belongs to: its Environment tag, else its stack's environment."""
    if isinstance(tags_env, str) and tags_env:
        return tags_env
    return baseline()["stack_environments"].get(stack, stack)


def is_production(environment: str) -> bool:
    env = baseline()["environments"].get(environment)
    return bool(env and env["production"])
