"""Class 3, values the real provider or engine would refuse: an unknown region, an EKS version outside
the supported range, a misspelt provider key, a secure value where a secret is not allowed, a secrets
provider without its key. Fixtures: committed stack files with one change; the data files are compared
with the sources they were taken from."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml

from lib import catalog
from lib.versions import EKS_VERSION
from planner.runtime import REPO
from stacks.settings import SettingsError, load_settings
from stacks.settings.files import check_secure_values, read_stack_file, settings_of_file, to_runtime_config
from tests.settings.cases import Case, assert_one_clear_line, committed, settings_error

P = "pipeline-infra"
SECURE = {"secure": "v1:c2VjcmV0:AAAAAAAAAAAAAAAAAAAAAA=="}

PROVIDER_VALUES = [
    Case("unknown region", "staging", "aws:region", "us-east-9", "aws:region",
         "must be an AWS region of lib/aws/regions.yaml; nearest: us-east-2, us-east-1"),
    Case("a colour stack in an unknown region", "prod-blue", "aws:region", "eu-wset-1", "aws:region",
         "nearest: eu-west-1"),
    Case("an unknown DR peer region", "prod", "dr.peer_region", "us-west-3", f"{P}:dr.peer_region",
         "must be an AWS region"),
    Case("backups replicated to another partition", "prod", "backups.replicate_to_region", "cn-north-1",
         f"{P}:backups.replicate_to_region", "partition aws-cn"),
    Case("EKS version past its extended support", "staging", "cluster.version", "1.28",
         f"{P}:cluster.version", "EKS creates clusters on 1.32"),
    Case("EKS version not released", "prod", "cluster.version", "1.40", f"{P}:cluster.version",
         "lib/aws/eks-versions.yaml"),
    Case("misspelt aws key", "staging", "aws:regoin", "eu-west-1", "aws:regoin",
         "unknown key of the aws provider (lib/provider-config.yaml); allowed: region"),
    Case("misspelt aws key in a colour stack", "prod-green", "aws:profiel", "ops", "aws:profiel",
         "allowed: profile"),
    Case("misspelt kubernetes key", "prod", "kubernetes:kubeconfg", "~/.kube/config", "kubernetes:kubeconfg",
         "allowed: kubeconfig"),
    Case("random takes no configuration", "local", "random:seed", "1", "random:seed",
         "none (it takes no configuration)"),
]


@pytest.mark.parametrize("case", PROVIDER_VALUES, ids=[c.name for c in PROVIDER_VALUES])
def test_a_value_the_provider_would_refuse_is_one_clear_error(case: Case) -> None:
    assert_one_clear_line(case, settings_error(case))


# --- secure values --------------------------------------------------------------------------------
def _through_the_file_path(stack: str, key: str, value) -> SettingsError:
    """As the plan reads a file: the secure check, the engine's flat map, then the settings."""
    cfg = copy.deepcopy(committed(stack))
    from planner.runtime import apply_overrides

    cfg = apply_overrides(cfg, {key: value})
    with pytest.raises(SettingsError) as info:
        check_secure_values(cfg, f"Pulumi.{stack}.yaml")
        flat, secret_keys = to_runtime_config(cfg)
        load_settings(flat, source=f"Pulumi.{stack}.yaml", secret_keys=secret_keys, offline=True)
    return info.value


@pytest.mark.parametrize(
    "stack,key,shown",
    [
        ("prod", "environment", f"{P}:environment"),  # a whole plain key
        ("staging", "kubernetes.storage_class", f"{P}:kubernetes.storage_class"),  # inside a secret key
        ("prod-blue", "aws:region", "aws:region"),  # read by the program in plain text
        ("prod-dr", "dr.peer_cidr", f"{P}:dr.peer_cidr"),
    ],
)
def test_a_secure_value_where_no_secret_is_allowed(stack: str, key: str, shown: str) -> None:
    error = _through_the_file_path(stack, key, SECURE)
    expected = f"Pulumi.{stack}.yaml: {shown}: a secure: value where a secret is not allowed"
    assert str(error).startswith(expected), str(error)
    assert "offline-placeholder-secret" not in str(error) and "\n" not in str(error)


def test_secure_values_where_secrets_belong_are_accepted() -> None:
    cfg = copy.deepcopy(committed("prod"))
    cfg[f"{P}:secrets"] = {"source": "config"}  # the receivers' keys from the stack's own secrets
    cfg[f"{P}:pagerduty_critical_key"] = SECURE
    cfg["aws:secretKey"] = SECURE
    check_secure_values(cfg, "Pulumi.prod.yaml")
    flat, secret_keys = to_runtime_config(cfg)
    s = load_settings(flat, source="Pulumi.prod.yaml", secret_keys=secret_keys, offline=True)
    assert s.pagerduty_critical_key is not None
    staging = copy.deepcopy(committed("staging"))
    staging[f"{P}:kubernetes"] = {"kubeconfig": SECURE}
    check_secure_values(staging, "Pulumi.staging.yaml")


def test_a_secret_set_through_the_engine_on_a_plain_key_is_refused() -> None:
    # Under `pulumi up` the engine marks the key secret (pulumi config set --secret) and decrypts it.
    cfg = {**committed("prod"), f"{P}:environment": "prod"}
    with pytest.raises(SettingsError) as info:
        load_settings(cfg, source="Pulumi.prod.yaml", secret_keys={f"{P}:environment"}, offline=True)
    assert "pulumi config set pipeline-infra:environment <value>" in str(info.value)


# --- secrets providers ----------------------------------------------------------------------------
def _stack_file(tmp_path: Path, stack: str, **top) -> Path:
    doc = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    doc.update(top)
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "stack,top,key,says",
    [
        ("prod", {"secretsprovider": "awskms://alias/pipeline?region=us-east-1"}, "encryptedkey",
         "required with secretsprovider awskms://"),
        ("prod-green", {"secretsprovider": "passphrase"}, "encryptionsalt",
         "required with secretsprovider passphrase"),
        ("staging", {"encryptedkey": "AQICAHh..."}, "encryptedkey", "only used with a KMS secretsprovider"),
        ("local", {"secretsprovider": "vault"}, "secretsprovider",
         "must be default, passphrase or a KMS URL"),
    ],
)
def test_a_secrets_provider_without_its_key(tmp_path: Path, stack, top, key, says) -> None:
    path = _stack_file(tmp_path, stack, **top)
    with pytest.raises(SettingsError) as info:
        read_stack_file(path, str(path))
    assert str(info.value).startswith(f"{path}: {key}: {says}"), str(info.value)


def test_a_secrets_provider_with_its_key_is_accepted(tmp_path: Path) -> None:
    kms = _stack_file(
        tmp_path, "prod", secretsprovider="awskms://alias/p?region=us-east-1", encryptedkey="AQI"
    )
    assert settings_of_file(kms, str(kms)).environment == "prod"
    salted = _stack_file(tmp_path, "staging", encryptionsalt="v1:abc:v1:def:ghi")
    assert settings_of_file(salted, str(salted)).environment == "staging"


# --- the data files against their sources ---------------------------------------------------------
def _installed(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        pytest.skip(f"{module} is not installed")
    return Path(spec.origin).parent


def test_regions_are_botocores_and_pulumi_aws_region_enum() -> None:
    ours = catalog.region_partitions()
    endpoints = json.loads((_installed("botocore") / "data" / "endpoints.json").read_text())
    assert ours == {r: p["partition"] for p in endpoints["partitions"] for r in p["regions"]}
    from pulumi_aws import Region

    assert set(ours) == {r.value for r in Region}


@pytest.mark.parametrize("provider,module", [("aws", "pulumi_aws"), ("docker", "pulumi_docker")])
def test_provider_keys_are_the_installed_sdks_config(provider: str, module: str) -> None:
    source = (_installed(module) / "config" / "vars.py").read_text()
    sdk = set(re.findall(r"__config__\.get\w*\('([A-Za-z0-9]+)'", source))
    assert set(catalog.provider_keys()[provider]) == sdk


def test_eks_versions_follow_the_calendar_at_its_date() -> None:
    data = yaml.safe_load(catalog.EKS_VERSIONS_FILE.read_text())
    # As of 2026-12-01, 1.29-1.31 are past the end of extended support (AWS release calendar).
    assert data["as_of"] == "2026-12-01"
    assert catalog.eks_versions() == ("1.32", "1.33", "1.34", "1.35")
    assert EKS_VERSION in catalog.eks_versions(), "lib/versions.py pins an EKS version EKS no longer offers"


def test_nearest_matches_are_offered_first() -> None:
    assert catalog.nearest_first("regoin", ["profile", "region", "token"])[0] == "region"
    assert catalog.close_matches("mars-1", sorted(catalog.region_partitions())) == []
