"""Protection (issue 11 item 10, AWS resources): `protect` on every bucket, KMS key, the EKS cluster
and its node groups, so a rename without an alias or a `pulumi destroy` stops before them;
`retain_on_delete` on the compliance-locked audit buckets and their configuration (objects under a
COMPLIANCE lock cannot be deleted before it ends, so a destroy would otherwise wedge). Read from the
resource options the plan records. Each check shown failing on a violating fixture."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

AWS_ENVIRONMENTS = ("staging", "prod", "prod-dr")
PROTECTED = (
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
)


def unprotected(resources) -> list[str]:
    """Stateful AWS resources without `protect`."""
    return sorted(r.name for r in resources if r.type in PROTECTED and not r.options.get("protect"))


def locked_buckets(resources) -> list[str]:
    """Names of the buckets under an S3 Object Lock."""
    return sorted(
        r.name for r in resources if r.type == "aws:s3/bucket:Bucket" and r.inputs.get("objectLockEnabled")
    )


def not_retained(resources) -> list[str]:
    """Resources of a locked bucket (the bucket and its configuration, by the bucket's name) that a
    delete would remove from AWS."""
    locked = set(locked_buckets(resources))
    return sorted(
        f"{r.type} {r.name}"
        for r in resources
        if r.name in locked and r.type.startswith("aws:s3/") and not r.options.get("retainOnDelete")
    )


@pytest.mark.parametrize("stack", AWS_ENVIRONMENTS)
def test_buckets_keys_cluster_and_node_groups_are_protected(plan_of, stack):
    resources = plan_of(stack).resources
    assert unprotected(resources) == []
    counts = {t: len([r for r in resources if r.type == t]) for t in PROTECTED}
    assert counts["aws:eks/cluster:Cluster"] == 1 and counts["aws:eks/nodeGroup:NodeGroup"] == 4
    assert counts["aws:s3/bucket:Bucket"] >= 3 and counts["aws:kms/key:Key"] >= 4


@pytest.mark.parametrize("stack", AWS_ENVIRONMENTS)
def test_the_compliance_locked_audit_buckets_are_retained_on_delete(plan_of, stack):
    resources = plan_of(stack).resources
    locked = locked_buckets(resources)
    want = [f"{stack}-backups-audit"] + ([f"{stack}-backups-audit-replica"] if stack == "prod" else [])
    assert locked == sorted(want)
    assert not_retained(resources) == []
    # of the AWS resources, only what the lock makes undeletable is retained: the short-lived backups
    # bucket is not (the Strimzi CRDs, kept on delete, are the Kubernetes data plane's)
    retained = {r.name for r in resources if r.options.get("retainOnDelete") and r.type.startswith("aws:")}
    assert retained == set(locked)


def test_the_checks_find_an_unprotected_key_and_an_unretained_lock():
    key = SimpleNamespace(type="aws:kms/key:Key", name="k", inputs={}, options={})
    bucket = SimpleNamespace(
        type="aws:s3/bucket:Bucket", name="a", inputs={"objectLockEnabled": True}, options={}
    )
    lock = SimpleNamespace(
        type="aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        name="a",
        inputs={},
        options={"retainOnDelete": True},
    )
    assert unprotected([key, bucket]) == ["a", "k"]
    assert not_retained([bucket, lock]) == ["aws:s3/bucket:Bucket a"]
