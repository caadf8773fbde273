"""Secrets (issue 11 item 6): a real preview of every committed stack does not stop on missing
configuration: by default an AWS environment reads its Alertmanager receiver secrets at deploy time
from one AWS Secrets Manager secret by name (secret in state), or, with secrets.source config, from
its own Pulumi secrets; nothing secret is plain text in a stack file. Each check shown failing."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from components.observability.alertmanager import RECEIVER_SECRETS
from planner.report import stack_names
from planner.runtime import REPO, read_stack_file, to_runtime_config
from stacks.compose.secrets import receiver_values
from stacks.settings import SettingsError, load_settings

_SECRET_WORDS = re.compile(r"(password|passwd|secret|token|webhook|routing|api_key|_key$)", re.I)


def _config(stack: str) -> dict[str, Any]:
    path = REPO / f"Pulumi.{stack}.yaml"
    return read_stack_file(path, path.name)


def _real(config: dict[str, Any], stack: str):
    """load_settings exactly as under `pulumi preview`: the CLI's flat config, offline=False."""
    flat, secret_keys = to_runtime_config(config)
    return load_settings(flat, source=f"Pulumi.{stack}.yaml", secret_keys=secret_keys, offline=False)


# The one value a deployer adds before the first preview (README, Deploying for real, step 4): the
# Debian 12 AMI of the region, pinned in the stack file; no public source here names its id.
NEEDS_AMI = ("prod-blue", "prod-dr", "prod-green", "staging")


@pytest.mark.parametrize("stack", stack_names())
def test_every_committed_stack_passes_the_real_settings_check(stack):
    config = _config(stack)
    if stack in NEEDS_AMI:
        with pytest.raises(SettingsError, match=r"fleets\.ami_id: required: the Debian 12"):
            _real(config, stack)
        config = copy.deepcopy(config)
        config["pipeline-infra:fleets"]["ami_id"] = "ami-0123456789abcdef0"
    settings = _real(config, stack)
    if (settings.role, settings.target) == ("environment", "aws"):
        assert settings.secrets_source == "secretsmanager"
        assert settings.alertmanager_secret_name == f"pipeline-infra/{settings.environment}/alertmanager"


def test_config_as_the_source_still_requires_every_secret():
    cfg = copy.deepcopy(_config("prod"))
    cfg["pipeline-infra:secrets"] = {"source": "config"}
    with pytest.raises(
        SettingsError, match="pipeline-infra:pagerduty_critical_key: required secret is not set"
    ):
        _real(cfg, "prod")


def test_a_config_secret_beside_secrets_manager_is_refused():
    cfg = copy.deepcopy(_config("prod"))
    cfg["pipeline-infra:slack_webhook_url"] = {"secure": "v1:abc"}
    with pytest.raises(SettingsError, match="read from AWS Secrets Manager"):
        _real(cfg, "prod")


def test_the_secret_is_parsed_by_key_and_a_missing_key_is_named_without_values():
    names = tuple(RECEIVER_SECRETS)
    full = (
        '{"pagerduty_critical_key": "a", "pagerduty_high_key": "b", '
        '"slack_webhook_url": "c", "smtp_password": "d", "deadmans_switch_url": "e"}'
    )
    by_name = {"pagerduty_critical_key": "a", "pagerduty_high_key": "b", "slack_webhook_url": "c",
               "smtp_password": "d", "deadmans_switch_url": "e"}
    assert set(names) == set(by_name)
    assert receiver_values(full, names=names, secret_name="s") == {n: by_name[n] for n in names}
    with pytest.raises(ValueError, match="secret s: missing keys smtp_password") as info:
        receiver_values(full.replace('"smtp_password": "d"', '"other": "d"'), names=names, secret_name="s")
    assert '"a"' not in str(info.value)
    with pytest.raises(ValueError, match="not a JSON object"):
        receiver_values("hunter2", names=names, secret_name="s")


@pytest.mark.parametrize("stack", ("staging", "prod", "prod-dr"))
def test_the_receivers_secret_holds_only_secret_values(plan_of, stack):
    (secret,) = [r for r in plan_of(stack).kubernetes() if r.name == "observability-alertmanager-receivers"]
    data = secret.inputs["stringData"]
    assert set(data) == {
        "pagerduty-critical-key",
        "pagerduty-high-key",
        "slack-webhook-url",
        "smtp-password",
        "deadmans-switch-url",
    }
    assert set(data.values()) == {"[secret]"}


def plain_secrets(node: Any, path: str = "") -> list[str]:
    """Key paths of a stack file whose name says secret and whose value is not `secure:`."""
    found = []
    if isinstance(node, dict):
        if set(node) == {"secure"}:
            return []
        for key, value in node.items():
            sub = f"{path}.{key}" if path else str(key)
            name = str(key).rsplit(":", 1)[-1]
            if (
                _SECRET_WORDS.search(name)
                and not name.endswith(("_secret", "kms_key_arn"))
                and not (isinstance(value, dict) and set(value) == {"secure"})
            ) and not isinstance(value, dict | list):
                found.append(sub)
                continue
            found += plain_secrets(value, sub)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found += plain_secrets(item, f"{path}[{i}]")
    return found


def test_no_stack_file_holds_a_secret_in_plain_text():
    assert {s: plain_secrets(_config(s)) for s in stack_names()} == {s: [] for s in stack_names()}
    leaked = {"pipeline-infra:smtp_password": "hunter2", "pipeline-infra:dr": {"promotion_token": "t"}}
    assert plain_secrets(leaked) == ["pipeline-infra:smtp_password", "pipeline-infra:dr.promotion_token"]
    assert plain_secrets({"pipeline-infra:smtp_password": {"secure": "v1:x"}}) == []
