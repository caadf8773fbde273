"""Seed 000's health-check.sh and test-replication.sh for the running local stack (pure: no Pulumi
import; standard library only).

Checks, in seed 000's order (Health Checks; Deployment Step 1, Step 4, Step 6):
- each component healthy: ScyllaDB answers `SELECT now() FROM system.local`, PostgreSQL answers on
  `warehouse`, Kafka's container health check (kafka-broker-api-versions) passes, Schema Registry
  lists subjects, the Connect worker answers, Prometheus, Alertmanager, Grafana and Jaeger are ready;
- connectors RUNNING with all their tasks ("Connector 'scylla-source' is RUNNING (4/4 tasks)");
- Prometheus has loaded every alert rule of components/observability/alerts.yaml, and every scrape
  target is up;
- end to end: a row written to ScyllaDB arrives in PostgreSQL (cdc_data.<table>).

The ScyllaDB, PostgreSQL and container probes are commands (`docker exec ... cqlsh`, `docker exec
... psql`, `docker inspect`), so that another runner can stand in for them: tests run psql against
a PostgreSQL of their own and put a recording client in place of cqlsh.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.local.connect_rest import ConnectClient, ConnectError

Run = Callable[[Sequence[str]], str]  # argv -> stdout; raises CommandFailed on a non-zero exit


class CommandFailed(RuntimeError):
    pass


def run(argv: Sequence[str]) -> str:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise CommandFailed(f"{argv[0]} exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()}")
    return proc.stdout


@dataclass(frozen=True)
class Result:
    ok: bool
    text: str

    def line(self) -> str:
        return f"[{'✓' if self.ok else '✗'}] {self.text}"


@dataclass(frozen=True)
class Target:
    """Where the stack is, and how to reach its data stores."""

    connect_url: str = "http://127.0.0.1:8083"
    registry_url: str = "http://127.0.0.1:8081"
    prometheus_url: str = "http://127.0.0.1:9090"
    alertmanager_url: str = "http://127.0.0.1:9093"
    grafana_url: str = "http://127.0.0.1:3000"
    jaeger_url: str = "http://127.0.0.1:16686"
    # argv prefixes; the check appends its own arguments
    cqlsh: tuple[str, ...] = ("docker", "exec", "pipeline-scylla", "cqlsh")
    psql: tuple[str, ...] = ("docker", "exec", "pipeline-postgres", "psql", "-U", "postgres")
    inspect: tuple[str, ...] = ("docker", "inspect", "-f", "{{.State.Health.Status}}")
    kafka_container: str = "pipeline-kafka"
    runner: Run = run
    http_timeout: float = 5.0


@dataclass(frozen=True)
class Expectations:
    """What a healthy stack has: from the settings and the rule data."""

    connectors: dict[str, int]  # name -> tasks.max
    keyspace: str
    table: str
    key: str  # primary key column (uuid or text)
    key_type: str
    text_column: str | None
    alerts: tuple[str, ...]
    sink_schema: str = "cdc_data"
    replication_timeout_s: float = 120.0
    poll_s: float = 2.0
    extra: dict[str, Any] = field(default_factory=dict)


def _get(url: str, timeout: float) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback http)
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as err:
        return 0, str(err)


def _http(name: str, url: str, t: Target) -> Result:
    code, body = _get(url, t.http_timeout)
    return Result(
        code == 200, f"{name} is healthy" if code == 200 else f"{name}: GET {url} -> {code} {body[:200]}"
    )


def _sql(t: Target, db: str, statement: str) -> str:
    return t.runner(
        [*t.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", statement]
    ).strip()


def _cql(t: Target, statement: str) -> str:
    return t.runner([*t.cqlsh, "-e", statement])


def components(t: Target) -> list[Result]:
    out: list[Result] = []
    try:
        _cql(t, "SELECT now() FROM system.local")
        out.append(Result(True, "ScyllaDB is healthy"))
    except CommandFailed as err:
        out.append(Result(False, f"ScyllaDB: {err}"))
    try:
        answer = _sql(t, "warehouse", "SELECT 1")
        out.append(
            Result(answer == "1", "PostgreSQL is healthy" if answer == "1" else f"PostgreSQL: {answer}")
        )
    except CommandFailed as err:
        out.append(Result(False, f"PostgreSQL: {err}"))
    try:
        state = t.runner([*t.inspect, t.kafka_container]).strip()
        out.append(
            Result(state == "healthy", "Kafka is healthy" if state == "healthy" else f"Kafka is {state}")
        )
    except CommandFailed as err:
        out.append(Result(False, f"Kafka: {err}"))
    out.append(_http("Schema Registry", f"{t.registry_url}/subjects", t))
    out.append(_http("Kafka Connect", f"{t.connect_url}/", t))
    out.append(_http("Prometheus", f"{t.prometheus_url}/-/ready", t))
    out.append(_http("Alertmanager", f"{t.alertmanager_url}/-/ready", t))
    out.append(_http("Grafana", f"{t.grafana_url}/api/health", t))
    out.append(_http("Jaeger", f"{t.jaeger_url}/", t))
    return out


def connectors(t: Target, e: Expectations) -> list[Result]:
    client = ConnectClient(t.connect_url, timeout=t.http_timeout)
    out = []
    for name, tasks in e.connectors.items():
        try:
            status = client.status(name, retry_s=0)
        except ConnectError as err:
            out.append(Result(False, f"Connector '{name}': {err}"))
            continue
        if status is None:
            out.append(Result(False, f"Connector '{name}' is not registered"))
            continue
        ok = status.state == "RUNNING" and len(status.tasks) == tasks and status.running == tasks
        text = f"Connector '{name}' is {status.state} ({status.running}/{tasks} tasks)"
        out.append(Result(ok, text if ok or not status.trace else f"{text}: {status.trace.splitlines()[0]}"))
    return out


def alert_rules(t: Target, e: Expectations) -> list[Result]:
    code, body = _get(f"{t.prometheus_url}/api/v1/rules?type=alert", t.http_timeout)
    if code != 200:
        return [Result(False, f"Prometheus rules: HTTP {code}")]
    loaded = {r.get("name") for g in json.loads(body)["data"]["groups"] for r in g.get("rules", [])}
    missing = sorted(set(e.alerts) - loaded)
    rules = Result(
        not missing,
        f"{len(e.alerts)} alert rules loaded"
        if not missing
        else f"alert rules not loaded: {', '.join(missing)}",
    )
    code, body = _get(f"{t.prometheus_url}/api/v1/targets?state=active", t.http_timeout)
    if code != 200:
        return [rules, Result(False, f"Prometheus targets: HTTP {code}")]
    targets = json.loads(body)["data"]["activeTargets"]
    down = sorted(
        f"{x['labels'].get('job')} ({x.get('lastError') or x.get('health')})"
        for x in targets
        if x.get("health") != "up"
    )
    up = Result(
        bool(targets) and not down,
        f"{len(targets)} scrape targets up"
        if targets and not down
        else f"targets not up: {', '.join(down) or 'none'}",
    )
    return [rules, up]


def _literal(key_type: str, value: str) -> str:
    return value if key_type == "uuid" else "'" + value.replace("'", "''") + "'"


def replication(
    t: Target,
    e: Expectations,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Result:
    """Seed 000 Step 6 (test-replication.sh): INSERT into ScyllaDB, then wait for the row in PostgreSQL."""
    if e.key_type not in ("uuid", "text"):
        return Result(False, f"replication test needs a uuid or text key ({e.table}.{e.key} is {e.key_type})")
    marker = str(uuid.uuid4())
    columns, values = [e.key], [_literal(e.key_type, marker)]
    if e.text_column:
        columns.append(e.text_column)
        values.append(_literal("text", f"pipeline-check {marker}"))
    insert = f"INSERT INTO {e.keyspace}.{e.table} ({', '.join(columns)}) VALUES ({', '.join(values)});"
    try:
        _cql(t, insert)
    except CommandFailed as err:
        return Result(False, f"replication: write to ScyllaDB failed: {err}")
    query = f"SELECT count(*) FROM {e.sink_schema}.{e.table} WHERE {e.key}::text = '{marker}'"
    start = clock()
    deadline = start + e.replication_timeout_s
    last = ""
    while True:
        try:
            last = _sql(t, "warehouse", query)
            if last == "1":
                return Result(
                    True,
                    f"a row written to ScyllaDB {e.keyspace}.{e.table} arrived in "
                    f"PostgreSQL {e.sink_schema}.{e.table} after {clock() - start:.0f} s",
                )
        except CommandFailed as err:  # the sink creates the table with the first record
            last = str(err).splitlines()[0]
        if clock() >= deadline:
            return Result(
                False,
                f"replication: {e.key} {marker} not in PostgreSQL after "
                f"{e.replication_timeout_s:.0f} s (last: {last})",
            )
        sleep(e.poll_s)


def check(t: Target, e: Expectations, **kw: Any) -> list[Result]:
    return [*components(t), *connectors(t, e), *alert_rules(t, e), replication(t, e, **kw)]
