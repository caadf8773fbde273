"""Settings of the real stack files, for the pure renderer tests (no Pulumi runtime)."""

from __future__ import annotations

import functools
from pathlib import Path

from planner.runtime import read_stack_file, to_runtime_config
from stacks.settings import StackSettings, load_settings

REPO = Path(__file__).resolve().parents[2]


@functools.cache
def stack_settings(stack: str) -> StackSettings:
    source = f"Pulumi.{stack}.yaml"
    flat, secret_keys = to_runtime_config(read_stack_file(REPO / source, source))
    return load_settings(flat, source=source, secret_keys=secret_keys, offline=True)


ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
