"""The plan records the resource options a registration carries (only those set), so that tests can
check protect, retainOnDelete, ignoreChanges, aliases and explicit providers on the plan."""

from __future__ import annotations

from pulumi.runtime.proto import alias_pb2, resource_pb2

from planner.runtime import Resource, _options


def _request(**fields) -> resource_pb2.RegisterResourceRequest:
    return resource_pb2.RegisterResourceRequest(type="aws:s3/bucket:Bucket", name="b", custom=True, **fields)


def test_options_set_are_recorded():
    req = _request(
        protect=True,
        retainOnDelete=True,
        deleteBeforeReplace=True,
        ignoreChanges=["tags", "desiredCapacity"],
        replaceOnChanges=["spec"],
        provider="urn:pulumi:s::p::pulumi:providers:aws::replica::0a1b",
        aliases=[alias_pb2.Alias(urn="urn:pulumi:s::p::aws:s3/bucket:Bucket::old")],
    )
    assert _options(req) == {
        "protect": True,
        "retainOnDelete": True,
        "deleteBeforeReplace": True,
        "ignoreChanges": ["desiredCapacity", "tags"],
        "replaceOnChanges": ["spec"],
        "provider": "urn:pulumi:s::p::pulumi:providers:aws::replica",
        "aliases": ["urn:pulumi:s::p::aws:s3/bucket:Bucket::old"],
    }


def test_unset_options_are_absent_and_sdk_type_aliases_ignored():
    sdk_alias = alias_pb2.Alias(spec=alias_pb2.Alias.Spec(type="aws:s3/bucketV2:BucketV2"))
    named = alias_pb2.Alias(spec=alias_pb2.Alias.Spec(name="prod-old-name"))
    assert _options(_request(protect=False, aliases=[sdk_alias])) == {}
    assert _options(_request(aliases=[sdk_alias, named])) == {"aliases": [{"name": "prod-old-name"}]}


def test_options_appear_in_the_plan_json_only_when_set():
    bare = Resource(urn="u", type="t", name="n", parent=None, custom=True, inputs={})
    assert "options" not in bare.to_json()
    kept = Resource(
        urn="u", type="t", name="n", parent=None, custom=True, inputs={}, options={"protect": True}
    )
    assert kept.to_json()["options"] == {"protect": True}
