"""The DR site's PostgreSQL replica cluster restores from and follows the primary's base backups and
WAL (its source ObjectStore on the primary's bucket): its IRSA role must read them, and only them."""

from __future__ import annotations

import json

import pytest


def _postgres_backup_policy(plan) -> dict:
    [policy] = [
        r for r in plan.of_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("postgres-backup")
    ]
    return json.loads(policy.inputs["policy"])


def _peer_statements(doc: dict) -> list[dict]:
    return [st for st in doc["Statement"] if st.get("Sid", "").startswith("Peer")]


@pytest.mark.parametrize("role", ["standby", "primary"])
def test_dr_replica_reads_the_primary_backups_read_only(plan_of, role):
    plan = plan_of("prod-dr", {"dr.role": role})
    peer = _peer_statements(_postgres_backup_policy(plan))
    # The primary's bucket and key are the prod stack's outputs backup_bucket and kms_key_arn
    # (StackReference; the offline plan answers them as prod-backups-<hash> and a key ARN).
    reads = {a for st in peer for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
    assert reads == {
        "s3:ListBucket",
        "s3:GetBucketLocation",
        "s3:GetObject",
        "kms:Decrypt",
        "kms:DescribeKey",
    }
    objects = [st["Resource"] for st in peer if st["Action"] == "s3:GetObject"]
    assert len(objects) == 1 and objects[0].startswith("arn:aws:s3:::prod-backups-")
    assert objects[0].endswith("/postgres/*")
    [key] = [st["Resource"] for st in peer if "kms:Decrypt" in st["Action"]]
    assert key.startswith("arn:aws:kms:") and ":key/" in key


def test_primary_site_role_has_no_peer_access(plan_of):
    assert _peer_statements(_postgres_backup_policy(plan_of("prod"))) == []
