"""Bad data-plane settings end as one SettingsError line naming the key (before anything registers)."""

from __future__ import annotations

import pytest

from planner.runtime import run_plan
from stacks.settings import SettingsError


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("scylla.backup_cron", "0 1 * *", "five fields"),
        ("scylla.repair_cron", "0 25 * * 0", "not valid"),
        ("scylla.backup_cron", "CRON_TZ=UTC 0 1 * * *", "without a time zone"),
        ("scylla.resources", {"cpu": "0", "memory": "16Gi"}, "above zero"),
        ("postgres.backup_schedule", "0 1 * * *", "six fields"),
        ("postgres.backup_schedule", "0 0 1 * * 9", "not valid"),
    ],
)
def test_bad_data_plane_settings(key: str, value: object, message: str) -> None:
    with pytest.raises(SettingsError) as err:
        run_plan("prod", {key: value})
    line = str(err.value)
    assert "\n" not in line
    assert line.startswith(f"Pulumi.prod.yaml: pipeline-infra:{key}: ")
    assert message in line
