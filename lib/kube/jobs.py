"""A one-shot Job that runs a client against a script mounted from a ConfigMap (pure: no Pulumi).

ScyllaDB's schema (cqlsh -f) and PostgreSQL's bootstrap SQL (psql -f) are applied this way: the Job
retries until the database answers and runs non-root with a read-only root filesystem.

One run per script: the Job's name carries the script's digest (and its pod template the full digest
as an annotation), so a changed script is a new Job (Pulumi replaces it and awaits its completion),
an unchanged one is left alone. The Job has no `ttlSecondsAfterFinished`: a Job the cluster removed by
itself would be missing at the next `pulumi refresh` and re-created (re-run) by the `up` after it; a
finished Job stays until its script changes (its Completed pod holds no resources).
"""

from __future__ import annotations

import hashlib
from typing import Any

SCRIPT_DIR = "/script"
# Above the host's UID range; the client images run under any UID.
UID = 10001
# Pod template annotation with the SHA-256 of the script files the Job runs.
SCRIPT_DIGEST_ANNOTATION = "pipeline-infra/script-sha256"
# Characters of the digest in object names (the Job's and its ConfigMap's).
NAME_DIGEST_CHARS = 10
# A job container's own restrictions: no privilege escalation, a read-only root filesystem (scratch
# space is an emptyDir on /tmp), no Linux capability.
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def job_resources(memory: str) -> dict[str, dict[str, str]]:
    """A client job's container: a tenth of a core requested, half a core at most, `memory` fixed."""
    return {"requests": {"cpu": "100m", "memory": memory}, "limits": {"cpu": "500m", "memory": memory}}


def script_digest(files: dict[str, str]) -> str:
    """SHA-256 over the files (name and content, in name order): changes when any file changes."""
    h = hashlib.sha256()
    for name in sorted(files):
        for part in (name, files[name]):
            data = part.encode("utf-8")
            h.update(len(data).to_bytes(8, "big"))
            h.update(data)
    return h.hexdigest()


def digest_name(base: str, digest: str) -> str:
    """`base`-<first NAME_DIGEST_CHARS of digest>, a valid object name (at most 63 characters)."""
    suffix = digest[:NAME_DIGEST_CHARS]
    return f"{base[: 62 - len(suffix)].rstrip('-')}-{suffix}"


def script_job(
    *,
    app: str,
    namespace: str,
    container: str,
    image: str,
    command: list[str],
    configmap: str,
    placement: dict[str, Any],
    memory: str,
    digest: str,
    env: list[dict[str, Any]] = (),  # type: ignore[assignment]
    secrets: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`command` reads its script under SCRIPT_DIR (the ConfigMap's keys are its files); `digest` is
    script_digest() of those files: it names the Job and annotates its pod template. `secrets`: mount
    path -> Secret name, each mounted read-only (files readable by the Job's user only), so that a
    credential is read from a file, never from an environment variable."""
    labels = {"app.kubernetes.io/name": app}
    secret_mounts = [
        {"name": f"secret-{i}", "mountPath": path, "readOnly": True}
        for i, path in enumerate(sorted(secrets or {}))
    ]
    secret_volumes = [
        {"name": f"secret-{i}", "secret": {"secretName": (secrets or {})[path], "defaultMode": 0o400}}
        for i, path in enumerate(sorted(secrets or {}))
    ]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": digest_name(app, digest), "namespace": namespace, "labels": labels},
        "spec": {
            "backoffLimit": 20,
            "activeDeadlineSeconds": 3600,
            "template": {
                "metadata": {"labels": labels, "annotations": {SCRIPT_DIGEST_ANNOTATION: digest}},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "automountServiceAccountToken": False,
                    **placement,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": UID,
                        "runAsGroup": UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": container,
                            "image": image,
                            "imagePullPolicy": "Always",
                            "command": command,
                            "env": [{"name": "HOME", "value": "/tmp"}, *env],
                            "resources": job_resources(memory),
                            "securityContext": dict(CONTAINER_SECURITY),
                            "volumeMounts": [
                                {"name": "script", "mountPath": SCRIPT_DIR, "readOnly": True},
                                {"name": "tmp", "mountPath": "/tmp"},
                                *secret_mounts,
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "script", "configMap": {"name": configmap}},
                        {"name": "tmp", "emptyDir": {}},
                        *secret_volumes,
                    ],
                },
            },
        },
    }
