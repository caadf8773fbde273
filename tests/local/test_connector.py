"""The Connector resource's provider (components/local/connector.py over connect_rest.py) against an HTTP
server the test starts, standing in for a Kafka Connect worker's REST API: it records every call and
answers as the API documents (PUT .../config: 201 created, 200 updated; 404 for an unknown connector;
409 while rebalancing). Configs are the shared renderer's (components/connect/config.py)."""

from __future__ import annotations

import pytest

from components.local.connect_rest import ConnectClient, ConnectError
from components.local.connector import ConnectorProvider
from components.streaming.connect.config import sink_connector_config, source_connector_config
from stacks.compose import local_services as svc
from tests.local.support import FakeConnect, http_server
from tests.streaming.harness import settings_of


def _configs():
    settings = settings_of("local")
    source = source_connector_config(
        settings, contact_points="scylla:9042", schema_registry_url=svc.REGISTRY_URL
    )
    sink = sink_connector_config(
        settings,
        jdbc_url="jdbc:postgresql://postgres:5432/warehouse",
        username="cdc_sink",
        password=svc.SINK_PASSWORD_REF,
        schema_registry_url=svc.REGISTRY_URL,
    )
    return source, sink


def _props(url: str, config: dict[str, str], timeout_s: int = 30) -> dict:
    return {"connect_url": url, "name": config["name"], "config": config, "timeout_s": timeout_s}


@pytest.fixture
def worker():
    fake = FakeConnect()
    with http_server(fake) as rec:
        yield fake, rec


def test_create_puts_the_config_and_waits_for_all_tasks(worker):
    fake, rec = worker
    source, _ = _configs()
    result = ConnectorProvider().create(_props(rec.url, source))
    assert result.id == "scylla-source"
    # Pulumi.local.yaml source_tasks 4 (seed 000 Step 4: RUNNING (4/4 tasks))
    assert result.outs["status"] == "RUNNING (4/4 tasks)"
    assert rec.calls[0] == ("PUT", "/connectors/scylla-source/config", source)
    assert ("GET", "/connectors/scylla-source/status", None) in rec.calls
    assert fake.configs["scylla-source"] == source


def test_the_sink_config_holds_a_reference_not_the_password(worker):
    _, rec = worker
    _, sink = _configs()
    ConnectorProvider().create(_props(rec.url, sink))
    [(_, _, body)] = [c for c in rec.calls if c[0] == "PUT"]
    assert body["connection.password"] == "${file:/etc/pipeline/secrets/postgres-sink.properties:password}"


def test_update_is_a_put_of_the_new_config(worker):
    fake, rec = worker
    source, _ = _configs()
    provider = ConnectorProvider()
    old = provider.create(_props(rec.url, source)).outs
    changed = {**source, "tasks.max": "2"}
    new = _props(rec.url, changed)
    diff = provider.diff("scylla-source", old, new)
    assert diff.changes and not diff.replaces
    assert provider.diff("scylla-source", old, _props(rec.url, source)).changes is False
    rec.calls.clear()
    outs = provider.update("scylla-source", old, new).outs
    assert rec.calls[0] == ("PUT", "/connectors/scylla-source/config", changed)
    assert outs["status"] == "RUNNING (2/2 tasks)"
    assert fake.configs["scylla-source"]["tasks.max"] == "2"


def test_a_new_name_replaces_the_connector(worker):
    _, rec = worker
    source, _ = _configs()
    renamed = {**source, "name": "scylla-source-2"}
    diff = ConnectorProvider().diff("scylla-source", _props(rec.url, source), _props(rec.url, renamed))
    assert diff.replaces == ["name"] and diff.delete_before_replace


def test_a_failed_task_fails_the_step_with_its_trace(worker):
    fake, rec = worker
    _, sink = _configs()
    fake.states["postgres-sink"] = (
        "RUNNING",
        ["RUNNING", "FAILED", "RUNNING", "RUNNING"],
        "org.apache.kafka.connect.errors.ConnectException: Connection to postgres:5432 refused",
    )
    with pytest.raises(
        ConnectError, match=r"RUNNING \(3/4 tasks\)[\s\S]*Connection to postgres:5432 refused"
    ):
        ConnectorProvider().create(_props(rec.url, sink))


def test_a_rejected_config_fails_the_step_with_the_workers_message(worker):
    _, rec = worker
    bad = {"name": "scylla-source", "tasks.max": "1"}  # no connector.class
    with pytest.raises(ConnectError, match="HTTP 400: Missing required configuration connector.class"):
        ConnectorProvider().create(_props(rec.url, bad))


def test_a_rebalancing_worker_is_retried(worker):
    fake, rec = worker
    source, _ = _configs()
    fake.busy = 2
    client = ConnectClient(rec.url, sleep=lambda s: None)
    assert client.put_config("scylla-source", source) is True
    assert [c[0] for c in rec.calls] == ["PUT", "PUT", "PUT"]
    assert client.put_config("scylla-source", source) is False  # the second PUT updates (200)


def test_too_few_tasks_until_the_deadline_fails(worker):
    fake, rec = worker
    source, _ = _configs()
    fake.states["scylla-source"] = ("RUNNING", ["RUNNING", "UNASSIGNED"], "")
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    client = ConnectClient(rec.url, sleep=sleep, clock=lambda: now[0])
    client.put_config("scylla-source", source)
    with pytest.raises(
        ConnectError, match=r"not RUNNING with 4/4 tasks after 30 s \(last seen: RUNNING \(1/2 tasks\)\)"
    ):
        client.wait_running("scylla-source", 4, timeout_s=30)


def test_read_and_delete(worker):
    fake, rec = worker
    source, _ = _configs()
    provider = ConnectorProvider()
    props = provider.create(_props(rec.url, source)).outs
    read = provider.read("scylla-source", props)
    assert read.id == "scylla-source" and read.outs["config"] == source
    provider.delete("scylla-source", props)
    assert ("DELETE", "/connectors/scylla-source", None) in rec.calls and not fake.configs
    provider.delete("scylla-source", props)  # already gone: deleting again is not an error
    assert provider.read("scylla-source", props).id == ""  # refresh drops a connector deleted outside


def test_the_provider_module_is_free_of_pulumi():
    import ast
    from pathlib import Path

    tree = ast.parse(Path("components/local/connect_rest.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "pulumi" not in imported
