"""The local stack's plan (the real program under the mock runtime): seed 000's order as dependencies on
completed work, containers that follow their images, and no secret in plain text."""

from __future__ import annotations

import json

import pytest

from components.observability.local import SCRAPE_TARGETS, prometheus_config
from stacks.compose import local_services as svc

CONTAINER = "docker:index/container:Container"
COMMAND = "command:local:Command"
CONNECTOR = "pulumi-python:dynamic/local:Connector"

# seed 000 Deployment Procedures: Step 1 core, Step 2 schemas, Step 3 registry then Connect,
# Step 4 scylla-source then postgres-sink, Step 5 observability. (type, name) of each step's work.
SEED_ORDER: list[list[tuple[str, str]]] = [
    [(CONTAINER, "scylla"), (CONTAINER, "postgres"), (CONTAINER, "kafka")],
    [(COMMAND, "scylla-schema"), (COMMAND, "postgres-bootstrap")],
    [(CONTAINER, "schema-registry")],
    [(CONTAINER, "kafka-connect")],
    [(CONNECTOR, "scylla-source")],
    [(CONNECTOR, "postgres-sink")],
    [
        (CONTAINER, n)
        for n in ("prometheus", "alertmanager", "grafana", "jaeger", "kafka-exporter", "node-exporter")
    ],
]


def closure(resources, urn: str) -> set[str]:
    by_urn = {r.urn: r for r in resources}
    seen: set[str] = set()
    todo = list(by_urn[urn].dependencies)
    while todo:
        u = todo.pop()
        if u not in seen and u in by_urn:
            seen.add(u)
            todo.extend(by_urn[u].dependencies)
    return seen


def order_violations(resources, steps=SEED_ORDER) -> list[str]:
    """Each step's resources wait (transitively) for every resource of the step before."""
    index = {(r.type, r.name): r.urn for r in resources}
    out = []
    for before, after in zip(steps, steps[1:], strict=False):
        for item in after:
            if item not in index:
                out.append(f"{item[1]} is not declared")
                continue
            waits = closure(resources, index[item])
            out += [f"{item[1]} does not wait for {b[1]}" for b in before if index.get(b) not in waits]
    return out


@pytest.fixture(scope="module")
def plan(plan_of):
    return plan_of("local")


def test_seed_000_order_is_in_the_dependencies(plan):
    assert order_violations(plan.resources) == []


def test_the_order_check_catches_a_step_that_starts_too_early(plan):
    # The committed stack before this change: observability with no dependency, Connect after the
    # schema container's creation only. Here: drop every dependency of prometheus and of kafka-connect.
    import dataclasses

    broken = [
        dataclasses.replace(r, dependencies=()) if r.name in ("prometheus", "kafka-connect") else r
        for r in plan.resources
    ]
    found = order_violations(broken)
    assert "prometheus does not wait for postgres-sink" in found
    assert "kafka-connect does not wait for schema-registry" in found


def test_services_are_awaited_healthy_and_steps_are_commands(plan):
    for r in plan.of_type(CONTAINER):
        if r.inputs.get("healthcheck"):
            assert r.inputs["wait"] is True and r.inputs["mustRun"] is True, r.name
    healthy = {r.name for r in plan.of_type(CONTAINER) if r.inputs.get("healthcheck")}
    assert {"scylla", "postgres", "kafka", "schema-registry", "kafka-connect"} <= healthy
    steps = {r.name: r for r in plan.of_type(COMMAND)}
    assert set(steps) == {"scylla-schema", "postgres-bootstrap"}
    # The same CQL and SQL as the Kubernetes stacks, given on standard input.
    from components.dataplane.postgres.sql import bootstrap_sql
    from components.dataplane.scylla.cql import schema_cql

    settings = plan.settings
    assert steps["scylla-schema"].inputs["stdin"] == schema_cql(settings.scylla, {"datacenter1": 1})
    # The bootstrap's standard input carries the passwords before the script: secret as a whole; the
    # script it ends with is the one its trigger digests.
    from components.local.component import digest
    from stacks.compose import local_services as services

    assert steps["postgres-bootstrap"].inputs["stdin"] == "[secret]"
    assert services.postgres_bootstrap_script().startswith(bootstrap_sql())
    assert steps["postgres-bootstrap"].inputs["triggers"][0] == digest(services.postgres_bootstrap_script())
    assert (
        steps["postgres-bootstrap"].inputs["create"].startswith("docker run --rm -i --network pipeline-local")
    )


def test_postgres_health_passes_only_over_tcp(plan):
    # The image's init phase serves the Unix socket only: a TCP check cannot pass before it ends.
    [pg] = [r for r in plan.of_type(CONTAINER) if r.name == "postgres"]
    assert pg.inputs["healthcheck"]["tests"] == [
        "CMD-SHELL",
        "pg_isready -h 127.0.0.1 -p 5432 -U postgres -d postgres",
    ]


def test_containers_take_images_by_id_not_tag(plan):
    for r in plan.of_type(CONTAINER):
        assert str(r.inputs["image"]).startswith("sha256:"), (r.name, r.inputs["image"])
    [connect] = [r for r in plan.of_type(CONTAINER) if r.name == "kafka-connect"]
    [image] = plan.of_type("docker:index/image:Image")
    assert image.urn in connect.dependencies  # the built image's repo_digest, so a rebuild replaces it


def test_connect_image_build_gets_every_url_and_checksum(plan):
    [image] = plan.of_type("docker:index/image:Image")
    args = image.inputs["build"]["args"]
    for prefix in ("SCYLLA_CDC", "AVRO_CONVERTER", "JMX_AGENT"):
        assert args[f"{prefix}_URL"].startswith("https://") and f"{prefix}_SHA256" in args


def test_no_secret_in_plain_text(plan):
    from planner.mocks import _h

    text = json.dumps([r.to_json() for r in plan.resources]) + json.dumps(plan.outputs)
    for name in ("postgres-superuser", "postgres-sink", "grafana-admin"):
        value = ("m" + _h(name, n=63))[:32]  # what the mock's RandomPassword returns
        assert value not in text, name
    [connect] = [r for r in plan.of_type(CONTAINER) if r.name == "kafka-connect"]
    uploads = {u["file"]: u["content"] for u in connect.inputs["uploads"]}
    assert uploads[svc.SINK_SECRET_FILE] == "[secret]"
    [pg] = [r for r in plan.of_type(COMMAND) if r.name == "postgres-bootstrap"]
    # The passwords reach psql on standard input (secret), not through the environment.
    assert "environment" not in pg.inputs or not pg.inputs["environment"]
    assert pg.inputs["stdin"] == "[secret]"


def test_ports_are_seed_000s_on_loopback(plan):
    published = {p["external"]: p["ip"] for r in plan.of_type(CONTAINER) for p in r.inputs.get("ports", [])}
    # seed 000: Scylla 9042, PostgreSQL 5432, Schema Registry 8081, Connect 8083, Prometheus 9090,
    # Grafana 3000, Jaeger 16686 (Dashboard Access); Kafka's host listener 9094, Alertmanager 9093.
    assert {9042, 5432, 8081, 8083, 9090, 3000, 16686, 9094, 9093} <= set(published)
    assert set(published.values()) == {"127.0.0.1"}


def test_prometheus_scrapes_only_containers_that_serve_metrics(plan):
    [prom] = [r for r in plan.of_type(CONTAINER) if r.name == "prometheus"]
    uploads = {u["file"]: u["content"] for u in prom.inputs["uploads"]}
    config = uploads["/etc/prometheus/prometheus.yml"]
    assert config == prometheus_config("local")
    assert "schema-registry:8081" not in config  # its API port serves no metrics
    # every scrape target is a container of the plan
    hosts = {t.split(":")[0] for t in SCRAPE_TARGETS.values()} - {"localhost"}
    assert hosts <= {r.name for r in plan.of_type(CONTAINER)}
    [connect] = [r for r in plan.of_type(CONTAINER) if r.name == "kafka-connect"]
    assert any(
        e.startswith("KAFKA_OPTS=-javaagent:/kafka/libs/jmx_prometheus_javaagent")
        for e in connect.inputs["envs"]
    )


def test_named_volumes_survive_destroy_and_the_stateful_check_fails_without_it(plan_of):
    # Issue 11 item 10 (review B4): the local stack's data volumes are protected and retained on
    # delete, so `pulumi destroy -s local --exclude-protected` keeps the data unless it is removed by
    # hand (README); protect is what a policy pack sees (pulumi-policy sends no retain_on_delete).
    from planner.checks import stateful
    from planner.report import estate_json
    from tests.conftest import estate_of

    volumes = plan_of("local").of_type("docker:index/volume:Volume")
    assert len(volumes) == 5
    assert all(v.options.get("retainOnDelete") is True for v in volumes)
    assert all(v.options.get("protect") is True for v in volumes)
    data = estate_json(estate_of())
    local = data["stacks"]["local"]
    assert [f for f in stateful.run(data) if f.stack == "local"] == []
    for r in local["resources"]:
        if r["type"] == "docker:index/volume:Volume":
            r["options"] = {k: v for k, v in r["options"].items() if k not in ("retainOnDelete", "protect")}
    found = [f for f in stateful.run(data) if f.stack == "local"]
    assert len(found) == 5 and all("neither protected nor retained" in f.message for f in found)
