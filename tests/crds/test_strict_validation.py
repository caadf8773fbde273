"""The strict CRD validator itself: it must reject what a cluster would prune or refuse, or every
custom-resource test built on it proves nothing."""

from __future__ import annotations

import pytest

from tests.support.crds import known_kinds, schema_errors, validate_custom_resource

TOPIC = {
    "apiVersion": "kafka.strimzi.io/v1",
    "kind": "KafkaTopic",
    "metadata": {"name": "cdc.scylla.app_data.users", "labels": {"strimzi.io/cluster": "pipeline"}},
    "spec": {"partitions": 12, "replicas": 3, "config": {"retention.ms": 604800000}},
}


def test_a_valid_resource_passes():
    validate_custom_resource(TOPIC)


def test_an_unknown_field_is_an_error():
    bad = {**TOPIC, "spec": {**TOPIC["spec"], "partitons": 12}}
    errors = schema_errors(bad)
    assert any("partitons" in e for e in errors), errors


def test_a_wrong_type_is_an_error():
    bad = {**TOPIC, "spec": {**TOPIC["spec"], "partitions": "twelve"}}
    assert any(e.startswith("spec.partitions") for e in schema_errors(bad))


def test_free_form_maps_stay_open():
    # KafkaTopic spec.config is x-kubernetes-preserve-unknown-fields: any broker config key is allowed.
    ok = {
        **TOPIC,
        "spec": {**TOPIC["spec"], "config": {"cleanup.policy": "compact", "min.insync.replicas": 2}},
    }
    assert schema_errors(ok) == []


def test_an_unknown_kind_or_version_is_an_error():
    with pytest.raises(AssertionError, match="no CRD schema"):
        validate_custom_resource({**TOPIC, "apiVersion": "kafka.strimzi.io/v1beta2"})


def test_the_pinned_operators_are_all_there():
    kinds = {kind for _, kind in known_kinds()}
    assert {
        "Kafka",
        "KafkaNodePool",
        "KafkaConnect",
        "KafkaConnector",
        "KafkaTopic",
        "KafkaUser",
        "KafkaMirrorMaker2",
        "ScyllaCluster",
        "Cluster",
        "ScheduledBackup",
        "ObjectStore",
        "PrometheusRule",
        "PodMonitor",
        "ServiceMonitor",
        "OpenTelemetryCollector",
    } <= kinds


def test_the_lock_file_blob_ids_match_the_crd_files():
    # scripts/fetch-crds.sh trusts tests/crds/crds.lock; the lock must match the folder the tests use.
    import subprocess
    from pathlib import Path

    from tests.support.crds import crds_dir

    lock = Path(__file__).with_name("crds.lock")
    rows = [line.split() for line in lock.read_text().splitlines() if line and not line.startswith("#")]
    folder = crds_dir()
    for file, _repo, _commit, _path, blob in rows:
        got = subprocess.run(
            ["git", "hash-object", str(folder / file)], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert got == blob, file


def test_value_only_branches_stay_open():
    # Strimzi trustedCertificates items: oneOf [certificate] / [pattern] beside secretName, which only
    # the parent declares. A closed branch would reject every valid entry.
    connect = {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaConnect",
        "metadata": {"name": "c"},
        "spec": {
            "replicas": 1,
            "bootstrapServers": "k:9093",
            "groupId": "g",
            "configStorageTopic": "a",
            "offsetStorageTopic": "b",
            "statusStorageTopic": "c",
            "tls": {"trustedCertificates": [{"secretName": "ca", "certificate": "ca.crt"}]},
        },
    }
    assert schema_errors(connect) == []
    typo = {
        **connect,
        "spec": {
            **connect["spec"],
            "tls": {"trustedCertificates": [{"secretNme": "ca", "certificate": "ca.crt"}]},
        },
    }
    assert any("secretNme" in e for e in schema_errors(typo))
