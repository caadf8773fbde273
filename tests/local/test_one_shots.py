"""The local stack's one-shot steps and image build helpers, run for real where this machine can:
the PostgreSQL bootstrap step's shell and script on a real PostgreSQL 15, and the Connect image's
download check (docker/connect/fetch.sh) with curl and sha256sum against an HTTP server of the test.
The ScyllaDB step (cqlsh in the Scylla image) cannot run here; its `docker run` line is checked."""

from __future__ import annotations

import hashlib
import shlex
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from components.local.docker import docker_run
from stacks.compose import local_services as svc
from stacks.compose.local_artifacts import build_args, connect_artifacts
from tests.local.support import postgres15

FETCH = Path("docker/connect/fetch.sh").resolve()
SINK_PASSWORD = "sink-test-password-0123456789"


@pytest.fixture(scope="module")
def pg():
    with postgres15() as server:
        yield server


def _bootstrap(pg, script: str) -> subprocess.CompletedProcess[str]:
    """What the postgres-bootstrap step runs in its container, with this server's address."""
    shell = svc.postgres_bootstrap_shell(host="127.0.0.1", port=pg.port, workdir=str(pg.root))
    # The secret lines (svc.BOOTSTRAP_SECRET_LINES) precede the script on standard input; the
    # environment holds no password.
    env = {k: v for k, v in pg.env().items() if k != "PGPASSWORD"}
    return subprocess.run(
        ["sh", "-ec", shell],
        input=f"{pg.superuser_password}\n{SINK_PASSWORD}\n{script}",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.mark.engine
def test_bootstrap_step_creates_the_warehouse_and_the_sink_login(pg):
    first = _bootstrap(pg, svc.postgres_bootstrap_script())
    assert first.returncode == 0, first.stderr
    again = _bootstrap(pg, svc.postgres_bootstrap_script())  # idempotent: every `pulumi up` may run it
    assert again.returncode == 0, again.stderr
    # The sink logs in over TCP with the generated password, and owns schema cdc_data.
    login = pg.sql(
        "SELECT current_user, pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'cdc_data'",
        db="warehouse",
        user="cdc_sink",
        password=SINK_PASSWORD,
    )
    assert login.returncode == 0, login.stderr
    assert login.stdout.strip() == "cdc_sink|cdc_sink"
    wrong = pg.sql("SELECT 1", db="warehouse", user="cdc_sink", password="not-the-password")
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr
    assert SINK_PASSWORD not in first.stdout + first.stderr


@pytest.mark.engine
def test_a_failing_bootstrap_exits_non_zero_with_its_error(pg):
    broken = svc.postgres_bootstrap_script().replace(
        "CREATE SCHEMA IF NOT EXISTS", "CREATE SCHEMAA IF NOT EXISTS"
    )
    run = _bootstrap(pg, broken)
    assert run.returncode != 0  # local.Command fails the step, and `pulumi up` prints this:
    assert 'syntax error at or near "SCHEMAA"' in run.stderr


def test_docker_run_line_passes_secrets_by_name_only():
    line = docker_run(
        "sha256:abc", svc.POSTGRES_BOOTSTRAP_SHELL, env_names=["PGPASSWORD", "SINK_PASSWORD"]
    )
    argv = shlex.split(line)
    assert argv[:6] == ["docker", "run", "--rm", "-i", "--network", "pipeline-local"]
    assert argv[argv.index("-e") + 1] == "PGPASSWORD" and "SINK_PASSWORD" in argv
    assert argv[-3:] == ["sha256:abc", "-ec", svc.POSTGRES_BOOTSTRAP_SHELL]
    assert "=" not in " ".join(a for a in argv if a.startswith("-e"))
    with pytest.raises(ValueError, match="not an environment variable name"):
        docker_run("img", "true", env_names=["PW=x"])
    scylla = shlex.split(docker_run("sha256:def", svc.SCYLLA_SCHEMA_SHELL))
    assert scylla[-1] == "cat > /tmp/schema.cql && cqlsh scylla 9042 -f /tmp/schema.cql"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("artifacts")
    (root / "plugin.jar").write_bytes(b"a connector archive\n" * 100)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _fetch(url: str, sha: str, dest: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(FETCH), url, sha, str(dest)], capture_output=True, text=True, timeout=60, check=False
    )


def test_fetch_accepts_the_pinned_checksum(files, tmp_path):
    root, url = files
    sha = hashlib.sha256((root / "plugin.jar").read_bytes()).hexdigest()
    run = _fetch(f"{url}/plugin.jar", sha, tmp_path / "out.jar")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out.jar").read_bytes() == (root / "plugin.jar").read_bytes()


def test_fetch_fails_closed(files, tmp_path):
    _, url = files
    other = hashlib.sha256(b"another file").hexdigest()
    wrong = _fetch(f"{url}/plugin.jar", other, tmp_path / "a.jar")
    assert wrong.returncode != 0 and not (tmp_path / "a.jar").exists()
    unpinned = _fetch(f"{url}/plugin.jar", "", tmp_path / "b.jar")
    assert unpinned.returncode != 0 and "no SHA-256 pinned" in unpinned.stderr
    assert not (tmp_path / "b.jar").exists()
    short = _fetch(f"{url}/plugin.jar", "abc123", tmp_path / "c.jar")
    assert short.returncode != 0 and "64 hex digits" in short.stderr
    missing = _fetch(f"{url}/nothing.jar", other, tmp_path / "d.jar")
    assert missing.returncode != 0


def test_build_args_name_every_download_of_the_dockerfile():
    dockerfile = Path("docker/connect/Dockerfile").read_text()
    for key in build_args():
        assert f"ARG {key}\n" in dockerfile and f"${key}" in dockerfile, key
    # the same URLs as the Kubernetes stacks' Strimzi build (components/connect/manifests.py)
    from components.streaming.connect.manifests import plugins

    k8s = {p["artifacts"][0]["url"] for p in plugins()}
    local = {a.url for a in connect_artifacts()}
    assert k8s - local == {u for u in k8s if "debezium-connector-jdbc" in u}  # the base image has the sink
    # the base image lacks `jar`, and installs `unzip` itself before it extracts the converter
    assert " jar " not in dockerfile and "microdnf install -y unzip" in dockerfile
