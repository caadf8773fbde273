"""ScyllaDB: the ScyllaCluster manifest against its CRD and the operator's webhook rules, the schema
CQL, and the seed figures of backups and repairs (pure renderers, no Pulumi runtime)."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from components.dataplane.scylla import manifests
from components.dataplane.scylla.cql import schema_cql
from components.dataplane.scylla.settings import ScyllaSettings
from components.dataplane.scylla.webhook import cron_error, quantity, update_errors, webhook_errors
from lib import versions
from lib.cdc import CdcTable
from lib.kube.target import KubeTarget
from tests.dataplane._stacks import ZONES, stack_settings
from tests.support.crds import validate_custom_resource


def _cluster(
    stack: str = "prod",
    *,
    manage_tasks: bool = True,
    seeds: list[str] | None = None,
    zones: tuple[str, ...] = ZONES,
) -> dict:
    s = stack_settings(stack)
    assert s.scylla is not None
    return manifests.scylla_cluster(
        name="scylla",
        namespace="scylla",
        settings=s.scylla,
        datacenter="us-east-1",
        zones=zones,
        storage_class="gp3-encrypted",
        tolerations=KubeTarget.placement("scylla")["tolerations"],
        backup_location="s3:prod-backups-1234",
        manage_tasks=manage_tasks,
        external_seeds=seeds,
        agent_config_secret="scylla-agent-config",
    )


@pytest.mark.parametrize("stack", ["staging", "prod", "prod-dr"])
def test_cluster_matches_crd_strictly(stack: str) -> None:
    validate_custom_resource(_cluster(stack, seeds=["10.10.1.5"] if stack == "prod-dr" else None))


def test_crd_check_catches_a_misspelled_field() -> None:
    doc = _cluster()
    doc["spec"]["datacenter"]["racks"][0]["member"] = 3
    with pytest.raises(AssertionError, match="member"):
        validate_custom_resource(doc)


@pytest.mark.parametrize("stack", ["staging", "prod", "prod-dr"])
def test_cluster_passes_the_operator_webhook(stack: str) -> None:
    assert webhook_errors(_cluster(stack)) == []


def test_versions_pinned() -> None:
    spec = _cluster()["spec"]
    assert (
        spec["version"] == versions.SCYLLA_VERSION and spec["agentVersion"] == versions.SCYLLA_AGENT_VERSION
    )
    # The version is the ScyllaDB image tag: a pinned x.y.z release, never a moving tag such as "latest".
    assert all(part.isdigit() for part in spec["version"].split("."))


def test_one_rack_per_zone_with_limits_equal_requests_and_placement() -> None:
    racks = _cluster()["spec"]["datacenter"]["racks"]
    assert [r["name"] for r in racks] == list(ZONES)
    for rack, zone in zip(racks, ZONES, strict=True):
        assert rack["resources"]["limits"] == rack["resources"]["requests"]
        assert rack["agentResources"]["limits"] == rack["agentResources"]["requests"]
        assert rack["storage"]["storageClassName"] == "gp3-encrypted"
        terms = rack["placement"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
            "nodeSelectorTerms"
        ]
        exprs = {e["key"]: e["values"] for e in terms[0]["matchExpressions"]}
        assert exprs == {"pipeline-infra/workload": ["scylla"], "topology.kubernetes.io/zone": [zone]}
        assert rack["placement"]["tolerations"] == KubeTarget.placement("scylla")["tolerations"]


def test_prod_sizes() -> None:
    s = stack_settings("prod").scylla
    assert s is not None
    # issue 4 / DESIGN: RF 3 in prod, one member per rack over 3 AZs.
    assert s.replication_factor == 3
    racks = _cluster("prod")["spec"]["datacenter"]["racks"]
    assert [r["members"] for r in racks] == [1, 1, 1]


def test_backup_and_repair_tasks_follow_seed_003() -> None:
    spec = _cluster()["spec"]
    (backup,) = spec["backups"]
    # seed 003 Backup Schedules: DB full daily at 01:00; Backup Classifications: 30 days full retention
    # (one backup a day: 30 backups kept).
    assert backup["cron"].split() == ["0", "1", "*", "*", "*"]
    assert backup["retention"] == 30
    assert backup["location"] == ["s3:prod-backups-1234"]
    (repair,) = spec["repairs"]
    # seed 003 Standard Maintenance Windows: weekly window Sunday 02:00-06:00.
    assert repair["cron"].split() == ["0", "2", "*", "*", "0"]


def test_standby_site_schedules_no_tasks_and_keeps_seeds() -> None:
    spec = _cluster(manage_tasks=False, seeds=["10.10.1.5", "10.10.2.5"])["spec"]
    assert "backups" not in spec and "repairs" not in spec
    assert spec["externalSeeds"] == ["10.10.1.5", "10.10.2.5"]


# --- the webhook rules themselves -----------------------------------------------------------------
def test_webhook_requires_cpu_and_memory_limits() -> None:
    doc = _cluster()
    del doc["spec"]["datacenter"]["racks"][1]["resources"]["limits"]["memory"]
    doc["spec"]["datacenter"]["racks"][2]["resources"]["limits"]["cpu"] = "0"
    errors = webhook_errors(doc)
    assert len(errors) == 2 and all("resources.limits" in e for e in errors)


def test_webhook_refuses_duplicate_racks_and_tasks() -> None:
    doc = _cluster(zones=("us-east-1a", "us-east-1a"))
    doc["spec"]["repairs"].append(dict(doc["spec"]["repairs"][0]))
    errors = webhook_errors(doc)
    assert any("racks[1].name: duplicate" in e for e in errors)
    assert any("repairs[1].name: duplicate" in e for e in errors)


@pytest.mark.parametrize(
    "expr",
    [
        "0 1 * * *",
        "0 0 1 * * *",
        "@daily",
        "@every 24h",
        "*/15 2-4 * * mon-fri",
        "0 2 * * 0",
        "0 0 1 ? * SUN",
    ],
)
def test_cron_accepted(expr: str) -> None:
    assert cron_error(expr) is None


@pytest.mark.parametrize(
    "expr",
    [
        "0 25 * * *",
        "0 1 * *",
        "CRON_TZ=UTC 0 1 * * *",
        "@fortnightly",
        "61 0 1 * * *",
        "0 1 * 13 *",
        "0 1 * * 8",
        "a b c d e",
    ],
)
def test_cron_refused(expr: str) -> None:
    assert cron_error(expr) is not None


def test_webhook_refuses_bad_task_fields() -> None:
    doc = _cluster()
    doc["spec"]["repairs"][0]["intensity"] = "high"
    doc["spec"]["backups"][0]["interval"] = "1d"
    doc["spec"]["backups"][0]["cron"] = "0 1 * * * TZ"
    errors = webhook_errors(doc)
    assert any("intensity" in e for e in errors)
    assert any("interval: can't be non-zero" in e for e in errors)
    assert any("TZ" in e for e in errors)


def test_update_rules() -> None:
    old = _cluster()
    same = copy.deepcopy(old)
    same["spec"]["backups"] = []  # tasks may change freely (promotion of the DR site adds them)
    assert update_errors(same, old) == []
    renamed = copy.deepcopy(old)
    renamed["spec"]["datacenter"]["name"] = "elsewhere"
    resized = copy.deepcopy(old)
    resized["spec"]["datacenter"]["racks"][0]["storage"]["capacity"] = "1000Gi"
    assert any("datacenter name" in e for e in update_errors(renamed, old))
    assert any("storage" in e for e in update_errors(resized, old))


def test_quantity() -> None:
    assert quantity("16Gi") == 16 * 2**30 and quantity("500m") * 1000 == 500 and quantity("4") == 4
    with pytest.raises(ValueError):
        quantity("four")


# --- schema CQL -------------------------------------------------------------------------------------
# CDC with the postimage: the source connector asks for the full row after each change
# (cdc.include.after full), which ScyllaDB writes only for tables with postimage on.
CDC = "{'enabled': true, 'postimage': true}"


def test_the_source_connector_reads_the_postimage_the_schema_enables() -> None:
    from components.streaming.connect.config import source_connector_config
    source = source_connector_config(stack_settings("prod").streaming(), contact_points="scylla:9042",
                                     schema_registry_url="http://sr:8081")
    assert source["cdc.include.after"] == "full"
    assert "'postimage': true" in schema_cql(stack_settings("prod").scylla, {"us-east-1": 3})


def test_schema_is_idempotent_network_topology_with_cdc() -> None:
    s = stack_settings("prod").scylla
    assert s is not None
    cql = schema_cql(s, {"us-east-1": s.replication_factor})
    assert (
        "CREATE KEYSPACE IF NOT EXISTS app_data WITH replication = "
        "{'class': 'NetworkTopologyStrategy', 'us-east-1': 3}"
    ) in cql
    assert "tablets = {'enabled': false}" in cql  # CDC is not available on tablet keyspaces
    assert "ALTER KEYSPACE" not in cql  # one DC: never narrows a keyspace the DR site widened
    for table in s.tables:
        assert f"CREATE TABLE IF NOT EXISTS app_data.{table.name} (" in cql
        assert f"ALTER TABLE app_data.{table.name} WITH cdc = {CDC};" in cql
    assert cql.count(f"WITH cdc = {CDC}") == 2 * len(s.tables)
    assert "CREATE KEYSPACE app_data" not in cql and "CREATE TABLE app_data" not in cql


def test_schema_of_the_dr_site_spans_both_datacenters() -> None:
    s = ScyllaSettings()
    cql = schema_cql(s, {"us-east-1": 3, "us-west-2": 3})
    assert (
        "ALTER KEYSPACE app_data WITH replication = {'class': 'NetworkTopologyStrategy', "
        "'us-east-1': 3, 'us-west-2': 3};" in cql
    )


def test_schema_tables_from_settings() -> None:
    s = ScyllaSettings(
        keyspace="shop",
        tables=[
            CdcTable(
                name="carts",
                primary_key=["cart_id", "item"],
                columns={"cart_id": "uuid", "item": "text", "qty": "int"},
            )
        ],
    )
    cql = schema_cql(s, {"dc1": 1})
    assert (
        "CREATE TABLE IF NOT EXISTS shop.carts (\n    cart_id uuid,\n    item text,\n    qty int,\n"
        "    PRIMARY KEY ((cart_id, item))\n) WITH cdc = " + CDC + ";" in cql
    )


@pytest.mark.parametrize("dcs", [{}, {"dc 1": 3}, {"dc1": 0}])
def test_schema_refuses_bad_datacenters(dcs: dict) -> None:
    with pytest.raises(ValueError):
        schema_cql(ScyllaSettings(), dcs)


# --- core manifests ---------------------------------------------------------------------------------
def test_schema_job_is_a_valid_job() -> None:
    job = manifests.schema_job(
        cluster="scylla",
        namespace="scylla",
        configmap="scylla-schema",
        placement=KubeTarget.placement("platform"),
        digest="0" * 64,
    )
    kubernetes_validate.validate(job, "1.33", strict=True)
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == versions.IMAGES["scylla"]
    assert container["command"][:3] == ["cqlsh", "scylla-client.scylla.svc", "9042"]
    # cqlsh reads schema.cql (the ConfigMap's key) where the ConfigMap is mounted.
    mount = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volume = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    [(vol, path)] = [(n, p) for n, p in mount.items() if volume[n].get("configMap")]
    assert volume[vol]["configMap"]["name"] == "scylla-schema"
    assert container["command"][-2:] == ["-f", f"{path}/schema.cql"]


# --- seeds across a DR pair -----------------------------------------------------------------------
def test_nodes_broadcast_their_pod_ips() -> None:
    # The other site's nodes reach these pods directly over the peering (EKS VPC CNI: pod IPs are VPC
    # addresses); scylla-operator v1.21.1 docs deploy-multi-datacenter-cluster.md "Networking".
    expose = _cluster("prod-dr", seeds=["seed-us-east-1a.scylla.pipeline.acme-corp.net"])["spec"][
        "exposeOptions"
    ]
    assert expose["broadcastOptions"]["nodes"] == {"type": "PodIP"}
    assert expose["nodeService"] == {"type": "Headless"}


def test_cluster_with_seed_names_matches_crd() -> None:
    seeds = manifests.seed_names(("us-east-1a", "us-east-1b", "us-east-1c"), "scylla.pipeline.acme-corp.net")
    validate_custom_resource(_cluster("prod-dr", manage_tasks=False, seeds=seeds))


def test_seed_names_one_per_rack_in_the_private_zone() -> None:
    zone = manifests.seed_zone_name("pipeline.acme-corp.net")
    assert zone == "scylla.pipeline.acme-corp.net"
    east = manifests.seed_names(("us-east-1a", "us-east-1b"), zone)
    west = manifests.seed_names(("us-west-2a", "us-west-2b"), zone)
    assert east == [
        "seed-us-east-1a.scylla.pipeline.acme-corp.net",
        "seed-us-east-1b.scylla.pipeline.acme-corp.net",
    ]
    assert not set(east) & set(west)  # both datacenters' seeds share the zone
    # names the settings accept as external seeds (scylla.external_seeds on a DR site)
    assert ScyllaSettings(external_seeds=east).external_seeds == east


def test_seed_names_refuse_no_zone_and_overlong_names() -> None:
    with pytest.raises(ValueError, match="at least one zone"):
        manifests.seed_names((), "scylla.pipeline.acme-corp.net")
    with pytest.raises(ValueError, match="DNS limits"):
        manifests.seed_names(("us-east-1a",), "scylla." + "x" * 64 + ".net")


def test_seed_service_selects_the_racks_first_member_for_the_peer_only() -> None:
    doc = manifests.seed_service(
        cluster="scylla",
        datacenter="us-east-1",
        zone="us-east-1b",
        namespace="scylla",
        peer_cidr="10.30.0.0/16",
    )
    kubernetes_validate.validate(copy.deepcopy(doc), "1.33", strict=True)
    spec = doc["spec"]
    # the pod whose in-cluster name seed_addresses gives (the operator's <cluster>-<dc>-<rack>-<ordinal>)
    (in_cluster,) = manifests.seed_addresses("scylla", "us-east-1", ("us-east-1b",), "scylla")
    pod = spec["selector"][manifests.POD_NAME_LABEL]
    assert in_cluster.split(".")[0] == pod == "scylla-us-east-1-us-east-1b-0"
    assert spec["type"] == "LoadBalancer" and spec["loadBalancerSourceRanges"] == ["10.30.0.0/16"]
    assert doc["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal"
    assert [p["port"] for p in spec["ports"]] == [7000, 7001]  # gossip/streaming, and with TLS
    # the client's (peer pod's) address reaches the pod, which only the peer's network may reach
    assert spec["externalTrafficPolicy"] == "Local"
