"""PostgreSQL: the CloudNativePG Cluster, ObjectStore, ScheduledBackup and PodMonitor against their
CRDs (strict), the seed figures, CloudNativePG's replica-mode rules and what promotion changes (pure
renderers, no Pulumi runtime)."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from components.dataplane.postgres import manifests
from components.dataplane.postgres.sql import LOGIN_ROLES
from lib import versions
from lib.kube.target import KubeTarget
from tests.dataplane._stacks import stack_settings
from tests.support.crds import validate_custom_resource

TOKEN = "eyJzeXN0ZW1faWRlbnRpZmllciI6IjczOTk"


def _cluster(stack: str = "prod", *, replica: str | None = None, token: str | None = None) -> dict:
    s = stack_settings(stack).postgres
    assert s is not None
    replica_of = None
    if replica is not None:
        replica_of = {
            "source": "warehouse",
            "source_store": "warehouse-dr-source-store",
            "primary": "warehouse-dr" if replica == "promoted" else "warehouse",
            "promotion_token": token,
        }
    return manifests.cluster(
        name="warehouse-dr" if replica else "warehouse",
        namespace="postgres",
        settings=s,
        storage_class="gp3-encrypted",
        tolerations=KubeTarget.placement("postgres")["tolerations"],
        store="warehouse-store",
        role_arn="arn:aws:iam::123456789012:role/pg-backup",
        replica_of=replica_of,
    )


def _is_replica(doc: dict) -> bool:
    """CloudNativePG's Cluster.IsReplica(): enabled wins; else self (default: the name) != primary."""
    r = doc["spec"].get("replica")
    if r is None:
        return False
    if "enabled" in r:
        return bool(r["enabled"])
    return (r.get("self") or doc["metadata"]["name"]) != r.get("primary")


@pytest.mark.parametrize(
    ("stack", "replica", "token"),
    [
        ("staging", None, None),
        ("prod", None, None),
        ("prod-dr", "standby", None),
        ("prod-dr", "promoted", None),
        ("prod-dr", "promoted", TOKEN),
    ],
)
def test_cluster_matches_crd_strictly(stack: str, replica: str | None, token: str | None) -> None:
    validate_custom_resource(_cluster(stack, replica=replica, token=token))


def test_prod_figures() -> None:
    spec = _cluster("prod")["spec"]
    assert spec["instances"] == 3  # issue 4 / DESIGN: 3 instances in prod
    assert spec["storage"]["size"] == "1024Gi"  # seed 003 Storage Capacity: Database total capacity 1 TB
    assert spec["resources"]["limits"] == spec["resources"]["requests"]
    assert spec["imageName"] == versions.POSTGRES_IMAGE
    assert f":{versions.POSTGRES_MAJOR}." in spec["imageName"]
    assert spec["affinity"]["nodeSelector"] == {"pipeline-infra/workload": "postgres"}


def test_staging_is_smaller() -> None:
    spec = _cluster("staging")["spec"]
    assert spec["instances"] < 3 and spec["storage"]["size"] != "1024Gi"


def test_initdb_and_managed_roles() -> None:
    spec = _cluster()["spec"]
    assert spec["bootstrap"] == {
        "initdb": {
            "database": "warehouse",
            "owner": "app",
            "secret": {"name": "warehouse-app"},
            "dataChecksums": True,
        }
    }
    roles = {r["name"]: r for r in spec["managed"]["roles"]}
    assert set(roles) == {
        "cdc_sink",
        "module_alpha",
        "module_beta",
        "module_gamma",
        "pipeline_readonly",
        "cdc_reconciler",
    }
    for name, role in roles.items():
        assert role["login"] and role["ensure"] == "present"
        assert role["passwordSecret"] == {"name": manifests.secret_name("warehouse", name)}
    assert spec["superuserSecret"] == {"name": "warehouse-superuser"}


def test_wal_archiving_through_the_plugin_with_irsa() -> None:
    spec = _cluster()["spec"]
    assert spec["plugins"] == [
        {
            "name": "barman-cloud.cloudnative-pg.io",
            "isWALArchiver": True,
            "parameters": {"barmanObjectName": "warehouse-store"},
        }
    ]
    assert "backup" not in spec  # the in-tree barmanObjectStore is not used
    assert spec["serviceAccountTemplate"]["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/pg-backup"
    }


def test_object_store_retention_and_destination() -> None:
    s = stack_settings("prod").postgres
    assert s is not None
    doc = manifests.object_store(
        name="warehouse-store",
        namespace="postgres",
        destination=manifests.destination_path("prod-backups-1234"),
        region="us-east-1",
        retention_days=s.backup_retention_days,
    )
    validate_custom_resource(doc)
    assert doc["spec"]["retentionPolicy"] == "30d"  # seed 003 Backup Classifications: 30 days full
    assert doc["spec"]["configuration"]["destinationPath"] == "s3://prod-backups-1234/postgres/"
    assert doc["spec"]["configuration"]["s3Credentials"] == {"inheritFromIAMRole": True}


def test_scheduled_backup_daily_at_one() -> None:
    s = stack_settings("prod").postgres
    assert s is not None
    doc = manifests.scheduled_backup(
        name="warehouse-daily",
        namespace="postgres",
        cluster_name="warehouse",
        schedule=s.backup_schedule,
        suspend=False,
    )
    validate_custom_resource(doc)
    # seed 003 Backup Schedules: DB full daily 01:00 (CloudNativePG: six fields, seconds first).
    assert doc["spec"]["schedule"].split() == ["0", "0", "1", "*", "*", "*"]
    assert doc["spec"]["method"] == "plugin"
    assert doc["spec"]["pluginConfiguration"] == {"name": "barman-cloud.cloudnative-pg.io"}


def test_pod_monitor_scrapes_9187() -> None:
    doc = manifests.pod_monitor(name="warehouse", namespace="postgres", cluster_name="warehouse")
    validate_custom_resource(doc)
    assert doc["spec"]["podMetricsEndpoints"][0]["portNumber"] == 9187
    assert doc["spec"]["selector"] == {"matchLabels": {"cnpg.io/cluster": "warehouse"}}


# --- DR: replica cluster and promotion -------------------------------------------------------------
def test_standby_is_a_replica_of_the_primary_object_store() -> None:
    doc = _cluster("prod-dr", replica="standby")
    spec = doc["spec"]
    assert _is_replica(doc)
    # CloudNativePG webhook: replica.enabled and replica.primary are mutually exclusive.
    assert "enabled" not in spec["replica"]
    assert spec["replica"] == {"self": "warehouse-dr", "primary": "warehouse", "source": "warehouse"}
    assert spec["bootstrap"]["recovery"]["source"] == "warehouse"
    (ext,) = spec["externalClusters"]
    assert ext["name"] == "warehouse"
    assert ext["plugin"]["parameters"] == {
        "barmanObjectName": "warehouse-dr-source-store",
        "serverName": "warehouse",
    }


@pytest.mark.parametrize("token", [None, TOKEN])
def test_promotion_changes_only_the_replica_stanza(token: str | None) -> None:
    standby = _cluster("prod-dr", replica="standby")
    promoted = _cluster("prod-dr", replica="promoted", token=token)
    assert not _is_replica(promoted)
    # CloudNativePG webhook: a promotion token only on a cluster that is not a replica.
    if token:
        assert promoted["spec"]["replica"]["promotionToken"] == token
    a, b = copy.deepcopy(standby["spec"]), copy.deepcopy(promoted["spec"])
    a.pop("replica"), b.pop("replica")
    assert a == b  # bootstrap, storage, image, externalClusters, plugins: unchanged
    assert standby["metadata"] == promoted["metadata"]


def test_secret_names_are_per_role() -> None:
    names = {manifests.secret_name("warehouse", r) for r in ("superuser", "app", *LOGIN_ROLES)}
    assert len(names) == 2 + len(LOGIN_ROLES)


def test_bootstrap_job_is_valid_and_reads_credentials_from_the_mounted_secret() -> None:
    job = manifests.bootstrap_job(
        cluster_name="warehouse",
        namespace="postgres",
        configmap="warehouse-bootstrap-sql",
        placement=KubeTarget.placement("platform"),
        digest="0" * 64,
    )
    kubernetes_validate.validate(job, "1.33", strict=True)
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["PGHOST"]["value"] == "warehouse-rw.postgres.svc"
    # No credential in the environment, not even as a reference (checkov CKV_K8S_35): the Secret is a
    # read-only volume the shell reads into psql's own environment.
    assert not any("valueFrom" in e for e in env.values()), env
    assert "PGPASSWORD" not in env and "PGUSER" not in env
    volume = next(v for v in pod["volumes"] if "secret" in v)
    assert volume["secret"] == {"secretName": "warehouse-superuser", "defaultMode": 0o400}
    mount = next(m for m in container["volumeMounts"] if m["name"] == volume["name"])
    assert mount == {"name": volume["name"], "mountPath": manifests.SUPERUSER_DIR, "readOnly": True}
    script = container["command"][-1]
    assert f"$(cat {manifests.SUPERUSER_DIR}/password)" in script
