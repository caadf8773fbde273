"""Each policy rule fails a bad resource and passes a good one."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from policies.rules import RULES, bucket_coverage, check_all


@dataclass
class R:
    type: str
    inputs: dict
    name: str = "r"
    urn: str = "urn:pulumi:s::p::t::r"
    id: str = field(default="")


def names(resources):
    return sorted({v["policy"] for v in check_all(resources)})


LT = "aws:ec2/launchTemplate:LaunchTemplate"
CASES = [
    (
        "imdsv2-required",
        R(LT, {"metadataOptions": {"httpTokens": "optional"}}),
        R(LT, {"metadataOptions": {"httpTokens": "required"}}),
    ),
    (
        "ebs-encrypted",
        R(
            LT,
            {
                "metadataOptions": {"httpTokens": "required"},
                "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}],
            },
        ),
        R(
            LT,
            {
                "metadataOptions": {"httpTokens": "required"},
                "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}],
            },
        ),
    ),
    (
        "no-world-ingress",
        R(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {"cidrIpv4": "0.0.0.0/0", "fromPort": 22, "toPort": 22},
        ),
        R(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {
                "cidrIpv4": "0.0.0.0/0",
                "fromPort": 443,
                "toPort": 443,
                "description": "public ingest listener",
            },
        ),
    ),
    (
        "k8s-secrets-are-secret",
        R("kubernetes:core/v1:Secret", {"stringData": {"password": "hunter2"}}),
        R("kubernetes:core/v1:Secret", {"stringData": "[secret]"}),
    ),
    (
        "fleet-tags",
        R("aws:autoscaling/group:Group", {"tags": [{"key": "Environment"}]}),
        R(
            "aws:autoscaling/group:Group",
            {"tags": [{"key": "Environment"}, {"key": "Module"}, {"key": "Colour"}]},
        ),
    ),
    (
        "s3-public-access-blocked",
        R("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", {"blockPublicAcls": True}),
        R(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            {
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
    ),
]


@pytest.mark.parametrize("rule,bad,good", CASES, ids=[c[0] for c in CASES])
def test_rule_flags_bad_and_passes_good(rule, bad, good):
    assert rule in names([bad])
    assert rule not in names([good])


def test_every_rule_has_a_case():
    assert {r.name for r in RULES} == {c[0] for c in CASES}


def test_configmap_with_credential_key_is_flagged():
    assert "k8s-secrets-are-secret" in names(
        [R("kubernetes:core/v1:ConfigMap", {"data": {"db_password": "x"}})]
    )


def test_bucket_without_encryption_or_public_access_block():
    bucket = R("aws:s3/bucketV2:BucketV2", {}, id="b1")
    found = {v["policy"] for v in bucket_coverage([bucket])}
    assert found == {"s3-encryption", "s3-public-access-block"}
    sse = R(
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
        {"bucket": "b1"},
    )
    pab = R("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", {"bucket": "b1"})
    assert bucket_coverage([bucket, sse, pab]) == []
