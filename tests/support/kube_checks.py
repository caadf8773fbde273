"""Pure checks over a plan's resources (planner.runtime.Resource lists) for the Kubernetes side of the
deployability issue: each returns the problems it finds, one sentence each, so that it can feed a
whole-platform check later. No Pulumi, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lib.kube.jobs import NAME_DIGEST_CHARS, SCRIPT_DIGEST_ANNOTATION, script_digest

JOB = "kubernetes:batch/v1:Job"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
IRSA = "eks.amazonaws.com/role-arn"


def _get(doc: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def one_shot_job_problems(resources: Iterable[Any]) -> list[str]:
    """Every Job runs a script from a ConfigMap of the plan, once per version of that script: its name
    ends in the script's digest, its pod template carries the full digest, it has no TTL (a Job the
    cluster deletes is re-created by the next refresh), and the ConfigMap is immutable."""
    resources = list(resources)
    configmaps = {
        (_get(r.inputs, "metadata", "namespace"), _get(r.inputs, "metadata", "name")): r
        for r in resources
        if r.type == CONFIGMAP
    }
    problems = []
    for job in (r for r in resources if r.type == JOB):
        spec = job.inputs.get("spec") or {}
        ns = _get(job.inputs, "metadata", "namespace")
        name = _get(job.inputs, "metadata", "name")
        if "ttlSecondsAfterFinished" in spec:
            problems.append(f"{job.name}: ttlSecondsAfterFinished makes a refresh re-create (re-run) it")
        volumes = _get(spec, "template", "spec", "volumes") or []
        sources = [v["configMap"]["name"] for v in volumes if isinstance(v.get("configMap"), dict)]
        if len(sources) != 1:
            problems.append(f"{job.name}: runs no script from exactly one ConfigMap ({sources})")
            continue
        cm = configmaps.get((ns, sources[0]))
        if cm is None:
            problems.append(f"{job.name}: its ConfigMap {ns}/{sources[0]} is not declared")
            continue
        digest = script_digest(cm.inputs.get("data") or {})
        if not (isinstance(name, str) and name.endswith("-" + digest[:NAME_DIGEST_CHARS])):
            problems.append(f"{job.name}: name {name!r} does not carry its script's digest")
        annotation = _get(spec, "template", "metadata", "annotations", SCRIPT_DIGEST_ANNOTATION)
        if annotation != digest:
            problems.append(f"{job.name}: pod template's {SCRIPT_DIGEST_ANNOTATION} is not the digest")
        if cm.inputs.get("immutable") is not True:
            problems.append(f"{cm.name}: the script's ConfigMap is not immutable")
    return problems


def identity_before_pods(resources: Iterable[Any], workload_urn: str, service_account: str) -> list[str]:
    """The ServiceAccount `namespace/name` a workload's pods run as is declared with its IRSA role and
    the workload waits for it (IRSA injects credentials only into pods created after the annotation)."""
    resources = list(resources)
    ns, _, name = service_account.partition("/")
    accounts = [
        r
        for r in resources
        if r.type == SERVICE_ACCOUNT
        and _get(r.inputs, "metadata", "namespace") == ns
        and _get(r.inputs, "metadata", "name") == name
    ]
    if len(accounts) != 1:
        return [f"{service_account}: {len(accounts)} ServiceAccounts declared (needs exactly one)"]
    (account,) = accounts
    problems = []
    role = _get(account.inputs, "metadata", "annotations", IRSA)
    if not (isinstance(role, str) and role.startswith("arn:aws:iam::")):
        problems.append(f"{service_account}: no IRSA role annotation ({role!r})")
    (workload,) = [r for r in resources if r.urn == workload_urn]
    if account.urn not in workload.dependencies:
        problems.append(f"{workload.name}: does not wait for its service account {service_account}")
    return problems
