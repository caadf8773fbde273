"""The CronJob envelope the platform's scheduled jobs share (pure: no Pulumi): UTC schedule, never two
runs at once, a run that missed its start by an hour skipped, the last run of each outcome kept for
`kubectl logs`, each run bounded to an hour."""

from __future__ import annotations

from typing import Any

PART_OF = {"app.kubernetes.io/part-of": "pipeline-infra"}


def labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, **PART_OF}


def pod_security_context(uid: int, *, fs_group: bool = False) -> dict[str, Any]:
    """Non-root as `uid` (and its group), the runtime's seccomp profile; `fs_group`: mounted Secret
    files group-readable by that group only."""
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        **({"fsGroup": uid} if fs_group else {}),
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def credentials_files(secret: str, mount_path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(volume mount, volume) of a Secret's keys as read-only files under `mount_path`, readable by
    the pod's fsGroup only (root:fsGroup, 0440): credentials as files, never environment variables."""
    mount = {"name": "credentials", "mountPath": mount_path, "readOnly": True}
    volume = {"name": "credentials", "secret": {"secretName": secret, "defaultMode": 0o440}}
    return mount, volume


def cron_job(
    *,
    name: str,
    namespace: str,
    schedule: str,
    pod: dict[str, Any],
    backoff_limit: int,
    suspend: bool | None = None,
) -> dict[str, Any]:
    """A CronJob running `pod` (its template labelled like the CronJob) on `schedule`, in UTC.
    `suspend`: set only where a site switches the job off (a standby)."""
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(name)},
        "spec": {
            "schedule": schedule,
            "timeZone": "Etc/UTC",
            **({"suspend": suspend} if suspend is not None else {}),
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": backoff_limit,
                    "activeDeadlineSeconds": 3600,
                    "template": {"metadata": {"labels": labels(name)}, "spec": pod},
                }
            },
        },
    }
