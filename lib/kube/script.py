"""A script in a ConfigMap and the one-shot Job that runs it (lib/kube/jobs.py builds the Job),
declared together: the Job waits for the ConfigMap and for what the script talks to.

Both names carry the script's digest (lib/kube/jobs.py script_digest): a changed script is a new,
immutable ConfigMap and a new Job, which Pulumi creates (and awaits to completion) before deleting the
old pair; an unchanged script changes nothing, also after a `pulumi refresh` (the Job has no TTL).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes.batch.v1 as batch
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta

from lib.kube.jobs import digest_name, script_digest

# A Job that retries until its database answers may take a while on a fresh cluster.
TIMEOUTS = pulumi.CustomTimeouts(create="60m", update="60m")


def script_and_job(
    name: str,
    *,
    job_name: str,
    configmap: str,
    namespace: str,
    files: dict[str, str],
    job: Callable[[str, str], dict[str, Any]],
    opts: Callable[..., pulumi.ResourceOptions],
    after: Sequence[pulumi.Resource] = (),
) -> tuple[core.ConfigMap, batch.Job]:
    """Resources `name` (the ConfigMap `configmap`-<digest>) and `job_name`. `job(configmap, digest)`
    returns the Job manifest; `opts(*deps)` the child options with those dependencies."""
    digest = script_digest(files)
    configmap_name = digest_name(configmap, digest)
    script = core.ConfigMap(
        name,
        metadata=meta.ObjectMetaArgs(name=configmap_name, namespace=namespace),
        data=files,
        immutable=True,
        opts=opts(),
    )
    manifest = job(configmap_name, digest)
    run = batch.Job(
        job_name,
        metadata=manifest["metadata"],
        spec=manifest["spec"],
        opts=pulumi.ResourceOptions.merge(
            opts(*after, script), pulumi.ResourceOptions(custom_timeouts=TIMEOUTS)
        ),
    )
    return script, run
