"""__main__.py, the program `pulumi up` runs: a bad configuration exits 2 with one line, no traceback."""

from __future__ import annotations

import runpy

import pytest
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import settings as runtime_settings

from planner.mocks import PlanMocks
from planner.runtime import REPO, RecordingMonitor


def test_main_exits_2_on_invalid_config(capsys):
    monitor = RecordingMonitor(PlanMocks())
    runtime_settings.ROOT.set(None)
    runtime_mocks.set_mocks(
        monitor.mocks, project="pipeline-infra", stack="prod", preview=False, monitor=monitor
    )
    # As the engine passes it: scalars as strings, a missing required section (network).
    runtime_config.set_all_config(
        {
            "pipeline-infra:role": "environment",
            "pipeline-infra:target": "aws",
            "pipeline-infra:environment": "prod",
            "aws:region": "us-east-1",
        },
        [],
    )
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(REPO / "__main__.py"), run_name="__main__")
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: Pulumi.prod.yaml: pipeline-infra:network: required in a stack of role environment on "
        "target aws"
    ]
    assert monitor.records == []
