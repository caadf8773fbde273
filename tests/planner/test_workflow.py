"""The pull-request workflows run the planner's estate-diff offline and post its comment from the base
repository's context (no pull-request code runs with the write token)."""

from __future__ import annotations

import subprocess
import sys

import yaml

from planner.runtime import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def _steps(name):
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    return doc, [s for job in doc["jobs"].values() for s in job["steps"]]


def test_estate_diff_runs_offline_without_secrets():
    doc, steps = _steps("estate-diff.yml")
    assert doc["permissions"] == {"contents": "read"}
    runs = "\n".join(s.get("run", "") for s in steps)
    assert '.venv/bin/python -m planner estate-diff --base "origin/$BASE_REF" > estate-diff.md' in runs
    assert "secrets." not in (WORKFLOWS / "estate-diff.yml").read_text()


def test_comment_is_posted_from_the_artifact_only():
    doc, steps = _steps("estate-comment.yml")
    assert list(doc[True]) == ["workflow_run"]  # YAML reads `on:` as True
    assert not any(s.get("uses", "").startswith("actions/checkout") for s in steps)
    script = next(s for s in steps if s.get("uses", "").startswith("actions/github-script"))["with"]["script"]
    assert "<!-- pipeline-infra:estate-diff -->" in script and "updateComment" in script


def test_the_command_the_workflow_runs_exists():
    proc = subprocess.run([sys.executable, "-m", "planner", "estate-diff", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--base" in proc.stdout
