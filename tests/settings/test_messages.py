"""Class 6, the messages: an unknown key lists the keys allowed there, the nearest match first; no
message names a placeholder instead of the user's value. And, for a sample of every class, the CLI
contract: exit 2, one line on stderr, no traceback, nothing on stdout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from components.streaming.kafka.settings import KafkaSettings
from planner.runtime import REPO
from stacks.settings import SettingsError, StackSettings, _key, load_settings
from stacks.settings.files import TOP_LEVEL, read_stack_file
from tests.settings.cases import Case, assert_one_clear_line, settings_error
from tests.settings.test_files import committed_text

P = "pipeline-infra"

UNKNOWN = [
    Case("a nested typo", "prod", "kafka.brokerz", 3, f"{P}:kafka.brokerz",
         "unknown key; allowed: brokers, "),
    Case("a top-level typo", "staging", "netwrok", {"cidr": "10.20.0.0/16"}, f"{P}:netwrok",
         "unknown key; allowed: network, "),
    Case("a typo in a colour stack", "prod-blue", "fleets.colur", "blue", f"{P}:fleets.colur",
         "unknown key; allowed: colour, "),
    Case("a typo in a mapping's item", "staging", "cluster.node_groups.kafka.disk_gb", 100,
         f"{P}:cluster.node_groups.kafka.disk_gb", "unknown key; allowed: disk_gib, "),
    Case("a misspelt namespace", "prod-green", "pipline-infra:role", "fleet-colour", "pipline-infra:role",
         "unknown namespace 'pipline-infra'; allowed: pipeline-infra, "),
    Case("a misspelt provider key", "prod", "aws:regoin", "us-east-1", "aws:regoin", "allowed: region, "),
]


@pytest.mark.parametrize("case", UNKNOWN, ids=[c.name for c in UNKNOWN])
def test_an_unknown_key_lists_the_allowed_ones_nearest_first(case: Case) -> None:
    assert_one_clear_line(case, settings_error(case))


def test_every_allowed_key_is_listed() -> None:
    error = settings_error(UNKNOWN[0])
    listed = error.message.split("allowed: ", 1)[1].split(", ")
    assert sorted(listed) == sorted(KafkaSettings.model_fields)
    top = settings_error(UNKNOWN[1]).message.split("allowed: ", 1)[1].split(", ")
    assert sorted(top) == sorted(n for n in StackSettings.model_fields if n != "region")


def test_an_unknown_top_level_key_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text("secretprovider: passphrase\n" + committed_text("prod"))
    with pytest.raises(SettingsError) as info:
        read_stack_file(path, "Pulumi.prod.yaml")
    assert info.value.message.startswith("unknown top-level key; allowed: secretsprovider, ")
    assert sorted(info.value.message.split("allowed: ")[1].split(", ")) == sorted(TOP_LEVEL)


def test_the_users_value_is_named_not_a_placeholder() -> None:
    # A secret value the plan stands in for is never shown (neither the stand-in nor the secret).
    cfg = {**Case("", "prod", "environment", "x", "", "").config()}
    cfg[f"{P}:environment"] = "offline-placeholder-secret"
    with pytest.raises(SettingsError) as info:
        load_settings(cfg, source="Pulumi.prod.yaml", secret_keys={f"{P}:environment"}, offline=True)
    assert "offline-placeholder-secret" not in str(info.value)
    # A plain value is shown as the user wrote it.
    error = settings_error(Case("", "prod", "kafka.brokers", "three", f"{P}:kafka.brokers", "(got 'three')"))
    assert "(got 'three')" in str(error)
    assert _key(()) == "config"


# --- the CLI contract, a sample per class ----------------------------------------------------------
def planner(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "planner", *args],
        cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def _bad_file(tmp_path: Path) -> str:
    path = tmp_path / "Pulumi.prod-blue.yaml"
    text = committed_text("prod-blue")
    path.write_text(text.replace("colour: blue\n", "colour: blue\n    colour: green\n"))
    return str(path)


SAMPLES = [
    ("1 consistency", ["--stack", "prod", "--set", "kafka.min_insync_replicas=3"],
     "error: Pulumi.prod.yaml: pipeline-infra:kafka: min_insync_replicas 3 must be below replication_factor"),
    ("2 estate", ["--stack", "prod-dr", "--set", "dr.peer_cidr=10.40.0.0/16"],
     "error: Pulumi.prod-dr.yaml: pipeline-infra:dr.peer_cidr: must be Pulumi.prod.yaml's network.cidr"),
    ("3 provider values", ["--stack", "staging", "--set", "aws:regoin=eu-west-1"],
     "error: Pulumi.staging.yaml: aws:regoin: unknown key of the aws provider"),
    ("4 files", ["--config", "FILE"], "error: FILE: pipeline-infra:fleets.colour: duplicate key at line 17"),
    ("5 registration: a colour stack of the wrong colour",
     ["--stack", "prod-green", "--set", "fleets.colour=blue"],
     "error: Pulumi.prod-green.yaml: pipeline-infra:fleets.colour: the stack prod-green is named for colour"),
    ("6 unknown key", ["--stack", "local", "--set", "kafka.brokerz=1"],
     "error: Pulumi.local.yaml: pipeline-infra:kafka.brokerz: unknown key; allowed: brokers"),
]


@pytest.mark.parametrize("name,args,starts", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_the_cli_ends_every_class_in_one_clean_line(
    tmp_path: Path, name: str, args: list, starts: str
) -> None:
    file = _bad_file(tmp_path)
    proc = planner("plan", *[file if a == "FILE" else a for a in args])
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith(starts.replace("FILE", file)), lines[0]
