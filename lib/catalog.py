"""What the real providers and engines accept, from data files with their sources (pure: no Pulumi):
AWS regions (lib/aws/regions.yaml), the EKS versions (lib/aws/eks-versions.yaml) and the providers'
configuration keys (lib/provider-config.yaml)."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
from collections.abc import Iterable
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REGIONS_FILE = HERE / "aws" / "regions.yaml"
EKS_VERSIONS_FILE = HERE / "aws" / "eks-versions.yaml"
PROVIDER_CONFIG_FILE = HERE / "provider-config.yaml"


@functools.cache
def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def region_partitions() -> dict[str, str]:
    """AWS region -> its partition (aws, aws-cn, aws-us-gov, ...)."""
    return {r: p for p, regions in _load(REGIONS_FILE)["partitions"].items() for r in regions}


def eks_versions() -> tuple[str, ...]:
    """The EKS versions a cluster can be created on, as of the data file's date, oldest first."""
    data = _load(EKS_VERSIONS_FILE)
    as_of = dt.date.fromisoformat(data["as_of"])
    return tuple(
        v
        for v, dates in sorted(data["calendar"].items(), key=lambda kv: tuple(map(int, kv[0].split("."))))
        if dt.date.fromisoformat(dates["released"]) <= as_of < dt.date.fromisoformat(dates["end_of_extended"])
    )


def provider_keys() -> dict[str, tuple[str, ...]]:
    """Provider namespace -> the configuration keys it reads."""
    return {ns: tuple(keys) for ns, keys in _load(PROVIDER_CONFIG_FILE).items()}


def close_matches(word: str, allowed: Iterable[str]) -> list[str]:
    """Up to three names of `allowed` close to `word` (a typo's likely meaning), closest first."""
    return difflib.get_close_matches(word, list(allowed), n=3, cutoff=0.6)


def nearest_first(word: str, allowed: Iterable[str]) -> list[str]:
    """`allowed` with the names closest to `word` first, the rest in their order."""
    names = list(allowed)
    close = close_matches(word, names)
    return close + [n for n in names if n not in close]
