"""The files the local Kafka Connect image downloads, with the SHA-256 each must have (pure: no Pulumi).

The URLs are the Kubernetes stacks' plugin URLs (components/connect/manifests.py plugins()) plus the
JMX exporter agent from Maven Central; versions and checksums come from lib/versions.py.

`python -m stacks.compose.local_artifacts` (make connect-checksums), on a machine with network access,
downloads each file and prints its SHA-256 as the CONNECT_ARTIFACT_SHA256 lines for versions.py.
"""

from __future__ import annotations

import hashlib
import sys
import urllib.request
from typing import NamedTuple

from components.streaming.connect.manifests import MAVEN_CENTRAL, plugins
from lib import versions


class Artifact(NamedTuple):
    key: str  # key of versions.CONNECT_ARTIFACT_SHA256
    build_arg: str  # the Dockerfile's ARG prefix (<PREFIX>_URL, <PREFIX>_SHA256)
    url: str
    sha256: str


def connect_artifacts() -> list[Artifact]:
    urls = {p["name"]: p["artifacts"][0]["url"] for p in plugins()}
    jmx = versions.JMX_PROMETHEUS_JAVAAGENT
    sums = versions.CONNECT_ARTIFACT_SHA256
    return [
        Artifact(
            "scylla-cdc-source-connector",
            "SCYLLA_CDC",
            urls["scylla-cdc-source-connector"],
            sums["scylla-cdc-source-connector"],
        ),
        Artifact(
            "kafka-connect-avro-converter",
            "AVRO_CONVERTER",
            urls["kafka-connect-avro-converter"],
            sums["kafka-connect-avro-converter"],
        ),
        Artifact(
            "jmx-prometheus-javaagent",
            "JMX_AGENT",
            f"{MAVEN_CENTRAL}/io/prometheus/jmx/jmx_prometheus_javaagent/{jmx}/jmx_prometheus_javaagent-{jmx}.jar",
            sums["jmx-prometheus-javaagent"],
        ),
    ]


def build_args() -> dict[str, str]:
    """The Dockerfile's build arguments: each file's URL and pinned SHA-256 (empty when unpinned)."""
    args: dict[str, str] = {}
    for a in connect_artifacts():
        args[f"{a.build_arg}_URL"] = a.url
        args[f"{a.build_arg}_SHA256"] = a.sha256
    return args


def unpinned() -> list[str]:
    return [a.key for a in connect_artifacts() if not a.sha256]


def main() -> int:
    print("CONNECT_ARTIFACT_SHA256: Final = {")
    for a in connect_artifacts():
        with urllib.request.urlopen(a.url, timeout=120) as resp:  # noqa: S310 (https URLs of versions.py)
            digest = hashlib.sha256(resp.read()).hexdigest()
        print(f'    "{a.key}": "{digest}",  # {a.url}')
    print("}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
