"""The host suite's hosts and what each must hold.

Real hosts (after `pulumi up`, in a cutover, in a DR drill): testinfra's own options name them, and
--stack names the stack whose plan they were deployed from:

  pytest tests/hosts --stack=staging --hosts=ssh://admin@10.0.1.23 --sudo
  pytest tests/hosts --stack=prod-green --ssh-config=~/.ssh/pipeline --hosts='ssh://alpha-*'
  pytest tests/hosts --stack=prod --ansible-inventory=ssm.yml --hosts='ansible://fleet_alpha'
  (Session Manager: an ansible inventory whose hosts use ansible_connection=amazon.aws.aws_ssm)

CI (`make test-hosts`, --local-host): local hosts booted from the fleets' image with the plan's user
data (tests/hosts/localhost.py); three that must come up (alpha, beta, gamma) and two whose bootstrap
must fail (a bad artifact checksum, a missing artifact). Without either, the suite skips.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from components.fleet import cloud_init
from lib import versions
from tests.hosts import artifacts, localhost
from tests.hosts.expected import STAGE, Expected, bucket_names, expected_hosts

CI_STACK = "staging"
GOOD = {"pipeline-alpha": "alpha", "pipeline-beta": "beta", "pipeline-gamma": "gamma"}
# Hosts whose bootstrap must fail, served by a second S3 stand-in (the broken bucket): beta's artifact
# there does not match the checksum published beside it; gamma's artifact is not there at all.
FAILING = {"pipeline-beta-badsum": "beta", "pipeline-gamma-missing": "gamma"}
BROKEN_S3_ADDRESS = "10.20.1.21"


def _mode(config) -> str | None:
    if config.getoption("--local-host"):
        return "local"
    if config.option.hosts or config.option.ansible_inventory:
        return "real"
    return None


def pytest_configure(config):
    if config.getoption("--local-host", default=False):
        work = Path(tempfile.mkdtemp(prefix="pipeline-hosts-"))
        config.stash[_WORK] = work
        config.option.hosts = ",".join(f"ssh://{name}" for name in GOOD)
        config.option.ssh_config = str(work / "ssh_config")


_WORK = pytest.StashKey[Path]()


def pytest_collection_modifyitems(config, items):
    if _mode(config) is not None:
        return
    skip = pytest.mark.skip(
        reason="no host: pass --hosts=... / --ansible-inventory (and --stack), or "
        "--local-host (make test-hosts)"
    )
    here = Path(__file__).parent
    for item in items:
        uses_a_host = {"host", "local_hosts", "failing"} & set(getattr(item, "fixturenames", ()))
        if here in Path(item.fspath).parents and uses_a_host:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def mode(request) -> str:
    return _mode(request.config)


@pytest.fixture(scope="session")
def stack(request, mode) -> str:
    name = request.config.getoption("--stack") or (CI_STACK if mode == "local" else None)
    if not name:
        pytest.fail("name the stack the hosts were deployed from: --stack=<name>")
    return name


# --- the plan the hosts were deployed from ----------------------------------------------------------
def _local_pins(monkeypatch_ctx) -> dict[str, str]:
    """On the local host the vendor artifacts (node exporter tarball, CloudWatch agent package) are the
    stand-ins the test builds: their digests replace the pins the plan renders (lib/versions.py
    NODE_EXPORTER_SHA256, CLOUDWATCH_AGENT_SHA256), as `make node-exporter-artifact` and `make
    cloudwatch-agent-artifact` pin the vendor's. Nothing else of the plan changes."""
    ne, agent = versions.NODE_EXPORTER_VERSION, versions.CLOUDWATCH_AGENT_VERSION
    pins = {
        "NODE_EXPORTER_SHA256": artifacts.sha256(artifacts.node_exporter_tarball(ne)),
        "CLOUDWATCH_AGENT_SHA256": artifacts.sha256(artifacts.agent_package(agent)),
    }
    for name, digest in pins.items():
        monkeypatch_ctx.setattr(versions, name, digest)
    return pins


@pytest.fixture(scope="session")
def plan(stack, mode):
    from planner.runtime import run_plan

    if mode != "local":
        return run_plan(stack)
    with pytest.MonkeyPatch.context() as mp:
        _local_pins(mp)
        return run_plan(stack)


@pytest.fixture(scope="session")
def expected_by_host(plan, stack):
    return expected_hosts(plan, stack)


# --- local hosts ------------------------------------------------------------------------------------
class LocalHosts:
    def __init__(
        self, work: Path, hosts: dict[str, localhost.Host], statuses: dict[str, str], vpc: localhost.Vpc
    ):
        self.work, self.hosts, self.statuses, self.vpc = work, hosts, statuses, vpc

    def s3_keys(self, bucket: str, prefix: str) -> list[str]:
        """The keys under prefix in the (good) S3 stand-in: what the hosts uploaded."""
        return self.vpc.s3_at(localhost.S3_ADDRESS, "list", bucket, prefix).split()

    @property
    def ssh_config(self) -> Path:
        return self.work / "ssh_config"


def _upload(vpc: localhost.Vpc, address: str, buckets: set[str], files: dict[str, bytes], work: Path):
    for bucket in sorted(buckets):
        vpc.s3_at(address, "make-bucket", bucket)
    for path, data in files.items():
        bucket, _, key = path.partition("/")
        local = work / "upload" / path
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(data)
        vpc.s3_at(address, "put", bucket, key, str(local))


def _bucket_files(expected: dict[tuple[str, str], Expected], artifact_bucket: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for exp in expected.values():
        version = exp.config["version"]
        data = artifacts.module_tarball(exp.module)
        key = f"artifacts/{exp.module}/{version}/{exp.module}-{version}.tar.gz"
        files[f"{artifact_bucket}/{key}"] = data
        files[f"{artifact_bucket}/{key}.sha256"] = (
            f"{artifacts.sha256(data)}  {key.rsplit('/', 1)[1]}\n".encode()
        )
    # the vendor artifacts, where the bootstrap fetches them (components/fleet/cloud_init.py)
    ne, agent = versions.NODE_EXPORTER_VERSION, versions.CLOUDWATCH_AGENT_VERSION
    files[f"{artifact_bucket}/{cloud_init.node_exporter_key(ne)}"] = artifacts.node_exporter_tarball(ne)
    files[f"{artifact_bucket}/{cloud_init.agent_key(agent)}"] = artifacts.agent_package(agent)
    return files


def artifact_bucket_of(exp: Expected, buckets: set[str]) -> str:
    """The bucket the bootstrap downloads the module artifact from (named in its script)."""
    script = exp.files[f"{STAGE}/bootstrap.sh"]
    found = [b for b in buckets if b in script and "artifact" in b]
    if len(found) != 1:
        raise ValueError(f"cannot tell the artifact bucket of {exp.module} among {sorted(buckets)}")
    return found[0]


@pytest.fixture(scope="session")
def local_hosts(request, mode, plan, expected_by_host) -> LocalHosts | None:
    if mode != "local":
        return None
    reason = localhost.why_not()
    if reason:
        if os.environ.get("PIPELINE_INFRA_REQUIRE_ENGINES") == "1":
            pytest.fail(f"local host: {reason}")
        pytest.skip(f"local host: {reason}")
    work = request.config.stash[_WORK]
    lower = localhost.build_root()
    colour = next(iter(expected_by_host))[1]
    by_module = {m: e for (m, c), e in expected_by_host.items() if c == colour}
    region = _region(by_module["alpha"])
    buckets = bucket_names(plan)
    artifact_bucket = artifact_bucket_of(by_module["alpha"], buckets)
    tag = f"pih{os.getpid() % 100000}"
    vpc = localhost.Vpc(tag, work, region, extra_s3=(BROKEN_S3_ADDRESS,))
    hosts: dict[str, localhost.Host] = {}
    try:
        vpc.up()
        good = _bucket_files(by_module, artifact_bucket)
        _upload(vpc, localhost.S3_ADDRESS, buckets, good, work)
        # The broken bucket: beta's artifact with another artifact's checksum beside it; no gamma.
        broken = {p: d for p, d in good.items() if "/gamma/" not in p}
        beta_sum = next(p for p in broken if p.endswith(".sha256") and "/beta/" in p)
        broken[beta_sum] = (
            f"{artifacts.sha256(b'another build')}  {beta_sum.rsplit('/', 1)[1][:-7]}\n".encode()
        )
        _upload(vpc, BROKEN_S3_ADDRESS, buckets, broken, work)
        key = work / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        pub = (work / "id_ed25519.pub").read_text()
        for name, module in {**GOOD, **FAILING}.items():
            s3 = BROKEN_S3_ADDRESS if name in FAILING else localhost.S3_ADDRESS
            h = localhost.Host(
                name,
                module,
                by_module[module].user_data_bytes,
                vpc,
                lower,
                work / name,
                tuple(sorted(buckets)),
                s3_address=s3,
            )
            hosts[name] = h
            h.prepare(pub)
        config = "".join(h.ssh_config(key, work / "known_hosts") for h in hosts.values())
        (work / "ssh_config").write_text(config)
        for h in hosts.values():
            h.boot()
        deadline = time.monotonic() + localhost.BOOT_TIMEOUT
        statuses = {
            n: localhost.wait_for_bootstrap(h, work / "ssh_config", deadline) for n, h in hosts.items()
        }
        yield LocalHosts(work, hosts, statuses, vpc)
    finally:
        for name in hosts:  # the shared ssh connections
            subprocess.run(["ssh", "-F", str(work / "ssh_config"), "-O", "exit", name], capture_output=True)
        for h in hosts.values():
            h.halt()
        for h in hosts.values():
            h.stop()
        vpc.down()
        if os.environ.get("HOSTS_KEEP_WORK") != "1":
            shutil.rmtree(work, ignore_errors=True)


def _region(exp: Expected) -> str:
    """The region the bootstrap addresses S3 in (its script's REGION or AWS_REGION)."""
    found = re.search(r"^(?:export )?(?:AWS_)?REGION=([a-z0-9-]+)$", exp.files[f"{STAGE}/bootstrap.sh"], re.M)
    if not found:
        raise ValueError(f"no region in the bootstrap of {exp.module}")
    return found[1]


# --- per host ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def expected(host, expected_by_host, local_hosts) -> Expected:
    """What this host must hold: its module (the one /opt/pipeline/<module> the bootstrap made) and
    colour (its config's) select the plan's launch template."""
    modules = [m for (m, _c) in expected_by_host if host.file(f"/opt/pipeline/{m}").is_directory]
    if len(modules) != 1:
        pytest.fail(
            f"{host.backend.get_pytest_id()}: expected one module directory under /opt/pipeline, "
            f"found {modules}"
        )
    module = modules[0]
    cfg = host.file(f"/opt/pipeline/{module}/config/{module}.yaml")
    colour = yaml.safe_load(cfg.content_string)["colour"] if cfg.exists else None
    if (module, colour) not in expected_by_host:
        pytest.fail(
            f"{module} host of colour {colour!r}: the plan of this stack has {sorted(expected_by_host)}"
        )
    return expected_by_host[(module, colour)]


@pytest.fixture(scope="session")
def is_local(mode) -> bool:
    return mode == "local"
