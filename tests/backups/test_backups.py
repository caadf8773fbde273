"""Backup, audit and artifact buckets: encryption, privacy, seed 003's retention, object lock,
replication where configured, prefix-scoped writer roles, and the settings contract."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from components.backups.layout import prefix_access_policy
from planner.mocks import PlanMocks
from planner.runtime import REPO, RecordingMonitor
from policies.rules import check_all
from stacks.settings import SettingsError, load_settings
from tests.network.foundation import AWS_STACKS

BUCKET = "aws:s3/bucket:Bucket"
KINDS = ("backups", "audit", "artifacts")


def _config(stack: str) -> dict:
    return yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]


def _of(plan, typ: str, name: str):
    (res,) = [r for r in plan.of_type(typ) if r.name == name]
    return res


def _bucket_name(plan, kind: str) -> str:
    return f"{plan.settings.environment}-backups-{kind}"


def _rules(plan, kind: str) -> dict[str, dict]:
    lifecycle = _of(
        plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", _bucket_name(plan, kind)
    )
    return {r["id"]: r for r in lifecycle.inputs["rules"]}


@pytest.mark.parametrize("stack", AWS_STACKS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_bucket_is_versioned_kms_encrypted_private_and_tls_only(stack, kind, plan_of):
    plan = plan_of(stack)
    name = _bucket_name(plan, kind)
    bucket = _of(plan, BUCKET, name)
    assert _of(plan, "aws:s3/bucketVersioning:BucketVersioning", name).inputs["versioningConfiguration"] == {
        "status": "Enabled"
    }
    (sse,) = _of(
        plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", name
    ).inputs["rules"]
    default = sse["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    arn = f"arn:aws:kms:{plan.settings.region}:123456789012:key/"
    keys = {arn + k.id: k for k in plan.of_type("aws:kms/key:Key")}
    key = keys[default["kmsMasterKeyId"]]  # a customer managed key of this stack
    assert key.inputs["enableKeyRotation"] is True
    pab = _of(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name).inputs
    assert all(
        pab[f] is True
        for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    owner = _of(plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", name).inputs
    assert owner["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    (deny,) = json.loads(_of(plan, "aws:s3/bucketPolicy:BucketPolicy", name).inputs["policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert bucket.id in {r.inputs["bucket"] for r in plan.of_type("aws:s3/bucketPolicy:BucketPolicy")}


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_bucket_policies_of_the_policy_pack_hold(stack, plan_of):
    plan = plan_of(stack)
    assert [v for v in check_all(plan.resources) if v["policy"].startswith("s3-")] == []


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_backup_lifecycle_is_seed_003_retention(stack, plan_of):
    rules = _rules(plan_of(stack), "backups")
    by_prefix = {r["filter"].get("prefix"): r for r in rules.values() if r["filter"].get("prefix")}
    # seed 003 Backup and Recovery > Backup Classifications > State Backups: "Retention: 7 days".
    assert by_prefix["state/"]["expiration"]["days"] == 7
    # > Database Backups: "Retention: 30 days full, 7 days incremental".
    assert by_prefix["database/full/"]["expiration"]["days"] == 30
    assert by_prefix["database/incremental/"]["expiration"]["days"] == 7
    assert all(r["status"] == "Enabled" for r in rules.values())
    # Versions an expiry or a backup tool's retention leaves behind go too (the bucket is versioned),
    # over the whole bucket, and the tools' own prefixes are not expired by age.
    (whole,) = [r for r in rules.values() if not r["filter"]]
    assert whole["noncurrentVersionExpiration"]["noncurrentDays"] >= 1
    assert not set(by_prefix) & {"backup/", "postgres/"}


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_audit_logs_are_locked_in_compliance_mode_for_seven_years(stack, plan_of):
    plan = plan_of(stack)
    name = _bucket_name(plan, "audit")
    # Object lock can only be switched on when the bucket is created.
    assert _of(plan, BUCKET, name).inputs["objectLockEnabled"] is True
    lock = _of(plan, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", name).inputs
    # seed 003 Backup Classifications > Audit Log Backups: "Retention: 7 years per compliance requirements".
    assert lock["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "years": 7}
    (audit,) = [r for r in _rules(plan, "audit").values() if r.get("transitions")]
    assert 7 * 365 <= audit["expiration"]["days"] <= 7 * 366  # never before the lock ends
    # seed 003 Log Aggregation > Log Retention, Audit: hot 30 days, warm 90 days, cold 7 years.
    assert [(t["days"], t["storageClass"]) for t in audit["transitions"]] == [
        (30, "STANDARD_IA"),
        (90, "GLACIER"),
    ]
    # The short-lived backups are not under a 7-year lock: they are another bucket.
    assert "objectLockEnabled" not in _of(plan, BUCKET, _bucket_name(plan, "backups")).inputs


def test_prod_replicates_backups_and_audit_logs_to_its_dr_region(plan_of):
    plan = plan_of("prod")
    region = _config("prod")["pipeline-infra:backups"]["replicate_to_region"]
    # replicas in their region per resource, through the stack's one provider (no explicit provider)
    assert plan.of_type("pulumi:providers:aws") == []
    replicas = [r for r in plan.resources if r.custom and r.name.endswith(("-replica", "-replica-key"))]
    assert len(replicas) >= 10 and {r.inputs.get("region") for r in replicas} == {region}
    configs = plan.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert len(configs) == 2
    buckets = {b.id: b for b in plan.of_type(BUCKET)}
    (role,) = [r for r in plan.of_type("aws:iam/role:Role") if r.name == "prod-backups-replication"]
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    for config in configs:
        source = buckets[config.inputs["bucket"]]
        (rule,) = config.inputs["rules"]
        assert rule["status"] == "Enabled"
        target_name = rule["destination"]["bucket"].removeprefix("arn:aws:s3:::")
        target = buckets[target_name]
        assert target.name == source.name + "-replica"
        assert rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"]
        assert rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"] == "Enabled"
    replica_audit = _of(plan, BUCKET, "prod-backups-audit-replica")
    assert replica_audit.inputs["objectLockEnabled"] is True
    # The DR site restores from the replica in its own region.
    assert plan.outputs["backup_replica_region"] == region
    assert plan.outputs["backup_replica_bucket"] == _of(plan, BUCKET, "prod-backups-backups-replica").id


class _ProviderRecorder(RecordingMonitor):
    """Also records which provider each resource was registered with."""

    def __init__(self, mocks):
        super().__init__(mocks)
        self.providers: dict[str, str] = {}

    def RegisterResource(self, request):  # noqa: N802
        response = super().RegisterResource(request)
        self.providers[request.name + "|" + request.type] = request.provider
        return response


@pulumi.runtime.test
def test_replicas_and_their_key_are_declared_in_the_replica_region():
    from components.backups.component import Backups, BackupsArgs
    from components.backups.settings import BackupSettings

    monitor = _ProviderRecorder(PlanMocks(region="us-east-1"))
    pulumi.runtime.set_mocks(
        monitor.mocks, project="pipeline-infra", stack="prod", preview=False, monitor=monitor
    )
    backups = Backups(
        "prod-backups",
        BackupsArgs(
            settings=BackupSettings(replicate_to_region="us-west-2"),
            environment="prod",
            region="us-east-1",
            account_id="123456789012",
        ),
    )

    def check(_: object) -> None:
        region = {r.name: r.inputs.get("region") for r in monitor.records if r.custom}
        replicas = ("prod-backups-backups-replica", "prod-backups-audit-replica", "prod-backups-replica-key")
        for name in replicas:
            assert region[name] == "us-west-2", name
        assert region["prod-backups-backups"] is None and region["prod-backups-key"] is None
        # no explicit provider: every resource goes through the stack's default provider
        assert not [r for r in monitor.records if r.type == "pulumi:providers:aws"]
        assert not any(monitor.providers.values())

    return pulumi.Output.all(backups.backup_bucket, *[b.bucket.id for b in backups.replicas.values()]).apply(
        check
    )


@pytest.mark.parametrize("stack", ["staging", "prod-dr"])
def test_no_replication_where_none_is_configured(stack, plan_of):
    plan = plan_of(stack)
    assert plan.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig") == []
    assert [b for b in plan.of_type(BUCKET) if b.name.endswith("-replica")] == []


def test_writer_role_reaches_its_prefix_only():
    doc = json.loads(
        prefix_access_policy(
            bucket_arn="arn:aws:s3:::b", prefix="database/full", key_arn="arn:aws:kms:us-east-1:1:key/k"
        )
    )
    object_statements = [
        s for s in doc["Statement"] if any(a.startswith("s3:") and "Object" in a for a in _list(s["Action"]))
    ]
    assert {s["Resource"] for s in object_statements} == {"arn:aws:s3:::b/database/full/*"}
    (listing,) = [s for s in doc["Statement"] if s["Action"] == "s3:ListBucket"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["database/full/", "database/full/*"]}}
    actions = {a for s in doc["Statement"] for a in _list(s["Action"])}
    assert not any(a.endswith("*") and a.startswith("s3:") for a in actions)
    assert "s3:PutBucketPolicy" not in actions and "s3:DeleteBucket" not in actions


@pytest.mark.parametrize("prefix", ["", "/database", "database/", "../state", "Database/full", "a//b"])
def test_bad_prefixes_are_rejected(prefix):
    with pytest.raises(ValueError):
        prefix_access_policy(bucket_arn="arn:aws:s3:::b", prefix=prefix, key_arn="k")


def _list(value):
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize(
    ("backups", "key", "fragment"),
    [
        ({"replicate_to_region": "eu-west-1"}, "backups.replicate_to_region", "another region"),
        ({"replicate_to_region": "moon"}, "backups.replicate_to_region", "must be an AWS region"),
        ({"state_retention_days": 0}, "backups.state_retention_days", "greater than or equal to 1"),
        ({"audit_retention_years": 0}, "backups.audit_retention_years", "greater than or equal to 1"),
        ({"glacier": True}, "backups.glacier", "unknown key"),
    ],
)
def test_bad_backup_settings_are_one_settings_error(backups, key, fragment):
    config = dict(_config("staging"))
    config["pipeline-infra:backups"] = backups
    flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    with pytest.raises(SettingsError) as err:
        load_settings(flat, source="Pulumi.staging.yaml", offline=True)
    assert err.value.key == f"pipeline-infra:{key}"
    assert fragment in err.value.message


def test_bucket_prefixes_fit_s3_for_the_longest_environment_name():
    from components.backups.layout import bucket_prefix

    longest = "e" * 20  # StackSettings.environment: at most 20 characters
    for kind in ("backups", "audit", "artifacts", "backups-replica", "audit-replica"):
        assert len(bucket_prefix(longest, kind)) <= 37  # S3 bucket_prefix limit (63 with the suffix)
