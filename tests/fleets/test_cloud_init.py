"""The rendered cloud-init of each module: its content against seed 003, checked by the real
`cloud-init schema`, its systemd units by `systemd-analyze verify`, and the host tree its bootstrap
lays out (under a temporary root) by testinfra."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import pwd
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from components.fleet.cloud_init import USER_DATA_LIMIT, CloudInitSpec, module_config, render_cloud_init
from components.fleet.settings import ModuleParams
from lib import versions
from tests.support.engines import engine

MODULES = ("alpha", "beta", "gamma")
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
def test_user_data_fits_ec2(module):
    assert len(render_cloud_init(spec(module, artifact_sha256="a" * 64)).encode()) <= USER_DATA_LIMIT == 16384


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
    assert f"s3://pipeline-backups/state/{module}/" in script


# seed 003 State Recovery downloads these names (alpha-state-latest.tar.gz, beta-cache-latest.json)
LATEST = {
    "alpha": ["alpha-state-latest.tar.gz"],
    "beta": ["beta-state-latest.tar.gz", "beta-cache-latest.json"],
    "gamma": ["gamma-state-latest.tar.gz", "gamma-dlq-latest.tar.gz"],
}


@pytest.mark.parametrize("module", MODULES)
def test_state_backup_keeps_latest_copies_and_reports_success(module, tmp_path):
    # run the script's copy loop and textfile lines with a stand-in `aws` that records its arguments
    script = files(module)["/var/lib/pipeline-bootstrap/pipeline-state-backup"]["content"]
    loop = [line for line in script.splitlines() if line.startswith("for f in")][0]
    textfile = [line for line in script.splitlines() if "textfile" in line]
    work = tmp_path / "work"
    work.mkdir()
    stamp = "20261201-080000"
    for name in LATEST[module]:
        (work / name.replace("latest", stamp)).write_text("x")
    log, textdir = tmp_path / "aws.log", tmp_path / "textfile"
    (tmp_path / "aws").write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    (tmp_path / "aws").chmod(0o755)
    lines = [line.replace("/var/lib/node_exporter/textfile", str(textdir)) for line in [loop, *textfile]]
    program = "\n".join([f"WORK={work}", f"STAMP={stamp}", "HOST=i-1", *lines])
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", program],
                         env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    copies = log.read_text().splitlines()
    assert sorted(c.split()[-1].rsplit("/", 1)[1] for c in copies) == sorted(LATEST[module])
    assert all(f"s3://pipeline-backups/state/{module}/i-1/" in c for c in copies)
    prom = (textdir / "pipeline_state_backup.prom").read_text()
    assert prom.splitlines()[-1].startswith("pipeline_state_backup_last_success_timestamp_seconds ")
    # the copies and the success follow the upload (set -e: a failed upload reports nothing)
    assert script.index("--recursive") < script.index(loop) < script.index(textfile[0])


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


def _fake_aws(tmp: Path) -> dict[str, str]:
    """An `aws` on PATH that serves s3://bucket/key from a local folder (no cloud here)."""
    bindir = tmp / "fakebin"
    bindir.mkdir()
    aws = bindir / "aws"
    aws.write_text(f"""#!/bin/bash
# aws s3 cp [options] s3://bucket/key dest
args=(); skip=0
for a in "$@"; do
  if [ $skip = 1 ]; then skip=0; continue; fi
  case $a in --region) skip=1 ;; --*) ;; *) args+=("$a") ;; esac
done
src=${{args[2]}}; dst=${{args[3]}}
[ "${{args[0]}} ${{args[1]}}" = "s3 cp" ] || exit 3
key=${{src#s3://*/}}
cp "{tmp}/store/$key" "$dst"
""")
    aws.chmod(0o755)
    return {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}


def test_artifact_with_the_pinned_digest_installs_and_verifies(tmp_path, service_user):
    _, digest = _artifact(tmp_path, "alpha")
    root = _layout(tmp_path / "root", "alpha", artifact_sha256=digest)
    env = {**_fake_aws(tmp_path), "PIPELINE_ROOT": str(root)}
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


def test_artifact_with_a_wrong_digest_is_refused_and_nothing_installed(tmp_path, service_user):
    _artifact(tmp_path, "beta")
    root = _layout(tmp_path / "root", "beta", artifact_sha256="f" * 64)
    env = {**_fake_aws(tmp_path), "PIPELINE_ROOT": str(root)}
    script = root / "var/lib/pipeline-bootstrap/bootstrap.sh"
    out = subprocess.run([str(script), "artifact", "services"], capture_output=True, text=True, env=env)
    assert out.returncode != 0
    assert "refusing" in out.stderr
    assert "step services" not in out.stderr  # the bootstrap stopped before starting anything
    assert not (root / "opt/pipeline/beta/bin/beta").exists()
