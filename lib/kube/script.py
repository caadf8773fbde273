"""A script in a ConfigMap and the one-shot Job that runs it (lib/kube/jobs.py builds the Job),
declared together: the Job waits for the ConfigMap and for what the script talks to."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes.batch.v1 as batch
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta

# A Job that retries until its database answers may take a while on a fresh cluster.
TIMEOUTS = pulumi.CustomTimeouts(create="60m", update="60m")


def script_and_job(
    name: str,
    *,
    job_name: str,
    configmap: str,
    namespace: str,
    files: dict[str, str],
    job: Callable[[str], dict[str, Any]],
    opts: Callable[..., pulumi.ResourceOptions],
    after: Sequence[pulumi.Resource] = (),
) -> tuple[core.ConfigMap, batch.Job]:
    """Resources `name` (the ConfigMap `configmap`) and `job_name`. `job(configmap)` returns the Job
    manifest; `opts(*deps)` the child options with those dependencies."""
    script = core.ConfigMap(
        name,
        metadata=meta.ObjectMetaArgs(name=configmap, namespace=namespace),
        data=files,
        opts=opts(),
    )
    manifest = job(configmap)
    run = batch.Job(
        job_name,
        metadata=manifest["metadata"],
        spec=manifest["spec"],
        opts=pulumi.ResourceOptions.merge(
            opts(*after, script), pulumi.ResourceOptions(custom_timeouts=TIMEOUTS)
        ),
    )
    return script, run
