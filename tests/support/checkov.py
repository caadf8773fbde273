"""checkov, which lives in its own virtualenv (.venv-checkov, made by `make engines`: its pins clash
with pulumi's). Like tests/support/engines.py: skipped when absent on a workstation, failing in CI."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterable
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


def run_checkov(folder: Path, skips: Iterable[str]) -> tuple[list[str], int]:
    """checkov's Kubernetes checks over the manifests in `folder`: (failed checks, passed count)."""
    run = subprocess.run(
        [
            checkov(),
            "-d",
            str(folder),
            "--framework",
            "kubernetes",
            "--skip-check",
            ",".join(sorted(skips)),
            "--output",
            "json",
            "--quiet",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(run.stdout or "{}")
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{c['check_id']} {c['resource']}: {c['check_name']}"
        for rep in reports
        for c in rep.get("results", {}).get("failed_checks", [])
    ]
    passed = sum(rep.get("summary", {}).get("passed", 0) for rep in reports)
    return failed, passed
