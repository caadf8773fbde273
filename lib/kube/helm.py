"""The one way this project installs a pinned chart: a Helm release (atomic, cleaned up on failure)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes.helm.v3 as helm

from lib import versions


def helm_release(
    name: str,
    chart: versions.Chart,
    namespace: str,
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
    release_name: str,
    *,
    skip_crds: bool = False,
) -> helm.Release:
    """`chart` from lib/versions.py; an oci:// repository is addressed by the chart's URL. `skip_crds`
    leaves out the chart's crds/ folder (for CRDs the caller applies itself, so that they upgrade)."""
    oci = chart.repo.startswith("oci://")
    return helm.Release(
        name,
        helm.ReleaseArgs(
            name=release_name,
            chart=f"{chart.repo}/{chart.name}" if oci else chart.name,
            version=chart.version,
            repository_opts=None if oci else helm.RepositoryOptsArgs(repo=chart.repo),
            namespace=namespace,
            create_namespace=False,
            values=values,
            atomic=True,
            cleanup_on_fail=True,
            timeout=900,
            max_history=10,
            skip_crds=skip_crds or None,
        ),
        opts=opts,
    )
