"""Protection of the Kubernetes data on the AWS stacks (issue 11, item 10): the ScyllaCluster, the
CloudNativePG Cluster, the Kafka cluster and its KafkaNodePools (each owns persistent volumes) and the
Scylla Manager release (its own ScyllaDB on a volume) are `protect`ed, so no rename, replacement or
`pulumi destroy` deletes them by accident. The plan does not record resource options, so this test
records `protect` from the registrations themselves (planner.runtime.run_plan's monitor)."""

from __future__ import annotations

import functools

import pytest

from planner.mocks import PlanMocks
from planner.runtime import RecordingMonitor, run_plan

STACKS = ["staging", "prod", "prod-dr"]
# (type, name) of every object that must be protected on every AWS stack.
STATEFUL = {
    ("kubernetes:scylla.scylladb.com/v1:ScyllaCluster", "scylla-cluster"),
    ("kubernetes:postgresql.cnpg.io/v1:Cluster", "postgres-cluster"),
    ("kubernetes:kafka.strimzi.io/v1:Kafka", "kafka-kafka"),
    ("kubernetes:kafka.strimzi.io/v1:KafkaNodePool", "kafka-controllers"),
    ("kubernetes:kafka.strimzi.io/v1:KafkaNodePool", "kafka-brokers"),
    ("kubernetes:helm.sh/v3:Release", "operators-scylla-manager"),
}
# Kinds whose objects own volumes (a new one of these must be in STATEFUL or protected).
VOLUME_KINDS = {"ScyllaCluster", "Cluster", "Kafka", "KafkaNodePool"}


class _OptionsMonitor(RecordingMonitor):
    def __init__(self, region: str) -> None:
        super().__init__(PlanMocks(region=region))
        self.protect: dict[tuple[str, str], bool] = {}

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        self.protect[(request.type, request.name)] = bool(request.protect)
        return super().RegisterResource(request)


@functools.cache
def _protect(stack: str) -> dict[tuple[str, str], bool]:
    import yaml

    from planner.runtime import REPO

    region = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]["aws:region"]
    monitor = _OptionsMonitor(region)
    run_plan(stack, monitor=monitor)
    return monitor.protect


def unprotected(protect: dict[tuple[str, str], bool], required: set[tuple[str, str]]) -> list[str]:
    """The required objects not registered, or registered without protect."""
    return [f"{t} {n}" for t, n in sorted(required) if not protect.get((t, n))]


@pytest.mark.parametrize("stack", STACKS)
def test_data_objects_are_protected(stack) -> None:
    protect = _protect(stack)
    assert unprotected(protect, STATEFUL) == []
    volume_objects = {
        (t, n) for (t, n) in protect if t.startswith("kubernetes:") and t.rsplit(":", 1)[-1] in VOLUME_KINDS
    }
    assert volume_objects <= STATEFUL, volume_objects - STATEFUL


def test_the_check_fails_on_an_unprotected_or_missing_object() -> None:
    protect = dict(_protect("staging"))
    protect[("kubernetes:kafka.strimzi.io/v1:Kafka", "kafka-kafka")] = False
    del protect[("kubernetes:postgresql.cnpg.io/v1:Cluster", "postgres-cluster")]
    assert unprotected(protect, STATEFUL) == [
        "kubernetes:kafka.strimzi.io/v1:Kafka kafka-kafka",
        "kubernetes:postgresql.cnpg.io/v1:Cluster postgres-cluster",
    ]


def test_what_holds_no_data_stays_unprotected() -> None:
    # Topics, users, jobs and operators are re-creatable: protecting them would block every rename.
    protect = _protect("staging")
    assert not protect[("kubernetes:batch/v1:Job", "scylla-schema-job")]
    assert not protect[("kubernetes:helm.sh/v3:Release", "operators-strimzi")]
