"""Custom resources from the pure manifest builders' dicts."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource


def stateful(opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """`opts` of an object that owns data volumes (ScyllaCluster, CNPG Cluster, Kafka, KafkaNodePool):
    protected, so that neither a rename, a replacement nor `pulumi destroy` deletes it (and the
    operator its PVCs) without first clearing the protection on purpose (`pulumi state unprotect`)."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True))


def custom_resource(
    name: str,
    manifest: pulumi.Input[dict[str, Any]] | dict[str, Any],
    opts: pulumi.ResourceOptions,
    *,
    api_version: str | None = None,
    kind: str | None = None,
) -> CustomResource:
    """A CustomResource from a manifest dict, or from an Output of one (then `api_version` and `kind`
    name its type: the resource type must be known before the Output resolves)."""
    if isinstance(manifest, dict):
        return CustomResource(
            name,
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=opts,
        )
    if api_version is None or kind is None:
        raise ValueError("a manifest given as an Output needs its api_version and kind")
    out = pulumi.Output.from_input(manifest)
    return CustomResource(
        name,
        api_version=api_version,
        kind=kind,
        metadata=out.apply(lambda d: d["metadata"]),
        spec=out.apply(lambda d: d["spec"]),
        opts=opts,
    )
