"""checkov lives in its own virtualenv (.venv-checkov, made by `make engines`): its pins clash with
pulumi's. Like tests/support/engines.py: skip when absent on a developer machine, fail in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def checkov() -> str:
    path = REPO / ".venv-checkov" / "bin" / "checkov"
    if not path.is_file():
        message = "checkov is not installed (make engines creates .venv-checkov)"
        if os.environ.get("PIPELINE_INFRA_REQUIRE_ENGINES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return str(path)
