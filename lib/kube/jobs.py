"""A one-shot Job that runs a client against a script mounted from a ConfigMap (pure: no Pulumi).

ScyllaDB's schema (cqlsh -f) and PostgreSQL's bootstrap SQL (psql -f) are applied this way: the Job
retries until the database answers, runs non-root with a read-only root filesystem, and is removed
a day after it finished.
"""

from __future__ import annotations

from typing import Any

SCRIPT_DIR = "/script"
# Above the host's UID range; the client images run under any UID.
UID = 10001


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
    env: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    """`command` reads its script under SCRIPT_DIR (the ConfigMap's keys are its files)."""
    labels = {"app.kubernetes.io/name": app}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"namespace": namespace, "labels": labels},
        "spec": {
            "backoffLimit": 20,
            "activeDeadlineSeconds": 3600,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": labels},
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
                            "resources": {
                                "requests": {"cpu": "100m", "memory": memory},
                                "limits": {"cpu": "500m", "memory": memory},
                            },
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "volumeMounts": [
                                {"name": "script", "mountPath": SCRIPT_DIR, "readOnly": True},
                                {"name": "tmp", "mountPath": "/tmp"},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "script", "configMap": {"name": configmap}},
                        {"name": "tmp", "emptyDir": {}},
                    ],
                },
            },
        },
    }
