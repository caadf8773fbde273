"""The S3 cold tier of the logs (seed 003 Log Aggregation > Log Retention): a Firehose stream per
archived class, fed by subscription filters on every log group of that class, into a bucket whose
lifecycle moves a class to Glacier when CloudWatch's copy expires and deletes it at the cold end."""

from __future__ import annotations

import json
import re

import pytest

from components.backups import logs as archive

STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
FILTER = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
GROUP = "aws:cloudwatch/logGroup:LogGroup"
POLICY = "aws:iam/rolePolicy:RolePolicy"
# seed 003 Log Retention: (warm end = Glacier from, cold end = deleted after) in days; audit has its
# own Object Lock bucket, debug no cold tier
SEED_003_COLD = {"application": (30, 365), "security": (180, 2557)}


def test_archived_classes_and_their_lifecycle_are_the_seed_table():
    assert tuple(SEED_003_COLD) == archive.ARCHIVED_CLASSES
    rules = {r["id"]: r for r in archive.archive_lifecycle_rules()}
    for c, (glacier, expire) in SEED_003_COLD.items():
        rule = rules[f"{c}-logs"]
        assert rule["filter"] == {"prefix": f"{c}/"}
        assert rule["transitions"] == [{"days": glacier, "storage_class": "GLACIER"}]
        assert rule["expiration"] == {"days": expire}
    assert rules["housekeeping"]["noncurrent_version_expiration"] == {"noncurrent_days": 7}


@pytest.mark.parametrize("log_class", ["debug", "audit", "made-up"])
def test_a_class_without_an_s3_archive_is_refused(log_class):
    with pytest.raises(ValueError, match="has no S3 archive"):
        archive.object_prefix(log_class)


def _by_name(plan, typ):
    return {r.name: r.inputs for r in plan.of_type(typ)}


def test_each_class_streams_encrypted_into_its_prefix_of_the_archive_bucket(plan_of):
    plan = plan_of("staging")
    streams = _by_name(plan, STREAM)
    assert sorted(streams) == ["staging-log-archive-application", "staging-log-archive-security"]
    (encryption,) = [
        r.inputs
        for r in plan.of_type(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
        if r.name == "staging-log-archive-bucket"
    ]
    key = encryption["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    policies = _by_name(plan, POLICY)
    for c in SEED_003_COLD:
        s = streams[f"staging-log-archive-{c}"]
        assert s["destination"] == "extended_s3"
        assert s["serverSideEncryption"] == {
            "enabled": True,
            "keyType": "CUSTOMER_MANAGED_CMK",
            "keyArn": key,
        }
        dest = s["extendedS3Configuration"]
        # the archive bucket, the one its role may write
        (listing,) = [
            st
            for st in json.loads(policies[f"staging-log-archive-{c}-firehose"]["policy"])["Statement"]
            if st["Sid"] == "Bucket"
        ]
        assert dest["bucketArn"] == listing["Resource"] and "log-archive-bucket" in dest["bucketArn"]
        assert dest["roleArn"].endswith(f"role/staging-log-archive-{c}-firehose")
        assert dest["kmsKeyArn"] == key and dest["compressionFormat"] == "GZIP"
        assert dest["prefix"].startswith(f"{c}/logs/") and dest["errorOutputPrefix"].startswith(
            f"{c}/errors/"
        )
        kinds = [p["type"] for p in dest["processingConfiguration"]["processors"]]
        assert kinds == ["Decompression", "CloudWatchLogProcessing"]


def test_firehose_roles_write_only_their_class_prefix(plan_of):
    policies = _by_name(plan_of("staging"), POLICY)
    for c in SEED_003_COLD:
        doc = json.loads(policies[f"staging-log-archive-{c}-firehose"]["policy"])
        writes = [st for st in doc["Statement"] if "s3:PutObject" in st["Action"]]
        assert len(writes) == 1 and re.fullmatch(
            rf"arn:aws:s3:::staging-log-archive-bucket-\w+/{c}/\*", writes[0]["Resource"]
        )
        assert not any("Delete" in a for st in doc["Statement"] for a in st["Action"])
        (kms,) = [st for st in doc["Statement"] if st["Sid"] == "KeyThroughS3"]
        assert kms["Condition"]["StringEquals"] == {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    sub = json.loads(policies["staging-log-archive-subscription"]["policy"])
    (st,) = sub["Statement"]
    assert st["Action"] == ["firehose:PutRecord", "firehose:PutRecordBatch"]
    assert sorted(_stream_class(arn) for arn in st["Resource"]) == sorted(SEED_003_COLD)
    assert len(st["Resource"]) == len(SEED_003_COLD)


def _stream_class(arn: str) -> str:
    (c,) = [c for c in SEED_003_COLD if c in arn.rsplit("/", 1)[-1]]
    return c


def _subscriptions(plan) -> dict[str, str]:
    """log group name -> the class of the stream it is subscribed to."""
    groups = {r.name: r.inputs["name"] for r in plan.of_type(GROUP)}
    out = {}
    for f in plan.of_type(FILTER):
        name = f.inputs["logGroup"]
        out[groups.get(name, name)] = _stream_class(f.inputs["destinationArn"])
        assert f.inputs["filterPattern"] == ""
    return out


@pytest.mark.parametrize("stack", ["staging", "prod-blue"])
def test_every_log_group_with_a_cold_tier_is_archived_and_debug_is_not(plan_of, stack):
    plan = plan_of(stack)
    subs = _subscriptions(plan)
    groups = [r.inputs["name"] for r in plan.of_type(GROUP)]
    assert groups
    for g in groups:
        kind = g.rsplit("/", 1)[-1]
        if kind == "debug":
            assert g not in subs, g
        elif kind in ("application", "system"):
            assert subs[g] == "application", g
        else:  # the security groups of the environment
            assert kind in ("vpc-flow-logs", "cluster") and subs[g] == "security", g
    if stack == "staging":
        assert any(g.endswith("vpc-flow-logs") for g in subs) and any("/aws/eks/" in g for g in subs)
