"""lib/versions.py states each version once, under a Renovate marker that renovate.json's regex manager
reads; image references and charts are derived from the constants; no version is written again in
lib/versions.py's other values, in the code (components/, stacks/, planner/) or in the stack files.
Each check is also run on a fixture that breaks it."""

from __future__ import annotations

import re

import pytest

from lib import versions
from tests.versions import scan

SOURCE = scan.VERSIONS.read_text()
CONFIG = scan.load_renovate()
FILE_PATTERNS, MATCH_STRINGS = scan.renovate_patterns(CONFIG)
PINS, PROBLEMS = scan.read_pins(SOURCE, MATCH_STRINGS)
BY_NAME = {p.name: p for p in PINS}

# A fixture: one pin under its marker, then the same version repeated in an image reference.
_MARKED = (
    "# renovate: datasource=docker depName=docker.io/apache/kafka versioning=docker\n"
    'KAFKA: Final = "4.1.0"\n'
)


def test_renovate_reads_lib_versions():
    assert CONFIG["customManagers"], "renovate.json has no custom manager"
    assert any(p.search("lib/versions.py") for p in FILE_PATTERNS)
    assert not any(p.search("components/versions.py") for p in FILE_PATTERNS)
    assert "custom.regex" in CONFIG["enabledManagers"]


def test_every_pin_has_a_marker_renovate_reads():
    assert PROBLEMS == []
    # The pins the components import, each found by Renovate's own regex with its current value.
    for name in ("EKS_VERSION", "STRIMZI_VERSION", "KAFKA_VERSION", "POSTGRES_VERSION",
                 "DEBEZIUM_JDBC_SINK", "CONFLUENT_AVRO_CONVERTER", "NODE_EXPORTER_VERSION"):
        assert BY_NAME[name].value == getattr(versions, name)
    assert len(PINS) >= 25


def test_markers_name_real_datasources():
    known = {"docker", "helm", "maven", "github-releases", "endoflife-date", "aws-eks-addon"}
    assert {p.marker["datasource"] for p in PINS} <= known
    maven = [p for p in PINS if p.marker["datasource"] == "maven"]
    assert maven and all(re.fullmatch(r"[\w.-]+:[\w.-]+", p.marker["depName"]) for p in maven)


def test_a_constant_without_marker_is_found():
    source = _MARKED + 'SCHEMA_REGISTRY: Final = "7.9.2"\nREPO: Final = "https://charts.jetstack.io"\n'
    pins, problems = scan.read_pins(source, MATCH_STRINGS)
    assert [p.name for p in pins] == ["KAFKA"]
    assert problems == ["lib/versions.py:3: SCHEMA_REGISTRY = '7.9.2' has no renovate marker"]


def test_a_marker_renovate_cannot_read_is_found():
    # "depname" (lower case) does not match the manager's regex: Renovate would skip the pin silently.
    source = '# renovate: datasource=docker depname=docker.io/apache/kafka\nKAFKA: Final = "4.1.0"\n'
    _, problems = scan.read_pins(source, MATCH_STRINGS)
    assert any("a marker Renovate does not read" in p for p in problems)
    assert any("KAFKA = '4.1.0' has no renovate marker" in p for p in problems)


def test_no_version_is_repeated_in_lib_versions():
    assert scan.repeats_in_versions(SOURCE, PINS) == []


def test_a_repeated_version_in_lib_versions_is_found():
    source = _MARKED + 'IMAGES = {"k": "docker.io/apache/kafka:4.1.0", "x": f"quay.io/x:1.2.0-kafka-4.1.0"}\n'
    pins, _ = scan.read_pins(source, MATCH_STRINGS)
    found = scan.repeats_in_versions(source, pins)
    assert len(found) == 2 and all("repeats KAFKA (4.1.0)" in f for f in found)


@pytest.mark.parametrize(
    ("text", "hit"),
    [("docker.io/apache/kafka:4.1.0", True), ("1.2.0-kafka-4.1.0", True), ("v4.1.0", True),
     ("Kafka 4.1.0.", True), ("14.1.0", False), ("4.1.01", False), ("4.1.0.1", False), ("4.1", False)],
)
def test_a_version_is_matched_as_a_token(text, hit):
    assert bool(scan.version_pattern("4.1.0").search(text)) is hit


def test_code_and_stack_files_read_versions_from_lib():
    files = scan.scanned_files()
    assert any(f.name == "manifests.py" for f in files) and any(f.name == "Pulumi.prod.yaml" for f in files)
    found = [
        hit
        for f in files
        for hit in scan.repeats_in_file(str(f.relative_to(scan.REPO)), f.read_text(), PINS)
    ]
    assert found == []


def test_a_version_literal_in_code_is_found():
    code = 'IMAGE = "docker.io/apache/kafka:4.1.0"\nOTHER = f"{versions.KAFKA_VERSION}"\n'
    found = scan.repeats_in_file("components/x.py", code, [BY_NAME["KAFKA_VERSION"]])
    assert found == [
        "components/x.py:1: 'docker.io/apache/kafka:4.1.0' repeats KAFKA_VERSION (4.1.0); "
        "use lib.versions.KAFKA_VERSION"
    ]
    stack = "config:\n  pipeline-infra:cluster.version: '1.33'\n"
    assert scan.repeats_in_file("Pulumi.prod.yaml", stack, [BY_NAME["EKS_VERSION"]])


def test_chart_markers_name_the_chart_they_pin():
    # A helm marker's chart and repository, or an OCI chart's artifact, are the Chart's own.
    charts = [v for v in vars(versions).values() if isinstance(v, versions.Chart)]
    chart_pins = [p for p in PINS if p.marker["datasource"] in ("helm", "docker")]
    assert len(charts) == 8
    for chart in charts:
        marker = next(p.marker for p in chart_pins if p.value == chart.version)
        if chart.repo.startswith("oci://"):
            assert marker["datasource"] == "docker"
            assert marker["depName"] == f"{chart.repo.removeprefix('oci://')}/{chart.name}"
        elif marker["depName"] == chart.name:
            assert marker["registryUrl"] == chart.repo
        else:  # a chart released with another (the Scylla Manager chart with the operator's)
            assert chart.repo == next(c.repo for c in charts if c.name == marker["depName"])


def test_image_markers_name_the_image_they_pin():
    images = [*versions.IMAGES.values(), versions.POSTGRES_IMAGE]
    for pin in (p for p in PINS if p.marker["datasource"] == "docker"):
        for ref in images:
            repository, tag = ref.rsplit(":", 1)
            if repository == pin.marker["depName"]:
                assert scan.version_pattern(pin.value).search(tag), (pin.name, ref)
    repositories = {ref.rsplit(":", 1)[0] for ref in images}
    # Kafka, ScyllaDB, PostgreSQL and Grafana: the marker is the image the stacks run.
    assert {BY_NAME[n].marker["depName"] for n in
            ("KAFKA_VERSION", "SCYLLA_VERSION", "POSTGRES_VERSION", "GRAFANA_VERSION")} <= repositories


def test_only_marker_lines_exceed_the_line_length():
    # pyproject lets lib/versions.py's lines be long for the one-line markers only.
    long = [line for line in SOURCE.splitlines() if len(line) > 110 and not line.startswith("# renovate: ")]
    assert long == []
