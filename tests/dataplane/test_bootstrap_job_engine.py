"""The PostgreSQL bootstrap Job's own command (components/dataplane/postgres/manifests.bootstrap_job),
run by `sh` against a real PostgreSQL 15 started by the test: the superuser's name and password come
from the files of the mounted Secret, not from the environment, and a wrong password file fails."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from components.dataplane.postgres import manifests
from lib.kube.jobs import SCRIPT_DIR
from lib.kube.target import KubeTarget
from tests.local.support import postgres15
from tests.support.engines import engine

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def pg():
    with postgres15() as server:
        yield server


def _job_script() -> tuple[str, dict[str, str]]:
    job = manifests.bootstrap_job(
        cluster_name="warehouse",
        namespace="postgres",
        configmap="warehouse-bootstrap-sql",
        placement=KubeTarget.placement("platform"),
        digest="0" * 64,
    )
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][:2] == ["sh", "-ec"]
    return container["command"][2], {e["name"]: e["value"] for e in container["env"]}


def _run(pg, tmp: Path, password: str) -> subprocess.CompletedProcess[str]:
    script, env = _job_script()
    secret, scripts = tmp / "superuser", tmp / "script"
    secret.mkdir(exist_ok=True)
    scripts.mkdir(exist_ok=True)
    (secret / "username").write_text("postgres", encoding="utf-8")
    (secret / "password").write_text(password, encoding="utf-8")
    (scripts / "bootstrap.sql").write_text(
        "CREATE TABLE IF NOT EXISTS bootstrap_ran (x int);\n", encoding="utf-8"
    )
    # The Job's paths and server address, this server's; TLS off (the test server has no certificate).
    script = script.replace(manifests.SUPERUSER_DIR, str(secret)).replace(SCRIPT_DIR, str(scripts))
    env = {**env, "PGHOST": "127.0.0.1", "PGPORT": str(pg.port), "PGSSLMODE": "disable"}
    path = f"{Path(engine('psql')).parent}:{os.environ.get('PATH', '')}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run(
        ["sh", "-ec", script],
        env={**clean, **env, "PATH": path, "HOME": str(tmp)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_job_logs_in_with_the_mounted_secret(pg, tmp_path):
    run = _run(pg, tmp_path, pg.superuser_password)
    assert run.returncode == 0, run.stderr
    found = pg.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'bootstrap_ran'")
    assert found.stdout.strip() == "1", found.stderr


def test_a_wrong_password_file_fails_the_job(pg, tmp_path):
    run = _run(pg, tmp_path, "not-the-password")
    assert run.returncode != 0
    assert "password authentication failed" in run.stderr
