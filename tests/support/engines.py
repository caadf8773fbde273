"""The real engines rendered artifacts are checked with. A test that needs one calls `engine(name)`:
on a developer machine without the tool the test skips; in CI (PIPELINE_INFRA_REQUIRE_ENGINES=1,
set by .ci/run) a missing engine fails the test, so CI always proves the checks ran."""

from __future__ import annotations

import glob
import os
import shutil

import pytest

_EXTRA_PATHS = {"initdb": "/usr/lib/postgresql/*/bin/initdb", "pg_ctl": "/usr/lib/postgresql/*/bin/pg_ctl",
                "postgres": "/usr/lib/postgresql/*/bin/postgres"}


def engine(name: str) -> str:
    """Absolute path of an engine binary, or skip (fail in CI) when it is not installed."""
    path = shutil.which(name)
    if path is None and name in _EXTRA_PATHS:
        found = sorted(glob.glob(_EXTRA_PATHS[name]))
        path = found[-1] if found else None
    if path is None:
        message = f"{name} is not installed (make engines installs it)"
        if os.environ.get("PIPELINE_INFRA_REQUIRE_ENGINES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path
