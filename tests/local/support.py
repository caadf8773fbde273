"""Small servers the local-stack tests start on 127.0.0.1: an HTTP server standing in for the REST APIs
(Kafka Connect, Schema Registry, Prometheus, ...) that records every call and answers from a table the
test sets, and a real PostgreSQL 15 (Debian's server binaries) with password authentication over TCP."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lib import versions
from tests.support.engines import engine

Answer = tuple[int, Any]
Handler = Callable[[str, str, Any], Answer]  # (method, path, body) -> (status, json body)


@dataclass
class Recorder:
    handler: Handler
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    url: str = ""


@contextmanager
def http_server(handler: Handler) -> Iterator[Recorder]:
    rec = Recorder(handler)

    class _H(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            rec.calls.append((self.command, self.path, body))
            code, answer = rec.handler(self.command, self.path, body)
            data = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = _serve  # noqa: N815

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


class FakeConnect:
    """A Connect worker's connector endpoints: configs kept in memory; a connector's status is RUNNING
    with tasks.max tasks unless the test sets `states[name]` = (connector state, [task states], trace)."""

    def __init__(self) -> None:
        self.configs: dict[str, dict[str, str]] = {}
        self.states: dict[str, tuple[str, list[str], str]] = {}
        self.busy = 0  # answer 409 (rebalance) to this many next calls

    def __call__(self, method: str, path: str, body: Any) -> Answer:
        if self.busy:
            self.busy -= 1
            return 409, {
                "error_code": 409,
                "message": "Cannot complete request because of a conflicting operation",
            }
        parts = path.split("?")[0].strip("/").split("/")
        if parts == [""]:
            return 200, {"version": "4.1.0", "commit": "test"}
        if parts[0] != "connectors" or len(parts) < 2:
            return 404, {"error_code": 404, "message": "not found"}
        name = parts[1]
        sub = parts[2] if len(parts) > 2 else ""
        if method == "PUT" and sub == "config":
            if not isinstance(body, dict) or "connector.class" not in body:
                return 400, {"error_code": 400, "message": "Missing required configuration connector.class"}
            created = name not in self.configs
            self.configs[name] = dict(body)
            return (201 if created else 200), {"name": name, "config": body, "tasks": []}
        if name not in self.configs:
            return 404, {"error_code": 404, "message": f"Connector {name} not found"}
        if method == "GET" and sub == "config":
            return 200, self.configs[name]
        if method == "GET" and sub == "status":
            tasks = int(self.configs[name].get("tasks.max", "1"))
            state, task_states, trace = self.states.get(name, ("RUNNING", ["RUNNING"] * tasks, ""))
            return 200, {
                "name": name,
                "connector": {
                    "state": state,
                    "worker_id": "connect:8083",
                    **({"trace": trace} if trace else {}),
                },
                "tasks": [
                    {
                        "id": i,
                        "state": s,
                        "worker_id": "connect:8083",
                        **({"trace": trace} if s == "FAILED" else {}),
                    }
                    for i, s in enumerate(task_states)
                ],
                "type": "source",
            }
        if method == "DELETE" and sub == "":
            del self.configs[name]
            return 204, None
        return 405, {"error_code": 405, "message": "method not allowed"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Postgres:
    port: int
    root: Path
    user: str | None
    superuser_password: str

    def as_user(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", self.user, "--", *argv] if self.user else argv

    @property
    def psql_prefix(self) -> tuple[str, ...]:
        """argv prefix of a psql client of this server over TCP as the superuser (PGPASSWORD set)."""
        psql = shutil.which("psql") or "psql"
        return (psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres")

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.superuser_password, **extra}

    def sql(
        self, statement: str, *, db: str = "postgres", user: str = "postgres", password: str | None = None
    ):
        argv = [
            shutil.which("psql") or "psql",
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            user,
            "-d",
            db,
            "-c",
            statement,
        ]
        env = self.env(PGPASSWORD=password if password is not None else self.superuser_password)
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)


@contextmanager
def postgres15() -> Iterator[Postgres]:
    """initdb + pg_ctl start on a free port: local connections trusted, TCP with scram-sha-256."""
    initdb, pg_ctl = engine("initdb"), engine("pg_ctl")
    found = subprocess.run([initdb, "--version"], capture_output=True, text=True, check=True).stdout
    assert f") {versions.POSTGRES_MAJOR}." in found, f"PostgreSQL {versions.POSTGRES_MAJOR} expected: {found}"
    root = Path(tempfile.mkdtemp(prefix="pipeline-local-pg-"))
    user = None
    if os.geteuid() == 0:  # initdb refuses to run as root
        user = "postgres"
        try:
            pwd.getpwnam(user)
        except KeyError:
            pytest.fail("the postgres system user (Debian postgresql package) is missing")
        shutil.chown(root, user=user)
    server = Postgres(free_port(), root, user, superuser_password="superuser-test-password")
    pwfile = root / "pw"
    pwfile.write_text(server.superuser_password + "\n")
    if user:
        shutil.chown(pwfile, user=user)
    data = root / "data"
    subprocess.run(
        server.as_user(
            [
                initdb,
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    opts = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(
        server.as_user([pg_ctl, "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        yield server
    finally:
        subprocess.run(
            server.as_user([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(root, ignore_errors=True)
