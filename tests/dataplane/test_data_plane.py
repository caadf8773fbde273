"""The data plane in whole-program plans of staging, prod and prod-dr: every custom resource strictly
against its CRD, every core manifest with kubernetes-validate, operators before their resources,
the contract outputs, and what DR promotion changes."""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest

from components.dataplane.scylla.webhook import update_errors, webhook_errors
from lib import versions
from lib.kube.target import NAMESPACES
from planner.runtime import SECRET, Plan, Resource
from stacks.contract import PRIMARY_SITE_OUTPUTS
from tests.support.crds import validate_custom_resource

STACKS = ["staging", "prod", "prod-dr"]
PROMOTE = {"dr.role": "primary"}
OURS = ("operators", "scylla", "postgres")
CORE_KINDS = {
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",  # the daily CDC reconciliation
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:core/v1:Service",  # the fleets' endpoint, the DR pair's replication endpoint
}


def _ours(plan: Plan) -> list[Resource]:
    return [r for r in plan.resources if r.name.split("-")[0] in OURS and r.type.startswith("kubernetes:")]


def _custom(plan: Plan) -> list[Resource]:
    # Custom resources: not core kinds, Helm releases or component resources (the CRDs' ConfigGroup).
    return [
        r
        for r in _ours(plan)
        if r.custom and r.type not in CORE_KINDS and r.type != "kubernetes:helm.sh/v3:Release"
    ]


def _manifest(r: Resource) -> dict[str, Any]:
    return {k: v for k, v in r.inputs.items() if not k.startswith("__")}


def _one(plan: Plan, typ: str) -> Resource:
    (found,) = [r for r in _ours(plan) if r.type == typ]
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_custom_resources_match_their_crds(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    kinds = set()
    for r in _custom(plan):
        validate_custom_resource(_manifest(r))
        kinds.add(r.inputs["kind"])
    assert kinds >= {"ScyllaCluster", "Cluster", "ObjectStore", "ScheduledBackup", "PodMonitor"}


@pytest.mark.parametrize("stack", STACKS)
def test_core_manifests_are_valid_kubernetes(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    checked = 0
    for r in _ours(plan):
        if r.type not in CORE_KINDS:
            continue
        doc = copy.deepcopy(_manifest(r))
        assert doc.get("metadata", {}).get("name"), r.name  # every object names itself
        kubernetes_validate.validate(doc, "1.33", strict=True)
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("stack", STACKS)
def test_scylla_cluster_passes_the_operator_webhook(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    assert webhook_errors(_manifest(_one(plan, "kubernetes:scylla.scylladb.com/v1:ScyllaCluster"))) == []


# The promoted DR site declares every kind of the data plane (both object stores, both Jobs): one
# plan with dependencies recorded covers them all.
def test_every_custom_resource_waits_for_its_operator(plan_of) -> None:
    plan = plan_of("prod-dr", PROMOTE)
    deps = {r.urn: set(r.dependencies) for r in plan.resources}
    releases = {
        r.name.removeprefix("operators-"): r.urn
        for r in plan.resources
        if r.type == "kubernetes:helm.sh/v3:Release" and r.name.startswith("operators-")
    }
    operator_of = {
        "scylla.scylladb.com": ["scylla-operator", "scylla-manager"],
        "postgresql.cnpg.io": ["cloudnative-pg", "barman-cloud"],
        "barmancloud.cnpg.io": ["cloudnative-pg", "barman-cloud"],
    }
    for r in _custom(plan):
        group = r.inputs["apiVersion"].split("/")[0]
        for operator in operator_of.get(group, []):
            assert releases[operator] in deps[r.urn], f"{r.name} does not wait for {operator}"
    # Operators that need cert-manager (webhook and plugin certificates) wait for it.
    for name in ("scylla-operator", "barman-cloud"):
        assert releases["cert-manager"] in deps[releases[name]]
    assert releases["cloudnative-pg"] in deps[releases["barman-cloud"]]


@pytest.mark.parametrize("stack", STACKS)
def test_operators_are_pinned_and_on_platform_nodes(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    charts = {
        r.name.removeprefix("operators-"): r.inputs
        for r in plan.resources
        if r.type == "kubernetes:helm.sh/v3:Release" and r.name.startswith("operators-")
    }
    pinned = {
        "cert-manager": versions.CERT_MANAGER,
        "strimzi": versions.STRIMZI,
        "scylla-operator": versions.SCYLLA_OPERATOR,
        "scylla-manager": versions.SCYLLA_MANAGER,
        "cloudnative-pg": versions.CLOUDNATIVE_PG,
        "barman-cloud": versions.BARMAN_CLOUD_PLUGIN,
    }
    assert set(charts) == set(pinned)
    for key, chart in pinned.items():
        inputs = charts[key]
        assert inputs["version"] == chart.version
        assert inputs["chart"].endswith(chart.name)
        assert inputs["values"]["nodeSelector"] == {"pipeline-infra/workload": "platform"}
    # The barman-cloud plugin lives beside the CloudNativePG operator.
    assert (
        charts["barman-cloud"]["namespace"]
        == charts["cloudnative-pg"]["namespace"]
        == NAMESPACES["operators"]
    )
    assert charts["strimzi"]["values"]["watchNamespaces"] == [NAMESPACES["kafka"]]


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_are_basic_auth_from_pulumi_secrets(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    secrets = [r for r in _ours(plan) if r.type == "kubernetes:core/v1:Secret"]
    basic = [r for r in secrets if r.inputs.get("type") == "kubernetes.io/basic-auth"]
    # superuser, app, cdc_sink, three modules, read-only, the CDC reconciler; on a DR pair the
    # replication role and, on the DR site, the primary's replication role password it streams with
    assert len(basic) == {"prod": 9, "prod-dr": 10}.get(stack, 8)
    for r in basic:
        assert r.inputs["stringData"] == {"username": SECRET, "password": SECRET}
    for r in secrets:
        assert set(r.inputs["stringData"].values()) == {SECRET}, r.name
    for r in _ours(plan):
        if r.type == "kubernetes:core/v1:ConfigMap":
            # the bootstrap SQL says where passwords are managed; the reconciliation's script reads
            # its role's Secret, mounted as files (no value)
            text = str(r.inputs.get("data", "")).lower().replace("passwords are managed", "")
            text = text.replace('"$credentials_dir/password"', "").replace("pgpassword=", "")
            assert "password" not in text, r.name


@pytest.mark.parametrize("stack", ["prod", "prod-dr"])
def test_primary_site_outputs(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    for name in (
        "scylla_external_seeds",
        "postgres_cluster_name",
        "kafka_bootstrap_servers",
        "schema_registry_url",
    ):
        assert name in plan.outputs
    # The DR site replicates its backups nowhere else; its replication listener (which the primary
    # reads during a failback) is exported as kafka_replication_bootstrap.
    # The private zone of the seed names is the primary's (the DR site associates its VPC with it).
    missing = {
        "prod": set(),
        "prod-dr": {"backup_replica_bucket", "backup_replica_kms_key_arn", "scylla_seed_zone_id"},
    }[stack]
    assert set(PRIMARY_SITE_OUTPUTS) - set(plan.outputs) == missing
    assert (
        len(plan.outputs["scylla_external_seeds"]) == plan.settings.network.az_count
    )  # a seed per rack (AZ)


def test_prod_figures(plan_of) -> None:
    plan = plan_of("prod")
    spec = _one(plan, "kubernetes:postgresql.cnpg.io/v1:Cluster").inputs["spec"]
    assert spec["instances"] == 3  # issue 4: 3 instances in prod
    assert spec["storage"]["size"] == "1024Gi"  # seed 003 Storage Capacity: database 1 TB
    backup = _one(plan, "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup").inputs["spec"]
    assert backup["schedule"] == "0 0 1 * * *" and backup["suspend"] is False  # seed 003: DB full daily 01:00
    # and one base backup as soon as the schedule exists, not first at the next 01:00
    assert backup["immediate"] is True
    store = _one(plan, "kubernetes:barmancloud.cnpg.io/v1:ObjectStore").inputs["spec"]
    assert store["retentionPolicy"] == "30d"  # seed 003 Backup Classifications: 30 days full
    scylla = _one(plan, "kubernetes:scylla.scylladb.com/v1:ScyllaCluster").inputs["spec"]
    assert len(scylla["datacenter"]["racks"]) == 3 and scylla["backups"][0]["retention"] == 30
    cql = next(r for r in _ours(plan) if r.name == "scylla-schema").inputs["data"]["schema.cql"]
    assert "'us-east-1': 3}" in cql  # RF 3 in prod, datacenter named after the region


# --- DR site --------------------------------------------------------------------------------------
def test_dr_site_joins_the_primary_scylla_cluster(plan_of) -> None:
    plan = plan_of("prod-dr")
    spec = _one(plan, "kubernetes:scylla.scylladb.com/v1:ScyllaCluster").inputs
    assert spec["metadata"]["name"] == "scylla"  # same cluster name on both sites
    assert spec["spec"]["datacenter"]["name"] == "us-west-2"
    assert spec["spec"]["externalSeeds"]  # the primary's scylla_external_seeds (StackReference)
    assert "backups" not in spec["spec"] and "repairs" not in spec["spec"]
    cql = next(r for r in _ours(plan) if r.name == "scylla-schema").inputs["data"]["schema.cql"]
    assert "'us-east-1': 3, 'us-west-2': 3" in cql


def test_dr_standby_is_a_replica_cluster_without_bootstrap_job(plan_of) -> None:
    plan = plan_of("prod-dr")
    cluster = _one(plan, "kubernetes:postgresql.cnpg.io/v1:Cluster").inputs["spec"]
    assert cluster["replica"]["primary"] != cluster["replica"]["self"]
    # Cloned over the streaming endpoint (pg_basebackup), so it needs no base backup of the primary in
    # the object store yet: it starts right after prod's first `up`.
    (ext,) = cluster["externalClusters"]
    assert list(cluster["bootstrap"]) == ["pg_basebackup"]
    assert cluster["bootstrap"]["pg_basebackup"]["source"] == ext["name"]
    assert ext["connectionParameters"]["user"] == "dr_replicator"
    assert ext["connectionParameters"]["host"]
    assert not [
        r for r in _ours(plan) if r.type == "kubernetes:batch/v1:Job" and r.name.startswith("postgres")
    ]
    standby_backup = _one(plan, "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup").inputs["spec"]
    assert standby_backup["suspend"] is True and standby_backup["immediate"] is False
    stores = {r.name: r.inputs["spec"] for r in _ours(plan) if r.inputs.get("kind") == "ObjectStore"}
    # Own store: 30 days (seed 003); the primary's store is only read here, its retention stays the primary's.
    assert stores["postgres-store"]["retentionPolicy"] == "30d"
    assert "retentionPolicy" not in stores["postgres-source-store"]


@pytest.mark.parametrize(
    "overrides", [PROMOTE, {**PROMOTE, "dr.promotion_token": "eyJ0b2tlbiI6InRlc3QifQ=="}]
)
def test_promotion_replaces_nothing_stateful_and_no_immutable_field(plan_of, overrides: dict) -> None:
    before = plan_of("prod-dr")
    after = plan_of("prod-dr", overrides)
    stateful = {
        "kubernetes:postgresql.cnpg.io/v1:Cluster",
        "kubernetes:scylla.scylladb.com/v1:ScyllaCluster",
        "kubernetes:barmancloud.cnpg.io/v1:ObjectStore",
        "kubernetes:core/v1:Secret",
        "kubernetes:core/v1:Namespace",
        "kubernetes:helm.sh/v3:Release",
    }
    old = {r.urn: r for r in _ours(before) if r.type in stateful}
    new = {r.urn: r for r in _ours(after) if r.type in stateful}
    assert set(old) == set(new)
    pg_old = _one(before, "kubernetes:postgresql.cnpg.io/v1:Cluster").inputs
    pg_new = _one(after, "kubernetes:postgresql.cnpg.io/v1:Cluster").inputs
    a, b = copy.deepcopy(pg_old["spec"]), copy.deepcopy(pg_new["spec"])
    assert b["replica"]["primary"] == b["replica"]["self"]  # promoted: primary of the topology
    if "dr.promotion_token" in overrides:
        assert b["replica"]["promotionToken"] == overrides["dr.promotion_token"]
    a.pop("replica"), b.pop("replica")
    assert a == b and pg_old["metadata"] == pg_new["metadata"]
    sc_old = _one(before, "kubernetes:scylla.scylladb.com/v1:ScyllaCluster").inputs
    sc_new = _one(after, "kubernetes:scylla.scylladb.com/v1:ScyllaCluster").inputs
    assert update_errors(sc_new, sc_old) == []
    assert sc_new["spec"]["backups"] and sc_new["spec"]["repairs"]
    promoted_backup = _one(after, "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup").inputs["spec"]
    # The promoted site backs up from now on, starting with one base backup of its new timeline.
    assert promoted_backup["suspend"] is False and promoted_backup["immediate"] is True
    # The promoted site applies the (idempotent) bootstrap SQL like a primary.
    assert [r for r in _ours(after) if r.type == "kubernetes:batch/v1:Job" and r.name.startswith("postgres")]


def test_dr_site_takes_explicit_seeds(plan_of) -> None:
    # A tuple: plan_of caches by hashable overrides; the config reaches the program as a JSON list.
    plan = plan_of("prod-dr", {"scylla.external_seeds": ("10.10.1.5", "10.10.2.5")})
    spec = _one(plan, "kubernetes:scylla.scylladb.com/v1:ScyllaCluster").inputs["spec"]
    assert spec["externalSeeds"] == ["10.10.1.5", "10.10.2.5"]


def test_operator_images_are_the_versions_the_crds_come_from(plan_of) -> None:
    # ../shared/crds/README.md: CloudNativePG v1.30.0, the operator these CRD schemas come from. The
    # Barman Cloud plugin runs its chart's own release (chart 0.6.0 = v0.12.0, its images, RBAC and
    # ObjectStore CRD; tests/charts validates the ObjectStores against that CRD as well as against the
    # newer v0.14.0 schema in ../shared/crds, whose ObjectStore fields are a superset).
    charts = {
        r.inputs["chart"]: r.inputs.get("values") or {}
        for r in plan_of("prod").of_type("kubernetes:helm.sh/v3:Release")
    }
    assert charts["cloudnative-pg"]["image"]["tag"] == "1.30.0"
    plugin = charts["plugin-barman-cloud"]
    assert plugin["image"]["tag"] == plugin["sidecarImage"]["tag"] == "v0.12.0"


def _seed_records(plan: Plan) -> dict[str, Resource]:
    return {
        str(r.inputs["name"]): r
        for r in plan.resources
        if r.type == "aws:route53/record:Record" and r.name.startswith("scylla-seed-")
    }


def test_dr_pair_seeds_are_names_of_the_private_zone_of_both_vpcs(plan_of) -> None:
    """prod-dr joins prod's datacenter through prod's seed names: records of the private zone prod
    creates with its VPC and prod-dr associates its VPC with, each on an internal NLB that admits the
    peer's network only; and prod-dr publishes its own seeds the same way (docs/data-plane.md)."""
    prod, dr = plan_of("prod"), plan_of("prod-dr")
    (zone,) = [r for r in prod.resources if r.type == "aws:route53/zone:Zone"]
    assert zone.inputs["name"] == "scylla.pipeline.acme-corp.net"
    assert zone.inputs["vpcs"] == [{"vpcId": prod.outputs["vpc_id"]}]
    (association,) = [r for r in dr.resources if r.type == "aws:route53/zoneAssociation:ZoneAssociation"]
    zone_id = prod.outputs["scylla_seed_zone_id"]
    assert association.inputs == {"zoneId": zone_id, "vpcId": dr.outputs["vpc_id"]}
    assert not [r for r in dr.resources if r.type == "aws:route53/zone:Zone"]  # one zone, the primary's
    seeds = _one(dr, "kubernetes:scylla.scylladb.com/v1:ScyllaCluster").inputs["spec"]["externalSeeds"]
    assert seeds == prod.outputs["scylla_external_seeds"]
    for plan, peer in ((prod, dr), (dr, prod)):
        records = _seed_records(plan)
        assert sorted(records) == sorted(plan.outputs["scylla_external_seeds"])
        services = {
            r.inputs["metadata"]["name"]: r
            for r in plan.resources
            if r.type == "kubernetes:core/v1:Service" and r.name.startswith("scylla-seed-")
        }
        assert len(services) == len(records) == plan.settings.network.az_count  # a seed per rack
        for r in records.values():
            assert r.inputs["zoneId"] == zone_id and r.inputs["type"] == "CNAME"
            assert ".elb." in r.inputs["records"][0]  # the seed Service's load balancer
        for svc in services.values():
            assert svc.inputs["spec"]["loadBalancerSourceRanges"] == [peer.settings.network.cidr]
