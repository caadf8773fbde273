"""One-shot work on the AWS stacks: the schema and bootstrap Jobs run once per version of their script
(the digest in the name and pod template, no TTL), and the Scylla agents' workload identity exists
before the ScyllaDB pods (issue 11, item 11)."""

from __future__ import annotations

import dataclasses

import pytest

from lib.kube.jobs import digest_name, script_digest
from tests.support.kube_checks import JOB, identity_before_pods, one_shot_job_problems

AWS = ["staging", "prod", "prod-dr", ("prod-dr", {"dr.role": "primary"})]


def _plan(plan_of, stack):
    return plan_of(*stack) if isinstance(stack, tuple) else plan_of(stack)


def test_digest_follows_every_file_and_its_name() -> None:
    base = script_digest({"schema.cql": "CREATE KEYSPACE a;"})
    assert script_digest({"schema.cql": "CREATE KEYSPACE a;"}) == base
    assert script_digest({"schema.cql": "CREATE KEYSPACE b;"}) != base
    assert script_digest({"other.cql": "CREATE KEYSPACE a;"}) != base
    # Name/content boundaries are part of the digest: ("ab", "c") is not ("a", "bc").
    assert script_digest({"ab": "c"}) != script_digest({"a": "bc"})
    name = digest_name("x" * 80, base)
    assert len(name) <= 63 and name.endswith("-" + base[:10])


@pytest.mark.parametrize("stack", AWS, ids=str)
def test_jobs_run_once_per_script(plan_of, stack) -> None:
    plan = _plan(plan_of, stack)
    jobs = plan.of_type(JOB)
    assert jobs, "the stack declares its schema/bootstrap Jobs"
    assert one_shot_job_problems(plan.resources) == []


def test_a_changed_schema_is_a_new_job_and_an_unchanged_one_is_not(plan_of) -> None:
    def names(plan):
        return {r.name: r.inputs["metadata"]["name"] for r in plan.of_type(JOB)}

    before = names(plan_of("staging"))
    assert names(plan_of("staging")) == before
    after = names(plan_of("staging", {"scylla.replication_factor": 2}))
    assert after["scylla-schema-job"] != before["scylla-schema-job"]
    # The bootstrap SQL did not change: its Job keeps its name (not re-run).
    assert after["postgres-bootstrap-job"] == before["postgres-bootstrap-job"]


def test_the_job_check_fails_on_a_ttl_a_fixed_name_and_a_mutable_script(plan_of) -> None:
    plan = plan_of("staging")
    job = plan.named("scylla-schema-job")
    cm = plan.named("scylla-schema")
    spec = dict(job.inputs["spec"], ttlSecondsAfterFinished=86400)
    bad_job = dataclasses.replace(
        job, inputs=dict(job.inputs, spec=spec, metadata=dict(job.inputs["metadata"], name="scylla-schema"))
    )
    bad_cm = dataclasses.replace(cm, inputs={k: v for k, v in cm.inputs.items() if k != "immutable"})
    problems = one_shot_job_problems([bad_job, bad_cm])
    assert any("ttlSecondsAfterFinished" in p for p in problems)
    assert any("digest" in p and "name" in p for p in problems)
    assert any("not immutable" in p for p in problems)
    edited = dataclasses.replace(cm, inputs=dict(cm.inputs, data={"schema.cql": "-- changed"}))
    assert any("digest" in p for p in one_shot_job_problems([job, edited]))


@pytest.mark.parametrize("stack", AWS, ids=str)
def test_scylla_backup_identity_exists_before_the_pods(plan_of, stack) -> None:
    plan = _plan(plan_of, stack)
    cluster = plan.named("scylla-cluster")
    assert identity_before_pods(plan.resources, cluster.urn, "scylla/scylla-member") == []
    assert not plan.of_type("kubernetes:core/v1:ServiceAccountPatch")


def test_the_identity_check_fails_when_the_cluster_does_not_wait(plan_of) -> None:
    plan = plan_of("staging")
    cluster = plan.named("scylla-cluster")
    account = plan.named("scylla-member-service-account")
    sa = "scylla/scylla-member"
    deps = tuple(d for d in cluster.dependencies if d != account.urn)
    eager = dataclasses.replace(cluster, dependencies=deps)
    others = [r for r in plan.resources if r.urn != cluster.urn]
    assert any("does not wait" in p for p in identity_before_pods([*others, eager], cluster.urn, sa))
    bare = {"metadata": {"name": "scylla-member", "namespace": "scylla"}}
    unannotated = dataclasses.replace(account, inputs=bare)
    rest = [r for r in plan.resources if r.urn != account.urn]
    assert any("IRSA" in p for p in identity_before_pods([*rest, unannotated], cluster.urn, sa))
