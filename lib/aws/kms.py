"""The project's customer managed keys: rotated yearly, 30 days' grace before a deletion, each with an
explicit key policy naming exactly the services that use it (lib/aws/key_policy.py), protected."""

from __future__ import annotations

import pulumi
import pulumi_aws.kms as kms


def customer_key(
    name: str,
    description: str,
    *,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
    policy: pulumi.Input[str],
    region: str | None = None,
) -> kms.Key:
    """`region`: another region than the stack's, through the default provider (pulumi-aws v7's
    per-resource region), so the key inherits the stack's `aws:` configuration."""
    return kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=policy,
        region=region,
        tags=tags,
        # A key's deletion makes everything it encrypted unreadable: `pulumi destroy` stops at it.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True)),
    )
