"""Alertmanager configuration (seed 003 Monitoring and Alerting > Alert Routing). No Pulumi import.

The configuration holds no secret: PagerDuty routing keys, the Slack webhook and the SMTP password are
read from files in `secrets_dir` (`routing_key_file`, `api_url_file`, `auth_password_file`, all
supported since Alertmanager 0.25; the pinned image is newer). On the AWS stacks those files are the
keys of a Kubernetes Secret made from the Pulumi secrets and mounted by the Alertmanager resource;
the local stack writes placeholders.
"""

from __future__ import annotations

from typing import Any

import yaml

from components.observability.rules import inhibit_pairs
from components.observability.settings import AlertingSettings

# The receivers' secrets (seed 003 Alert Routing): the stack settings carry each as a Pulumi secret of
# this name (stacks/settings ALERTING_SECRETS is this tuple), and Alertmanager reads each from a file.
RECEIVER_SECRETS: tuple[str, ...] = (
    "pagerduty_critical_key",
    "pagerduty_high_key",
    "slack_webhook_url",
    "smtp_password",
    "deadmans_switch_url",
)
# File names in secrets_dir (the keys of the Kubernetes Secret) -> the settings secret of each.
SECRET_FILES: dict[str, str] = {name.replace("_", "-"): name for name in RECEIVER_SECRETS}

# seed 003 Alert Routing > Routing Rules: severity -> (receiver, repeat_interval)
ROUTES: dict[str, tuple[str, str]] = {
    "critical": ("pagerduty-critical", "5m"),
    "high": ("pagerduty-high", "15m"),
    "medium": ("slack-ops", "1h"),
    "low": ("email-ops", "4h"),
    "info": ("slack-info", "24h"),
}

# The dead man's switch: kube-prometheus-stack's Watchdog fires for as long as the alerting path works;
# Alertmanager re-sends it every WATCHDOG_REPEAT to a heartbeat service (the webhook of the
# deadmans_switch_url secret), which pages when the pings stop (seed 003 P1 "complete loss of
# monitoring visibility"). Its expected period on the service side: docs/observability.md.
WATCHDOG_RECEIVER = "deadmans-switch"
WATCHDOG_REPEAT = "1m"

# seed 003 Alert Routing > Silencing and Maintenance > Inhibition Rules
SEED_INHIBITIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("alpha_ingestion_stopped", "alpha", ("instance",)),
    ("gamma_delivery_stopped", "gamma", ("instance",)),
)


def config(secrets_dir: str, alerting: AlertingSettings | None = None) -> dict[str, Any]:
    """The Alertmanager configuration as a document."""
    a = alerting or AlertingSettings()
    d = secrets_dir.rstrip("/")
    sender = "alertmanager@" + a.email_ops.split("@", 1)[1]
    routes: list[dict[str, Any]] = [
        # kube-prometheus-stack's always-firing Watchdog proves the alerting path: a heartbeat to the
        # dead man's switch, never to a person directly (the switch pages when it stops).
        {
            "receiver": WATCHDOG_RECEIVER,
            "matchers": ['alertname="Watchdog"'],
            "group_by": ["alertname"],
            "group_wait": "0s",
            "group_interval": WATCHDOG_REPEAT,
            "repeat_interval": WATCHDOG_REPEAT,
        },
    ]
    routes += [
        {"receiver": receiver, "matchers": [f'severity="{severity}"'], "repeat_interval": repeat}
        for severity, (receiver, repeat) in ROUTES.items()
    ]
    inhibit: list[dict[str, Any]] = [
        {
            "source_matchers": [f'alertname="{alert}"'],
            "target_matchers": [f'module="{module}"'],
            "equal": list(equal),
        }
        for alert, module, equal in SEED_INHIBITIONS
    ]
    # A more severe alert of the same condition mutes its lesser twin (rule data: `inhibits`).
    inhibit += [
        {"source_matchers": [f'alertname="{src}"'], "target_matchers": [f'alertname="{dst}"'], "equal": equal}
        for src, dst, equal in inhibit_pairs()
    ]
    return {
        "global": {
            "resolve_timeout": "5m",
            "smtp_smarthost": a.smarthost,
            "smtp_from": sender,
            "smtp_auth_username": sender,
            "smtp_auth_password_file": f"{d}/smtp-password",
            "smtp_require_tls": True,
            "slack_api_url_file": f"{d}/slack-webhook-url",
        },
        "route": {
            # Anything outside the five severities (e.g. the chart's own "warning" rules) goes to ops.
            "receiver": "slack-ops",
            "group_by": ["alertname", "module"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes,
        },
        "inhibit_rules": inhibit,
        "receivers": [
            {"name": "null"},
            {
                "name": WATCHDOG_RECEIVER,
                "webhook_configs": [{"url_file": f"{d}/deadmans-switch-url", "send_resolved": False}],
            },
            {
                "name": "pagerduty-critical",
                "pagerduty_configs": [
                    {
                        "routing_key_file": f"{d}/pagerduty-critical-key",
                        "severity": "critical",
                        "send_resolved": True,
                    }
                ],
            },
            {
                "name": "pagerduty-high",
                "pagerduty_configs": [
                    {
                        "routing_key_file": f"{d}/pagerduty-high-key",
                        "severity": "error",
                        "send_resolved": True,
                    }
                ],
            },
            {"name": "slack-ops", "slack_configs": [{"channel": a.slack_channel_ops, "send_resolved": True}]},
            {"name": "email-ops", "email_configs": [{"to": a.email_ops, "send_resolved": True}]},
            {
                "name": "slack-info",
                "slack_configs": [{"channel": a.slack_channel_info, "send_resolved": False}],
            },
        ],
        "templates": [],
    }


def render_config(secrets_dir: str, alerting: AlertingSettings | None = None) -> str:
    """alertmanager.yml reading every key and webhook from files in secrets_dir."""
    return yaml.safe_dump(config(secrets_dir, alerting), sort_keys=False)
