"""`make local-check` (components/local/health.py, planner/local_check.py) against small servers the test
starts: a real PostgreSQL 15 for the warehouse side (psql runs for real), and one HTTP server standing
in for the REST APIs (Kafka Connect, Schema Registry, Prometheus, Alertmanager, Grafana, Jaeger).

ScyllaDB and Kafka cannot run here. The check reaches them through commands (cqlsh and docker inspect
on a Docker host), so the test substitutes those two: a recording CQL client that, standing in for
ScyllaDB and the two connectors, copies an INSERT into cdc_data.<table> of the test's PostgreSQL the
way the JDBC sink would; and a container-health answer for Kafka. What this proves is the check's own
logic (what it asks, what it accepts, what it rejects), not that the pipeline replicates: only a
Docker host running the stack shows that."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence

import pytest

from components.local.health import CommandFailed, Target, check, replication
from components.observability.rules import alerts
from planner.local_check import expectations
from stacks.compose import local_services as svc
from tests.local.support import FakeConnect, http_server, postgres15
from tests.streaming.harness import settings_of

pytestmark = pytest.mark.engine

_INSERT = re.compile(r"INSERT INTO (\w+)\.(\w+) \(([^)]*)\) VALUES \((.*)\);$")


class Stack:
    """The REST side of a healthy stack; a test breaks one part of it."""

    def __init__(self) -> None:
        self.connect = FakeConnect()
        self.alerts = [a["alert"] for a in alerts()]
        self.targets = [{"labels": {"job": j}, "health": "up"} for j in ("prometheus", "kafka-connect")]
        self.down: set[str] = set()

    def __call__(self, method: str, path: str, body):
        base = path.split("?")[0]
        if base in self.down:
            return 503, {"message": "unavailable"}
        if base == "/" or base.startswith("/connectors"):
            return self.connect(method, path, body)
        if base == "/subjects":
            return 200, ["cdc.scylla.app_data.users-value"]
        if base in ("/-/ready", "/api/health"):
            return 200, {"database": "ok"}
        if base == "/api/v1/rules":
            rules = [{"name": a, "type": "alerting"} for a in self.alerts]
            return 200, {"status": "success", "data": {"groups": [{"name": "g", "rules": rules}]}}
        if base == "/api/v1/targets":
            return 200, {"status": "success", "data": {"activeTargets": self.targets}}
        return 404, None


class Runner:
    """cqlsh and docker inspect stood in; psql run for real against the test's PostgreSQL."""

    def __init__(self, pg, *, replicate: bool = True, kafka: str = "healthy") -> None:
        self.pg, self.replicate, self.kafka = pg, replicate, kafka
        self.cql: list[str] = []

    def __call__(self, argv: Sequence[str]) -> str:
        argv = list(argv)
        if argv[0] == "cqlsh":
            statement = argv[-1]
            self.cql.append(statement)
            m = _INSERT.match(statement)
            if m and self.replicate:  # what scylla-source and postgres-sink would do with the row
                _, table, cols, vals = m.groups()
                columns = [c.strip() for c in cols.split(",")]
                values = [
                    v.strip() if v.strip().startswith("'") else f"'{v.strip()}'" for v in vals.split(", ")
                ]
                defs = ", ".join(f"{c} text" for c in columns)
                self._psql(
                    f"CREATE TABLE IF NOT EXISTS cdc_data.{table} ({defs}); "
                    f"INSERT INTO cdc_data.{table} ({cols}) VALUES ({', '.join(values)})"
                )
            return ""
        if argv[:2] == ["docker", "inspect"]:
            return self.kafka + "\n"
        proc = subprocess.run(
            argv, capture_output=True, text=True, env=self.pg.env(), timeout=60, check=False
        )
        if proc.returncode != 0:
            raise CommandFailed(proc.stderr.strip())
        return proc.stdout

    def _psql(self, sql: str) -> None:
        run = self.pg.sql(sql, db="warehouse")
        assert run.returncode == 0, run.stderr


@pytest.fixture(scope="module")
def pg():
    with postgres15() as server:
        script = svc.postgres_bootstrap_script()
        shell = svc.postgres_bootstrap_shell(host="127.0.0.1", port=server.port, workdir=str(server.root))
        run = subprocess.run(
            ["sh", "-ec", shell],
            input=f"{server.superuser_password}\nsink-pw\n{script}",
            capture_output=True,
            text=True,
            timeout=120,
            env={k: v for k, v in server.env().items() if k != "PGPASSWORD"},
            check=False,
        )
        assert run.returncode == 0, run.stderr
        yield server


@pytest.fixture
def stack():
    fake = Stack()
    with http_server(fake) as rec:
        yield fake, rec


def _register(fake: Stack, settings) -> None:
    exp = expectations(settings)
    for name, tasks in exp.connectors.items():
        fake.connect.configs[name] = {"name": name, "connector.class": "x", "tasks.max": str(tasks)}


def _target(rec, pg, runner) -> Target:
    u = rec.url
    return Target(
        connect_url=u,
        registry_url=u,
        prometheus_url=u,
        alertmanager_url=u,
        grafana_url=u,
        jaeger_url=u,
        cqlsh=("cqlsh",),
        psql=pg.psql_prefix + ("-w",),
        runner=runner,
        http_timeout=5,
    )


def test_a_healthy_stack_passes_every_check(pg, stack):
    fake, rec = stack
    settings = settings_of("local")
    _register(fake, settings)
    runner = Runner(pg)
    results = check(_target(rec, pg, runner), expectations(settings, timeout_s=20))
    lines = [r.line() for r in results]
    assert all(r.ok for r in results), lines
    # seed 000 Step 1 and Step 4 expected output, with Pulumi.local.yaml's 4 tasks per connector
    for expected in (
        "[✓] ScyllaDB is healthy",
        "[✓] PostgreSQL is healthy",
        "[✓] Kafka is healthy",
        "[✓] Connector 'scylla-source' is RUNNING (4/4 tasks)",
        "[✓] Connector 'postgres-sink' is RUNNING (4/4 tasks)",
    ):
        assert expected in lines
    assert f"[✓] {len(alerts())} alert rules loaded" in lines
    assert any(line.startswith("[✓] a row written to ScyllaDB app_data.users arrived") for line in lines)
    [insert] = [s for s in runner.cql if s.startswith("INSERT")]
    assert insert.startswith("INSERT INTO app_data.users (user_id, email) VALUES (")


def test_each_failure_is_reported(pg, stack):
    fake, rec = stack
    settings = settings_of("local")
    _register(fake, settings)
    fake.connect.states["postgres-sink"] = ("RUNNING", ["RUNNING"] * 3 + ["FAILED"], "ConnectException: boom")
    fake.alerts = fake.alerts[1:]
    fake.targets.append({"labels": {"job": "kafka-exporter"}, "health": "down", "lastError": "refused"})
    fake.down.add("/subjects")
    runner = Runner(pg, kafka="unhealthy")
    results = check(_target(rec, pg, runner), expectations(settings, timeout_s=20))
    failed = [r.text for r in results if not r.ok]
    assert "Kafka is unhealthy" in failed
    assert any(t.startswith("Schema Registry: GET") and "503" in t for t in failed)
    assert "Connector 'postgres-sink' is RUNNING (3/4 tasks): ConnectException: boom" in failed
    assert f"alert rules not loaded: {alerts()[0]['alert']}" in failed
    assert "targets not up: kafka-exporter (refused)" in failed
    assert len(failed) == 5, failed


def test_a_row_that_never_arrives_fails_at_the_deadline(pg, stack):
    fake, rec = stack
    settings = settings_of("local")
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    result = replication(
        _target(rec, pg, Runner(pg, replicate=False)),
        expectations(settings, timeout_s=30),
        sleep=sleep,
        clock=lambda: now[0],
    )
    assert not result.ok and "not in PostgreSQL after 30 s" in result.text


def test_an_unregistered_connector_fails(pg, stack):
    _, rec = stack
    results = check(_target(rec, pg, Runner(pg)), expectations(settings_of("local"), timeout_s=20))
    failed = [r.text for r in results if not r.ok]
    assert failed == [
        "Connector 'scylla-source' is not registered",
        "Connector 'postgres-sink' is not registered",
    ]


def test_cli_rejects_a_stack_that_is_not_docker(capsys):
    from planner.local_check import main

    assert main(["--stack", "prod"]) == 2
    assert "local-check runs against a docker stack" in capsys.readouterr().err
