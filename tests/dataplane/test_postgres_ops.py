"""PostgreSQL day-2 settings: seed 000's parameters with the seed's baselines as defaults, and a
point-in-time restore declared as the CloudNativePG bootstrap (seed 003 Point-in-Time Recovery)."""

from __future__ import annotations

import pytest

from planner.runtime import run_plan
from stacks.settings import SettingsError
from tests.support.crds import validate_custom_resource

CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster"
RESTORE = {"source": "warehouse", "target_time": "2026-11-30T10:30:00Z", "archive_as": "warehouse-r1"}


def _cluster(plan) -> dict:
    (c,) = plan.of_type(CLUSTER)
    return {k: v for k, v in c.inputs.items() if not k.startswith("__")}


def test_parameters_default_to_the_seed_baselines(plan_of):
    params = _cluster(plan_of("prod"))["spec"]["postgresql"]["parameters"]
    # seed 000 Increase PostgreSQL Resources: shared_buffers from 4GB, effective_cache_size from
    # 12GB, maintenance_work_mem from 1GB
    assert {k: params[k] for k in ("shared_buffers", "effective_cache_size", "maintenance_work_mem")} == {
        "shared_buffers": "4GB",
        "effective_cache_size": "12GB",
        "maintenance_work_mem": "1GB",
    }
    assert params["max_connections"] == "300"


def test_the_seed_increase_is_a_setting(plan_of):
    # seed 000: shared_buffers 8GB, effective_cache_size 24GB, maintenance_work_mem 2GB (on 32Gi pods)
    plan = plan_of(
        "prod",
        {
            "postgres.resources.cpu": "4",
            "postgres.resources.memory": "32Gi",
            "postgres.parameters.shared_buffers": "8GB",
            "postgres.parameters.effective_cache_size": "24GB",
            "postgres.parameters.maintenance_work_mem": "2GB",
        },
    )
    doc = _cluster(plan)
    validate_custom_resource(doc)
    params = doc["spec"]["postgresql"]["parameters"]
    assert (params["shared_buffers"], params["effective_cache_size"], params["maintenance_work_mem"]) == (
        "8GB",
        "24GB",
        "2GB",
    )


@pytest.mark.parametrize(
    "overrides,key,allowed",
    [
        (
            {"postgres.parameters": {"shared_buffers": "20GB"}},
            "pipeline-infra:postgres",
            "shared_buffers + maintenance_work_mem must stay below the pods' memory (16Gi)",
        ),
        (
            {"postgres.parameters": {"effective_cache_size": "24GB"}},
            "pipeline-infra:postgres",
            "effective_cache_size must not exceed",
        ),
        (
            {"postgres.parameters": {"shared_buffers": "4G"}},
            "pipeline-infra:postgres.parameters.shared_buffers",
            "should match pattern",
        ),
        (
            {"postgres.parameters": {"work_mem": "64MB"}},
            "pipeline-infra:postgres.parameters.work_mem",
            "unknown key",
        ),
        (
            {"postgres.restore": {**RESTORE, "archive_as": "warehouse"}},
            "pipeline-infra:postgres.restore",
            "archive_as must differ from source",
        ),
        (
            {"postgres.restore": {**RESTORE, "target_time": "2026-11-30T10:30:00"}},
            "pipeline-infra:postgres.restore",
            "needs a time zone",
        ),
    ],
)
def test_bad_postgres_settings_are_one_clear_error(overrides, key, allowed):
    with pytest.raises(SettingsError) as info:
        run_plan("prod", overrides)
    line = str(info.value)
    assert "\n" not in line and line.startswith(f"Pulumi.prod.yaml: {key}"), line
    assert allowed in line, line


def test_no_restore_on_a_dr_site():
    with pytest.raises(SettingsError, match="postgres.restore: not on a DR site"):
        run_plan("prod-dr", {"postgres.restore": RESTORE})


def test_point_in_time_restore_is_the_cluster_bootstrap(plan_of):
    plan = plan_of("prod", {f"postgres.restore.{k}": v for k, v in RESTORE.items()})
    doc = _cluster(plan)
    validate_custom_resource(doc)
    spec = doc["spec"]
    recovery = spec["bootstrap"]["recovery"]
    # seed 003 Point-in-Time Recovery: recovery_target_time
    assert recovery["recoveryTarget"] == {"targetTime": "2026-11-30T10:30:00+00:00"}
    assert "initdb" not in spec["bootstrap"]
    (source,) = spec["externalClusters"]
    assert source["name"] == recovery["source"]
    assert source["plugin"]["parameters"] == {
        "barmanObjectName": "warehouse-store",
        "serverName": "warehouse",
    }
    # the restored cluster archives under its new server name; the daily check verifies that one
    (plugin,) = spec["plugins"]
    assert plugin["parameters"] == {"barmanObjectName": "warehouse-store", "serverName": "warehouse-r1"}
    (job,) = [r for r in plan.of_type("kubernetes:batch/v1:CronJob") if r.name == "backup-checks-postgres"]
    env = {
        e["name"]: e["value"]
        for e in job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["SERVER"] == "warehouse-r1"


def test_without_restore_the_cluster_is_created_empty(plan_of):
    spec = _cluster(plan_of("prod"))["spec"]
    assert "initdb" in spec["bootstrap"] and "externalClusters" not in spec
    assert spec["plugins"][0]["parameters"] == {"barmanObjectName": "warehouse-store"}
