"""Kafka Connect REST calls of a managed connector (pure: no Pulumi import, standard library only).

What a connector resource does with the worker's REST API (Apache Kafka documentation, "Kafka Connect
REST Interface"):

- create/update: `PUT /connectors/<name>/config` with the config map. The call is idempotent: it
  creates the connector when missing and replaces its config otherwise (201 created, 200 updated).
- wait: `GET /connectors/<name>/status` until the connector and all of its tasks are RUNNING and
  there are as many tasks as asked (seed 000 Step 4: "RUNNING (4/4 tasks)"). A FAILED connector or
  task ends the wait at once with its trace.
- read: `GET /connectors/<name>/config` (404: the connector is gone).
- delete: `DELETE /connectors/<name>` (404 counts as deleted; offsets are kept, seed 000 Delete
  Connector).

A worker that is rebalancing answers 409; those calls are retried until the deadline.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RUNNING = "RUNNING"
FAILED = "FAILED"


class ConnectError(RuntimeError):
    """A connector call that failed, with what the worker answered."""


@dataclass(frozen=True)
class Status:
    state: str
    tasks: tuple[tuple[int, str], ...]
    trace: str = ""

    @property
    def running(self) -> int:
        return sum(1 for _, s in self.tasks if s == RUNNING)

    def summary(self) -> str:
        return f"{self.state} ({self.running}/{len(self.tasks)} tasks)"


def parse_status(doc: dict[str, Any]) -> Status:
    """The worker's status document:
    {"connector": {"state", "trace"?}, "tasks": [{"id", "state", "trace"?}, ...]}."""
    connector = doc.get("connector") or {}
    tasks = doc.get("tasks") or []
    traces = [connector.get("trace") or ""] + [t.get("trace") or "" for t in tasks]
    return Status(
        state=str(connector.get("state", "UNKNOWN")),
        tasks=tuple(
            sorted((int(t.get("id", i)), str(t.get("state", "UNKNOWN"))) for i, t in enumerate(tasks))
        ),
        trace="\n".join(t for t in traces if t),
    )


def expected_tasks(config: dict[str, str]) -> int:
    """Tasks a connector runs when healthy: its tasks.max (the settings' source_tasks/sink_tasks)."""
    return int(config.get("tasks.max", "1"))


class ConnectClient:
    """One Connect worker's REST API at `url` (such as http://127.0.0.1:8083)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"Connect URL must be http(s)://host:port (got {url!r})")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._sleep = sleep
        self._clock = clock

    # --- HTTP -------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (http(s) only)
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                payload: Any = json.loads(raw) if raw else None
            except ValueError:
                payload = raw.decode(errors="replace")
            return err.code, payload

    def _path(self, name: str, suffix: str = "") -> str:
        return f"/connectors/{urllib.parse.quote(name, safe='')}{suffix}"

    def _retrying(self, method: str, path: str, body: Any, deadline: float) -> tuple[int, Any]:
        """The call, retried while the worker answers 409 (rebalance in progress) or cannot be reached."""
        while True:
            try:
                code, payload = self._call(method, path, body)
            except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
                code, payload = 0, str(err)
            if code not in (0, 409) or self._clock() >= deadline:
                return code, payload
            self._sleep(2.0)

    # --- operations -------------------------------------------------------------------------------
    def put_config(self, name: str, config: dict[str, str], *, deadline_s: float = 120.0) -> bool:
        """Create or update; True when the connector was created."""
        if config.get("name", name) != name:
            raise ValueError(f"config name {config.get('name')!r} differs from the connector name {name!r}")
        code, payload = self._retrying("PUT", self._path(name, "/config"), config, self._clock() + deadline_s)
        if code not in (200, 201):
            raise ConnectError(f"PUT {self._path(name, '/config')}: HTTP {code}: {_message(payload)}")
        return code == 201

    def get_config(self, name: str) -> dict[str, str] | None:
        code, payload = self._retrying("GET", self._path(name, "/config"), None, self._clock() + 60.0)
        if code == 404:
            return None
        if code != 200 or not isinstance(payload, dict):
            raise ConnectError(f"GET {self._path(name, '/config')}: HTTP {code}: {_message(payload)}")
        return {str(k): str(v) for k, v in payload.items()}

    def status(self, name: str, *, retry_s: float = 60.0) -> Status | None:
        code, payload = self._retrying("GET", self._path(name, "/status"), None, self._clock() + retry_s)
        if code == 404:
            return None
        if code != 200 or not isinstance(payload, dict):
            raise ConnectError(f"GET {self._path(name, '/status')}: HTTP {code}: {_message(payload)}")
        return parse_status(payload)

    def delete(self, name: str) -> bool:
        """True when a connector was deleted, False when there was none."""
        code, payload = self._retrying("DELETE", self._path(name), None, self._clock() + 120.0)
        if code == 404:
            return False
        if code not in (200, 204):
            raise ConnectError(f"DELETE {self._path(name)}: HTTP {code}: {_message(payload)}")
        return True

    def wait_running(self, name: str, tasks: int, *, timeout_s: float = 300.0) -> Status:
        """Until the connector and `tasks` tasks are RUNNING; ConnectError on FAILED or at the deadline."""
        deadline = self._clock() + timeout_s
        last: Status | None = None
        while True:
            last = self.status(name)
            if last is not None:
                failed = last.state == FAILED or any(s == FAILED for _, s in last.tasks)
                if failed:
                    raise ConnectError(f"connector {name} is {last.summary()}:\n{last.trace}".rstrip())
                if last.state == RUNNING and len(last.tasks) == tasks and last.running == tasks:
                    return last
            if self._clock() >= deadline:
                seen = last.summary() if last else "not registered"
                raise ConnectError(
                    f"connector {name} not RUNNING with {tasks}/{tasks} tasks after {timeout_s:.0f} s "
                    f"(last seen: {seen})"
                )
            self._sleep(3.0)

    def apply(self, name: str, config: dict[str, str], *, timeout_s: float = 300.0) -> Status:
        """PUT the config, then wait for RUNNING with tasks.max tasks."""
        self.put_config(name, config)
        return self.wait_running(name, expected_tasks(config), timeout_s=timeout_s)


def _message(payload: Any) -> str:
    if isinstance(payload, dict) and "message" in payload:
        return str(payload["message"])
    return str(payload)
