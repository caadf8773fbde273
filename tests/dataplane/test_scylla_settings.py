"""Bad data-plane settings end as one SettingsError line naming the key (before anything registers)."""

from __future__ import annotations

import pytest

from planner.runtime import run_plan
from stacks.settings import SettingsError


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("scylla.backup_cron", "0 1 * *", "five fields"),
        ("scylla.repair_cron", "0 25 * * 0", "outside 0-23"),
        # The operators' cron parser (robfig/cron) takes weekdays 0-6 only.
        ("scylla.repair_cron", "0 2 * * 7", "outside 0-6"),
        ("scylla.backup_cron", "CRON_TZ=UTC 0 1 * * *", "without a time zone"),
        ("scylla.resources", {"cpu": "0", "memory": "16Gi"}, "above zero"),
        ("postgres.backup_schedule", "0 1 * * *", "six fields"),
        ("postgres.backup_schedule", "0 0 1 * * 9", "outside 0-6"),
    ],
)
def test_bad_data_plane_settings(key: str, value: object, message: str) -> None:
    with pytest.raises(SettingsError) as err:
        run_plan("prod", {key: value})
    line = str(err.value)
    assert "\n" not in line
    assert line.startswith(f"Pulumi.prod.yaml: pipeline-infra:{key}")
    assert message in line


def test_external_seeds_only_on_a_dr_site() -> None:
    with pytest.raises(SettingsError) as err:
        run_plan("prod", {"scylla.external_seeds": ["10.30.1.5"]})
    assert str(err.value) == (
        "Pulumi.prod.yaml: pipeline-infra:scylla.external_seeds: only used on a DR site (dr.site: dr)"
    )
