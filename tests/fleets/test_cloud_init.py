"""The rendered cloud-init of each module: its content against seed 003, checked by the real
`cloud-init schema`, its systemd units by `systemd-analyze verify`, and the host tree its bootstrap
lays out (under a temporary root) by testinfra."""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.server
import io
import os
import pwd
import re
import shutil
import subprocess
import tarfile
import threading
import urllib.parse
from pathlib import Path

import pytest
import yaml

from components.fleet.cloud_init import (
    USER_DATA_LIMIT,
    CloudInitSpec,
    agent_key,
    module_config,
    node_exporter_key,
    render_cloud_init,
    user_data,
)
from components.fleet.settings import ModuleParams
from lib import versions
from tests.support.engines import engine

MODULES = ("alpha", "beta", "gamma")
HELPER = Path(__file__).parents[2] / "components/fleet/pipeline_http.py"
# 003 Module Alpha/Beta/Gamma Deployment > Step 3: the environment-specific parameters.
SEED_PARAMS = {
    "alpha": {"DEFAULT_BATCH_SIZE", "MAX_RETRY_COUNT", "CONNECTION_TIMEOUT_MS", "BUFFER_CAPACITY"},
    "beta": {"TRANSFORM_PARALLELISM", "ENRICHMENT_CACHE_TTL", "TRANSFORM_BATCH_SIZE",
             "QUALITY_THRESHOLD_WARN"},
    "gamma": {"OUTPUT_BATCH_SIZE", "MAX_DELIVERY_RETRIES", "DLQ_RETENTION_DAYS", "ACK_WAIT_TIMEOUT_MS"},
}
# 003 Step 2: bin, config, lib, logs, data; beta adds the enrichment cache; gamma dlq and templates.
EXTRA_DIRS = {"alpha": set(), "beta": {"cache"}, "gamma": {"dlq", "templates"}}
DRAIN = {"alpha": 60, "beta": 120, "gamma": 60}  # 003 Rolling Update Procedures (gamma: docs/fleets.md)


def spec(module: str, **kw) -> CloudInitSpec:
    params = getattr(ModuleParams(), module).model_dump() if module in MODULES else {}
    base = dict(
        module=module, environment="staging", colour="blue", region="eu-west-1", params=params,
        artifact_bucket="pipeline-artifacts", artifact_version="1.4.2", backup_bucket="pipeline-backups",
        otlp_endpoint="http://otlp.observability.internal:4317",
        listen_ports=(8443,) if module == "alpha" else (9000,), health_port=8080, metrics_port=9100,
        node_exporter_version=versions.NODE_EXPORTER_VERSION,
        agent_version=versions.CLOUDWATCH_AGENT_VERSION,
        handoff_target={"alpha": "beta-nlb.internal:9000", "beta": "gamma-nlb.internal:9000"}.get(module),
        drain_seconds=DRAIN.get(module, 60),
    )
    base.update(kw)
    return CloudInitSpec(**base)


def doc(module: str, **kw) -> dict:
    """The user data, with write_files' `gz+b64` contents decoded as cloud-init decodes them."""
    text = render_cloud_init(spec(module, **kw))
    assert text.startswith("#cloud-config\n")
    data = yaml.safe_load(text)
    for f in data["write_files"]:
        if f.pop("encoding", None) == "gz+b64":
            f["content"] = gzip.decompress(base64.b64decode(f["content"])).decode()
    return data


def files(module: str, **kw) -> dict[str, dict]:
    return {f["path"]: f for f in doc(module, **kw)["write_files"]}


@pytest.mark.parametrize("module", MODULES)
def test_module_yaml_has_the_seed_parameters_and_endpoints(module):
    cfg = module_config(spec(module))
    assert SEED_PARAMS[module] <= set(cfg)
    assert cfg["telemetry"]["otlp_endpoint"] == "http://otlp.observability.internal:4317"
    assert cfg["database"]["name"] == "pipeline_db"  # 003 Database Backups: pipeline_db
    if module == "gamma":
        assert "handoff" not in cfg
    else:
        assert cfg["handoff"]["module"] == {"alpha": "beta", "beta": "gamma"}[module]


def test_seed_documented_defaults():
    # 003 Operational Metrics > Module Beta: average quality score warning below 0.8.
    assert module_config(spec("beta"))["QUALITY_THRESHOLD_WARN"] == 0.8


def test_no_secret_in_the_user_data():
    text = render_cloud_init(spec("alpha", kafka_bootstrap_servers="kafka:9093"))
    assert "password" not in text.lower().replace("credentials_ref", "")


@pytest.mark.parametrize("module", MODULES)
def test_user_data_fits_ec2_and_is_the_text_compressed(module):
    s = spec(module, artifact_sha256="a" * 64, node_exporter_sha256="b" * 64)
    data = user_data(s)
    assert len(data) <= USER_DATA_LIMIT == 16384  # EC2's limit on user data
    assert gzip.decompress(data).decode() == render_cloud_init(s)
    assert user_data(s) == data  # byte-stable: no timestamp in the gzip header


def test_node_exporter_digest_must_be_a_digest():
    with pytest.raises(ValueError, match="node_exporter_sha256"):
        spec("alpha", node_exporter_sha256="not-a-digest")


def test_unknown_module_and_bad_digest_are_rejected():
    with pytest.raises(ValueError, match="unknown module"):
        spec("delta")
    with pytest.raises(ValueError, match="64 lowercase hex"):
        spec("alpha", artifact_sha256="XYZ")


@pytest.mark.parametrize("module", MODULES)
def test_state_backup_every_four_hours_to_the_module_prefix(module):
    f = files(module)
    timer = f[f"/var/lib/pipeline-bootstrap/units/pipeline-{module}-state-backup.timer"]["content"]
    assert "OnCalendar=*-*-* 00/4:00:00" in timer  # 003 Backup Schedules: every 4 hours at :00
    script = f["/var/lib/pipeline-bootstrap/pipeline-state-backup"]["content"]
    assert f'"$HTTP" s3-put "$f" pipeline-backups "state/{module}/$HOST/$k"' in script


# seed 003 State Recovery downloads these names (alpha-state-latest.tar.gz, beta-cache-latest.json)
LATEST = {
    "alpha": ["alpha-state-latest.tar.gz"],
    "beta": ["beta-state-latest.tar.gz", "beta-cache-latest.json"],
    "gamma": ["gamma-state-latest.tar.gz", "gamma-dlq-latest.tar.gz"],
}


@pytest.mark.parametrize("module", MODULES)
def test_state_backup_keeps_latest_copies_and_reports_success(module, tmp_path):
    # run the script's upload loop and textfile lines with a stand-in pipeline-http recording its arguments
    script = files(module)["/var/lib/pipeline-bootstrap/pipeline-state-backup"]["content"]
    all_lines = script.splitlines()
    start = next(i for i, line in enumerate(all_lines) if line.startswith("for f in"))
    end = next(i for i, line in enumerate(all_lines) if line == "done; done")
    loop = "\n".join(all_lines[start:end + 1])
    textfile = [line for line in all_lines if "textfile" in line]
    work = tmp_path / "work"
    work.mkdir()
    stamp = "20261201-080000"
    for name in LATEST[module]:
        (work / name.replace("latest", stamp)).write_text("x")
    log, textdir = tmp_path / "http.log", tmp_path / "textfile"
    (tmp_path / "http").write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    (tmp_path / "http").chmod(0o755)
    lines = [line.replace("/var/lib/node_exporter/textfile", str(textdir)) for line in [loop, *textfile]]
    program = "\n".join([f"WORK={work}", f"STAMP={stamp}", "HOST=i-1", f"HTTP={tmp_path}/http", *lines])
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", program],
                         env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    puts = [c.split() for c in log.read_text().splitlines()]
    assert all(p[0] == "s3-put" and p[2] == "pipeline-backups" for p in puts)
    assert all(p[3].startswith(f"state/{module}/i-1/") for p in puts)
    # each file under its stamped name and under its -latest name
    stamped = [name.replace("latest", stamp) for name in LATEST[module]]
    assert sorted(p[3].rsplit("/", 1)[1] for p in puts) == sorted(stamped + LATEST[module])
    prom = (textdir / "pipeline_state_backup.prom").read_text()
    assert prom.splitlines()[-1].startswith("pipeline_state_backup_last_success_timestamp_seconds ")
    # the copies and the success follow the upload (set -e: a failed upload reports nothing)
    assert script.index(loop) < script.index(textfile[0])


def test_node_exporter_reads_the_textfile_directory():
    unit = files("alpha")["/var/lib/pipeline-bootstrap/units/node_exporter.service"]["content"]
    assert "--collector.textfile.directory=/var/lib/node_exporter/textfile" in unit


@pytest.mark.parametrize("module", MODULES)
def test_service_is_hardened_and_drains(module):
    unit = files(module)[f"/var/lib/pipeline-bootstrap/units/pipeline-{module}.service"]["content"]
    for line in ("User=pipeline", "Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 f"ExecStop=/opt/pipeline/{module}/bin/pipeline-drain $MAINPID",
                 f"ExecStartPre=/opt/pipeline/{module}/bin/pipeline-verify-artifact",
                 f"TimeoutStopSec={DRAIN[module] + 30}"):
        assert line in unit.splitlines()
    drain = files(module)["/var/lib/pipeline-bootstrap/pipeline-drain"]["content"]
    assert f"deadline=$((SECONDS + {DRAIN[module]}))" in drain


# --- real engines ------------------------------------------------------------------------------
@pytest.mark.engine
@pytest.mark.parametrize("module", MODULES)
def test_cloud_init_schema_accepts_the_user_data(module, tmp_path):
    tool = engine("cloud-init")
    path = tmp_path / "user-data.yaml"
    path.write_text(render_cloud_init(spec(module, artifact_sha256="0" * 64)))
    out = subprocess.run([tool, "schema", "--config-file", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Valid" in out.stdout


@pytest.mark.engine
def test_cloud_init_schema_rejects_a_broken_document(tmp_path):
    # the engine really checks: a write_files entry without its path is an error
    tool = engine("cloud-init")
    path = tmp_path / "user-data.yaml"
    path.write_text("#cloud-config\nwrite_files:\n  - content: x\n    permissions: 0644\n")
    out = subprocess.run([tool, "schema", "--config-file", str(path)], capture_output=True, text=True)
    assert out.returncode != 0


@pytest.mark.engine
def test_timer_fires_every_four_hours_on_the_hour():
    tool = engine("systemd-analyze")
    out = subprocess.run([tool, "calendar", "--iterations=7", "*-*-* 00/4:00:00"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    hours = [line.split()[-2] for line in out.stdout.splitlines() if "Next elapse" in line or "Iter." in line]
    times = [h for h in hours if ":" in h]
    assert len(times) == 7
    assert {t[-5:] for t in times} == {"00:00"}
    assert {int(t[:2]) % 4 for t in times} == {0}


# --- the bootstrap's layout step on a temporary root --------------------------------------------
def _stage(root: Path, module: str, **kw) -> Path:
    """What cloud-init's write_files does, under `root`."""
    for f in doc(module, **kw)["write_files"]:
        path = root / f["path"].lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f["content"])
        path.chmod(int(f["permissions"], 8))
    return root / "var/lib/pipeline-bootstrap/bootstrap.sh"


@pytest.fixture(scope="module")
def service_user():
    """The `pipeline` user the bootstrap's user step creates (run here as root; removed after)."""
    if os.geteuid() != 0:
        pytest.skip("the layout step sets owners: needs root")
    try:
        pwd.getpwnam("pipeline")
        created = False
    except KeyError:
        created = True
    root = Path(os.environ.get("TMPDIR", "/tmp")) / f"pipeline-user-{os.getpid()}"
    script = _stage(root, "alpha")
    subprocess.run([str(script), "user"], check=True, env={**os.environ, "PIPELINE_ROOT": str(root)})
    yield "pipeline"
    shutil.rmtree(root, ignore_errors=True)
    if created:
        subprocess.run(["userdel", "pipeline"], check=False)
        subprocess.run(["groupdel", "pipeline"], check=False, capture_output=True)


def _layout(tmp_path: Path, module: str, **kw) -> Path:
    script = _stage(tmp_path, module, **kw)
    out = subprocess.run([str(script), "layout"], capture_output=True, text=True,
                         env={**os.environ, "PIPELINE_ROOT": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    return tmp_path


@pytest.mark.parametrize("module", MODULES)
def test_layout_modes_and_owners_with_testinfra(module, tmp_path, service_user):
    import testinfra

    root = _layout(tmp_path, module)
    host = testinfra.get_host("local://")
    base = f"{root}/opt/pipeline/{module}"
    # 003 Step 2: executables 755, configuration files 640, data directories 750.
    for d in ("bin", "lib"):
        f = host.file(f"{base}/{d}")
        assert f.is_directory and f.mode == 0o755 and f.user == "root"
    for s in ("pipeline-drain", "pipeline-verify-artifact", "pipeline-state-backup"):
        f = host.file(f"{base}/bin/{s}")
        assert f.is_file and f.mode == 0o755 and f.user == "root"
    cfg = host.file(f"{base}/config/{module}.yaml")
    assert cfg.mode == 0o640 and cfg.user == "root" and cfg.group == "pipeline"
    assert SEED_PARAMS[module] <= set(yaml.safe_load(cfg.content_string))
    assert host.file(f"{base}/config").mode == 0o750
    for d in {"data", "logs"} | EXTRA_DIRS[module]:
        f = host.file(f"{base}/{d}")
        assert f.is_directory and f.mode == 0o750, d
        assert f.group == "pipeline"
    assert host.file(f"{base}/data").user == "pipeline"
    actual = {p.name for p in Path(base).iterdir()}
    assert actual == {"bin", "config", "lib", "logs", "data"} | EXTRA_DIRS[module]
    unit = host.file(f"{root}/etc/systemd/system/pipeline-{module}.service")
    assert unit.mode == 0o644 and unit.contains("User=pipeline")


@pytest.mark.engine
@pytest.mark.parametrize("module", MODULES)
def test_systemd_analyze_verifies_the_units(module, tmp_path, service_user):
    tool = engine("systemd-analyze")
    root = _layout(tmp_path, module)
    # the binaries the artifact and the exporter step install, and the system's own units
    for stub in (f"opt/pipeline/{module}/bin/{module}", "usr/local/bin/node_exporter"):
        p = root / stub
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("#!/bin/sh\n")
        p.chmod(0o755)
    system_units = Path("/usr/lib/systemd/system")
    if not (system_units / "sysinit.target").exists():
        system_units = Path("/lib/systemd/system")
    shutil.copytree(system_units, root / "usr/lib/systemd/system", symlinks=True)
    units = sorted(str(p) for p in (root / "etc/systemd/system").iterdir())
    assert len(units) == 4
    out = subprocess.run([tool, "verify", f"--root={root}", *units], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    problems = [line for line in out.stderr.splitlines() if "pipeline" in line or "node_exporter" in line]
    assert problems == [], problems


# --- artifact verification (003 Artifact Verification) -------------------------------------------
def _artifact(tmp: Path, module: str) -> tuple[Path, str]:
    src = tmp / "src"
    (src / "bin").mkdir(parents=True)
    (src / "bin" / module).write_text("#!/bin/sh\necho run\n")
    (src / "lib").mkdir()
    (src / "lib" / "core.jar").write_text("jar")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(src / "bin", arcname="bin")
        tar.add(src / "lib", arcname="lib")
    path = tmp / "store" / f"artifacts/{module}/1.4.2/{module}-1.4.2.tar.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(buf.getvalue())
    return path, hashlib.sha256(buf.getvalue()).hexdigest()


class _StandIn(http.server.BaseHTTPRequestHandler):
    """IMDSv2 (/latest/...) and S3 (/s3/<key>) on one local port. Every S3 request must carry a
    SigV4 signature that botocore (an independent implementation) computes the same for the
    stand-in credentials; an unsigned or wrongly signed request gets 403, like S3."""

    store: Path
    uploads: dict[str, bytes]
    requests: list[str]
    token = "tok-1"

    def log_message(self, *args):  # noqa: D102 (quiet)
        pass

    def _send(self, code: int, body: bytes = b"") -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _signed(self) -> bool:
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.config import Config
        from botocore.credentials import Credentials

        given = self.headers.get("Authorization", "")
        req = AWSRequest(method=self.command, url=f"https://{self.headers['Host']}{self.path}")
        req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
        req.context["timestamp"] = self.headers.get("x-amz-date", "")
        auth = S3SigV4Auth(Credentials("AKIDSTANDIN", "secret/standin", "session-standin"), "s3", "eu-west-1")
        auth._modify_request_before_signing(req)
        want = auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req)
        return given.endswith(f"Signature={want}")

    def do_PUT(self):  # noqa: N802
        self.requests.append(f"PUT {self.path}")
        if self.path == "/latest/api/token":
            return self._send(200, self.token.encode())
        if self.path.startswith("/s3/") and self._signed():
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.uploads[urllib.parse.unquote(self.path[4:])] = body
            return self._send(200)
        return self._send(403)

    def do_GET(self):  # noqa: N802
        self.requests.append(f"GET {self.path}")
        if self.path.startswith("/latest/"):
            if self.headers.get("X-aws-ec2-metadata-token") != self.token:
                return self._send(401)
            meta = {
                "/latest/meta-data/iam/security-credentials/": b"fleet-role",
                "/latest/meta-data/iam/security-credentials/fleet-role": (
                    b'{"AccessKeyId": "AKIDSTANDIN", "SecretAccessKey": "secret/standin", '
                    b'"Token": "session-standin"}'
                ),
                "/latest/meta-data/placement/region": b"eu-west-1",
                "/latest/meta-data/instance-id": b"i-0standin",
            }
            return self._send(200, meta[self.path]) if self.path in meta else self._send(404)
        if self.path.startswith("/s3/"):
            if not self._signed():
                return self._send(403)
            f = self.store / urllib.parse.unquote(self.path[4:])
            return self._send(200, f.read_bytes()) if f.is_file() else self._send(404)
        return self._send(404)


@pytest.fixture
def aws_standin(tmp_path):
    """(env, handler class): the scripts' environment pointing pipeline-http at the stand-ins."""
    store = tmp_path / "store"
    store.mkdir(exist_ok=True)
    handler = type("Handler", (_StandIn,), {"store": store, "uploads": {}, "requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    env = {**os.environ, "PIPELINE_IMDS_URL": f"{base}/latest", "PIPELINE_S3_URL": f"{base}/s3"}
    yield env, handler
    server.shutdown()


def test_pipeline_http_signs_like_botocore():
    import datetime
    import importlib.util

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials

    loaded = importlib.util.spec_from_file_location("pipeline_http", HELPER)
    helper = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(helper)
    now = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    host, path = "pipeline-artifacts.s3.eu-west-1.amazonaws.com", "/artifacts/alpha/1.4.2/alpha 1.4.2.tar.gz"
    ours = helper.sign("GET", host, path, "eu-west-1", "AKID", "SECRET", "TOKEN", now)["Authorization"]
    req = AWSRequest(method="GET", url=f"https://{host}{urllib.parse.quote(path)}")
    req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    req.context["timestamp"] = "20250102T030405Z"
    auth = S3SigV4Auth(Credentials("AKID", "SECRET", "TOKEN"), "s3", "eu-west-1")
    auth._modify_request_before_signing(req)
    want = auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req)
    assert ours.endswith(f"Signature={want}")
    # and a different secret gives a different signature (the comparison can fail)
    other = helper.sign("GET", host, path, "eu-west-1", "AKID", "OTHER", "TOKEN", now)["Authorization"]
    assert not other.endswith(f"Signature={want}")


def test_artifact_with_the_pinned_digest_installs_and_verifies(tmp_path, service_user, aws_standin):
    _, digest = _artifact(tmp_path, "alpha")
    root = _layout(tmp_path / "root", "alpha", artifact_sha256=digest)
    env = {**aws_standin[0], "PIPELINE_ROOT": str(root)}
    script = root / "var/lib/pipeline-bootstrap/bootstrap.sh"
    out = subprocess.run([str(script), "artifact"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    binary = root / "opt/pipeline/alpha/bin/alpha"
    assert binary.stat().st_mode & 0o777 == 0o755
    verify = root / "opt/pipeline/alpha/bin/pipeline-verify-artifact"
    assert subprocess.run([str(verify)], env=env, capture_output=True).returncode == 0
    # tampering with an installed file after installation: the service refuses to start
    binary.write_text("#!/bin/sh\necho tampered\n")
    assert subprocess.run([str(verify)], env=env, capture_output=True).returncode != 0


def test_artifact_with_a_wrong_digest_is_refused_and_nothing_installed(tmp_path, service_user, aws_standin):
    _artifact(tmp_path, "beta")
    root = _layout(tmp_path / "root", "beta", artifact_sha256="f" * 64)
    env = {**aws_standin[0], "PIPELINE_ROOT": str(root)}
    script = root / "var/lib/pipeline-bootstrap/bootstrap.sh"
    out = subprocess.run([str(script), "artifact", "services"], capture_output=True, text=True, env=env)
    assert out.returncode != 0
    assert "refusing" in out.stderr
    assert "step services" not in out.stderr  # the bootstrap stopped before starting anything
    assert not (root / "opt/pipeline/beta/bin/beta").exists()


# --- the node exporter from the artifact bucket, pinned (lib/versions.py NODE_EXPORTER_SHA256) ----
def _node_exporter(tmp: Path) -> str:
    """The release tarball's layout (node_exporter-<v>.linux-amd64/node_exporter) in the store."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = b"#!/bin/sh\necho node_exporter\n"
        info = tarfile.TarInfo("node_exporter-1.10.2.linux-amd64/node_exporter")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
    path = tmp / "store" / node_exporter_key("1.10.2")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return hashlib.sha256(buf.getvalue()).hexdigest()


def _run(root: Path, env: dict[str, str], *steps: str) -> subprocess.CompletedProcess:
    script = root / "var/lib/pipeline-bootstrap/bootstrap.sh"
    return subprocess.run([str(script), *steps], capture_output=True, text=True,
                          env={**env, "PIPELINE_ROOT": str(root)})


def test_node_exporter_with_the_pinned_digest_comes_from_the_artifact_bucket(tmp_path, service_user,
                                                                             aws_standin):
    env, handler = aws_standin
    digest = _node_exporter(tmp_path)
    root = _layout(tmp_path / "root", "alpha", node_exporter_sha256=digest)
    out = _run(root, env, "exporter")
    assert out.returncode == 0, out.stderr
    assert (root / "usr/local/bin/node_exporter").stat().st_mode & 0o777 == 0o755
    # fetched from the artifact bucket's vendor/ prefix, signed (the stand-in refuses otherwise)
    assert f"GET /s3/{node_exporter_key('1.10.2')}" in handler.requests


@pytest.mark.parametrize("pin,message", [("", "no sha256 pinned (lib/versions.py NODE_EXPORTER_SHA256)"),
                                         ("e" * 64, "does not match")])
def test_node_exporter_fails_closed_but_the_module_starts_first(tmp_path, service_user, aws_standin, pin,
                                                                message):
    env, _ = aws_standin
    _, digest = _artifact(tmp_path, "gamma")
    _node_exporter(tmp_path)
    root = _layout(tmp_path / "root", "gamma", artifact_sha256=digest, node_exporter_sha256=pin)
    out = _run(root, env, "artifact", "services", "exporter")
    assert out.returncode != 0
    assert message in out.stderr
    assert not (root / "usr/local/bin/node_exporter").exists()
    # the module was installed and its services step ran before the exporter refused
    assert (root / "opt/pipeline/gamma/bin/gamma").exists()
    assert out.stderr.index("step services") < out.stderr.index("step exporter")


def test_all_starts_the_services_before_the_agent_and_the_exporter():
    script = files("alpha")["/var/lib/pipeline-bootstrap/bootstrap.sh"]["content"]
    assert '[ "$1" = all ] && set -- user volume layout artifact logs services agent exporter' in script


# --- the CloudWatch agent's Debian package from the artifact bucket, pinned --------------------------
def _agent_package(tmp: Path) -> str:
    data = b"!<arch>\nstand-in for amazon-cloudwatch-agent.deb\n"
    path = tmp / "store" / agent_key(versions.CLOUDWATCH_AGENT_VERSION)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def test_agent_with_the_pinned_digest_comes_from_the_artifact_bucket(tmp_path, service_user, aws_standin):
    env, handler = aws_standin
    digest = _agent_package(tmp_path)
    root = _layout(tmp_path / "root", "beta", agent_sha256=digest)
    out = _run(root, env, "agent")
    assert out.returncode == 0, out.stderr
    assert f"GET /s3/{agent_key(versions.CLOUDWATCH_AGENT_VERSION)}" in handler.requests
    script = (root / "var/lib/pipeline-bootstrap/bootstrap.sh").read_text()
    assert 'dpkg -i "$work/amazon-cloudwatch-agent.deb"' in script
    assert "dnf" not in script and "apt-get" not in script  # no package repository


@pytest.mark.parametrize("pin,message", [("", "no sha256 pinned (lib/versions.py CLOUDWATCH_AGENT_SHA256)"),
                                         ("e" * 64, "does not match")])
def test_agent_fails_closed_and_the_exporter_still_installs(tmp_path, service_user, aws_standin, pin,
                                                           message):
    env, _ = aws_standin
    _agent_package(tmp_path)
    ne = _node_exporter(tmp_path)
    root = _layout(tmp_path / "root", "alpha", agent_sha256=pin, node_exporter_sha256=ne)
    out = _run(root, env, "agent", "exporter")
    assert out.returncode != 0
    assert message in out.stderr and "failed: agent (the module runs)" in out.stderr
    # the agent's refusal does not stop the exporter, which runs after it
    assert (root / "usr/local/bin/node_exporter").exists()


def test_state_backup_upload_is_signed_and_lands_under_the_module_prefix(tmp_path, aws_standin):
    env, handler = aws_standin
    f = tmp_path / "gamma-dlq.tar.gz"
    f.write_bytes(b"dlq")
    out = subprocess.run(["python3", str(HELPER), "s3-put", str(f), "pipeline-backups",
                          "state/gamma/i-0standin/gamma-dlq.tar.gz"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert handler.uploads == {"state/gamma/i-0standin/gamma-dlq.tar.gz": b"dlq"}
    # a wrong secret is refused by the stand-in (the signature check can fail)
    bad = {**env, "PIPELINE_IMDS_URL": env["PIPELINE_IMDS_URL"] + "-missing"}
    assert subprocess.run(["python3", str(HELPER), "s3-put", str(f), "pipeline-backups", "k"],
                          capture_output=True, env=bad).returncode != 0


# --- nothing from the internet -----------------------------------------------------------------
_URL = re.compile(r"\b(?:https?|s3)://[^\s\"'<>|;),]+")
# IMDS, the instance itself, and S3 only as the regional endpoint the gateway endpoint routes
# (pipeline-http's URL template and its usage text) or s3:// of the stack's buckets ($ARTIFACT_BUCKET
# is the bootstrap's variable holding the artifact bucket; BUCKET the usage text's placeholder).
BOOTSTRAP_HOSTS = {"169.254.169.254", "127.0.0.1", "pipeline-artifacts", "pipeline-backups",
                   "$ARTIFACT_BUCKET", "BUCKET", "{bucket}.s3.{reg}.amazonaws.com",
                   "BUCKET.s3.REGION.amazonaws.com"}


def urls_outside(text: str, *, allowed_hosts: set[str]) -> list[str]:
    """Every URL of `text` whose host is not one of allowed_hosts (a host may end in :port or carry
    a ${...} shell variable as its port part)."""
    bad = []
    for url in _URL.findall(text):
        host = urllib.parse.urlsplit(url).netloc or url.split("/")[2]
        host = host.split("@")[-1]
        if host.split(":")[0] not in allowed_hosts:
            bad.append(url)
    return bad


@pytest.mark.parametrize("module", MODULES)
def test_the_bootstrap_reaches_only_the_buckets_the_metadata_service_and_itself(module):
    s = spec(module)
    text = render_cloud_init(s)
    assert "ARTIFACT_BUCKET=pipeline-artifacts\n" in text
    # the module's configured endpoints (inside the VPC) are the only other addresses
    allowed = BOOTSTRAP_HOSTS | {"otlp.observability.internal"}
    assert urls_outside(text, allowed_hosts=allowed) == []
    assert "github.com" not in text and "curl " not in text and "aws s3" not in text
    assert ".svc" not in text and "cluster.local" not in text


def test_the_url_check_finds_a_download_from_the_internet():
    text = render_cloud_init(spec("alpha")) + "\ncurl -fsSL https://github.com/prometheus/x.tar.gz\n"
    allowed = BOOTSTRAP_HOSTS | {"otlp.observability.internal"}
    assert urls_outside(text, allowed_hosts=allowed) == ["https://github.com/prometheus/x.tar.gz"]
