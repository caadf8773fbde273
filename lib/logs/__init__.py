"""Log classes and their retention (seed 003 Log Retention), host log rotation and the CloudWatch
agent's configuration of the fleets. Pure: no Pulumi import."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).with_name("retention.yaml")
# CloudWatch Logs accepts only these retention periods (days)
CLOUDWATCH_RETENTIONS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
# the log groups of a fleet instance: class -> files the agent ships (module logs are JSON lines,
# seed 003 Log Formats)
FLEET_LOGS = {
    "application": ("{base}/logs/*.log",),
    "debug": ("{base}/logs/debug/*.log",),
    "system": ("/var/log/cloud-init-output.log", "/var/log/dpkg.log"),
}
# which retention class each fleet log group follows (system logs: the application class)
FLEET_CLASS = {"application": "application", "debug": "debug", "system": "application"}


@functools.cache
def data() -> dict[str, Any]:
    doc = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    for name, c in doc["classes"].items():
        if c["warm"] not in CLOUDWATCH_RETENTIONS or not c["hot"] <= c["warm"] <= (c["cold"] or c["warm"]):
            raise ValueError(
                f"{DATA.name}: class {name}: warm must be a CloudWatch retention, hot <= warm <= cold"
            )
    return doc


def cloudwatch_days(log_class: str) -> int:
    """CloudWatch Logs retention of a class: the end of its warm tier."""
    return int(data()["classes"][log_class]["warm"])


def cold_days(log_class: str) -> int | None:
    c = data()["classes"][log_class]["cold"]
    return None if c is None else int(c)


def archived_classes() -> tuple[str, ...]:
    """Classes whose cold tier is the S3 log archive (a Firehose stream per class, fed by subscription
    filters): those with a cold tier, except audit, which has its own Object Lock bucket and writer."""
    return tuple(c for c in data()["classes"] if c != "audit" and cold_days(c) is not None)


def fleet_log_group(environment: str, colour: str, module: str, kind: str) -> str:
    return f"/pipeline-infra/{environment}/{colour}/{module}/{kind}"


def agent_config(*, environment: str, colour: str, module: str, base: str) -> str:
    """amazon-cloudwatch-agent.json: every fleet log file to its log group, one stream per instance
    (the log groups, with their retention, are the fleet component's; the hosts run in UTC)."""
    collect = [
        {
            "file_path": path.format(base=base),
            "log_group_name": fleet_log_group(environment, colour, module, kind),
            "log_stream_name": "{instance_id}",
        }
        for kind, paths in FLEET_LOGS.items()
        for path in paths
    ]
    doc = {
        "agent": {"run_as_user": "root", "logfile": "/var/log/amazon-cloudwatch-agent.log"},
        "logs": {"logs_collected": {"files": {"collect_list": collect}}},
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"


def logrotate_config(*, module: str, base: str, user: str) -> str:
    """/etc/logrotate.d/pipeline-<module>: rotated daily and compressed (older than a day), deleted
    after 7 days; copytruncate: the module keeps its log file open."""
    r = data()["rotation"]
    return (
        f"# seed 003 Runbook I.2: gzip logs older than {r['compress_after_days']} day, "
        f"delete after {r['delete_after_days']} days\n"
        f"{base}/logs/*.log {base}/logs/debug/*.log {{\n"
        "    daily\n"
        f"    rotate {r['delete_after_days']}\n"
        f"    maxage {r['delete_after_days']}\n"
        "    compress\n"
        "    missingok\n"
        "    notifempty\n"
        "    copytruncate\n"
        f"    su {user} {user}\n"
        "}\n"
    )


def journald_config() -> str:
    """journald of the fleet hosts: bounded like the module logs (7 days on the host)."""
    days = data()["rotation"]["delete_after_days"]
    return f"[Journal]\nSystemMaxUse=2G\nMaxRetentionSec={days}day\n"
