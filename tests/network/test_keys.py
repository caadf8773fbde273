"""Keys (issue 11 item 4): fleet and node volumes are encrypted with a dedicated EBS key per
environment whose policy lets the Auto Scaling service-linked role use it (never the backups key);
every key's policy grants exactly the services that use it, and no IAM principal directly. Each
check shown failing on a violating fixture."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from lib.aws.key_policy import AUTOSCALING_ROLE, ebs_key_policy, key_services, s3_key_policy
from planner.keys import findings
from planner.mocks import ACCOUNT

AWS_ENVIRONMENTS = ("staging", "prod", "prod-dr")
LT = "aws:ec2/launchTemplate:LaunchTemplate"


def _key(plan, suffix):
    (key,) = [k for k in plan.of_type("aws:kms/key:Key") if k.name.endswith(suffix)]
    return key


@pytest.mark.parametrize("stack", AWS_ENVIRONMENTS)
def test_every_key_policy_grants_exactly_the_services_that_use_it(plan_of, stack):
    assert findings(plan_of(stack).resources) == []


@pytest.mark.parametrize("stack", AWS_ENVIRONMENTS)
def test_the_ebs_key_lets_auto_scaling_use_and_grant_it(plan_of, stack):
    doc = json.loads(_key(plan_of(stack), "-network-ebs").inputs["policy"])
    slr = f"arn:aws:iam::{ACCOUNT}:role/{AUTOSCALING_ROLE}"
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    use = by_sid["AutoScalingUsesKey"]
    assert use["Principal"] == {"AWS": slr}
    assert set(use["Action"]) == {
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:DescribeKey",
    }
    grant = by_sid["AutoScalingGrantsToAwsResources"]
    assert grant["Principal"] == {"AWS": slr} and grant["Action"] == "kms:CreateGrant"
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": True}}


@pytest.mark.parametrize("stack", ("staging", "prod-dr"))
def test_fleet_and_node_volumes_use_the_ebs_key_not_the_backups_key(plan_of, stack):
    plan = plan_of(stack)
    ebs, backups = _key(plan, "-network-ebs"), _key(plan, "-backups-key")
    templates = plan.of_type(LT)
    assert len(templates) >= 7  # three fleets and four node groups
    for lt in templates:
        for mapping in lt.inputs["blockDeviceMappings"]:
            assert mapping["ebs"]["kmsKeyId"].endswith(f"key/{ebs.id}"), lt.name
            assert backups.id not in mapping["ebs"]["kmsKeyId"]


@pytest.mark.parametrize("stack", ("prod-blue", "prod-green"))
def test_colour_stacks_use_the_environments_ebs_key(plan_of, stack):
    plan, prod = plan_of(stack), plan_of("prod")
    templates = plan.of_type(LT)
    assert templates
    assert prod.outputs["ebs_kms_key_arn"] != prod.outputs["kms_key_arn"]
    for lt in templates:
        for mapping in lt.inputs["blockDeviceMappings"]:
            # prod's real ebs_kms_key_arn output (the estate), not its kms_key_arn (the backups key)
            assert mapping["ebs"]["kmsKeyId"] == prod.outputs["ebs_kms_key_arn"], lt.name


def test_a_key_without_a_policy_or_with_the_wrong_services_is_a_finding():
    key = SimpleNamespace(
        type="aws:kms/key:Key",
        name="k",
        id="abc",
        inputs={"policy": s3_key_policy(account_id=ACCOUNT, region="us-east-1")},
    )
    template = SimpleNamespace(
        type=LT, name="lt", id="", inputs={"blockDeviceMappings": [{"ebs": {"kmsKeyId": "arn:x:key/abc"}}]}
    )
    assert findings([key, template]) == ["k: policy grants ['s3'], used by ['autoscaling', 'ec2']"]
    bare = SimpleNamespace(type="aws:kms/key:Key", name="k", id="abc", inputs={})
    assert findings([bare])[0].startswith("k: no key policy")


def test_key_services_reads_principals_and_via_services():
    assert key_services(ebs_key_policy(account_id=ACCOUNT, region="eu-west-1")) == {"ec2", "autoscaling"}
    open_policy = json.dumps(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ]
        }
    )
    assert key_services(open_policy) == {"account"}



def test_a_firehose_stream_on_a_key_granting_only_s3_is_a_finding():
    # the log archive's delivery streams encrypt with the backups key: without the Firehose statement
    # the stream cannot use it, and the check says so; with it the key grants exactly its users
    stream = SimpleNamespace(
        type="aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
        name="s",
        id="",
        inputs={"serverSideEncryption": {"keyArn": "arn:aws:kms:us-east-1:1:key/abc", "enabled": True}},
    )
    sse = SimpleNamespace(
        type="aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        name="b",
        id="",
        inputs={"rules": [{"applyServerSideEncryptionByDefault": {"kmsMasterKeyId": "arn:x:key/abc"}}]},
    )

    def key(firehose: bool) -> SimpleNamespace:
        policy = s3_key_policy(account_id=ACCOUNT, region="us-east-1", firehose=firehose)
        return SimpleNamespace(type="aws:kms/key:Key", name="k", id="abc", inputs={"policy": policy})

    assert findings([key(False), stream, sse]) == ["k: policy grants ['s3'], used by ['firehose', 's3']"]
    assert findings([key(True), stream, sse]) == []
