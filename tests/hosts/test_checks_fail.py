"""Each check of the host suite fails on a host that violates it: here the host is this machine
(testinfra's local backend) and the violations are trees laid out under a temporary directory."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from pathlib import Path

import pytest
import testinfra

from tests.hosts import checks


@pytest.fixture
def local():
    return testinfra.get_host("local://")


def _tree(tmp_path, mode_of: dict[str, int]) -> str:
    base = tmp_path / "opt/pipeline/alpha"
    for d in ("bin", "lib", "config", "data", "logs"):
        (base / d).mkdir(parents=True)
    (base / "bin/alpha").write_text("#!/bin/sh\n")
    (base / "config/alpha.yaml").write_text("module: alpha\n")
    modes = {
        "bin": 0o755,
        "lib": 0o755,
        "config": 0o750,
        "data": 0o750,
        "logs": 0o750,
        "bin/alpha": 0o755,
        "config/alpha.yaml": 0o640,
        **mode_of,
    }
    for rel, mode in modes.items():
        os.chmod(base / rel, mode)
    return str(base)


def _own(base: str, user: str) -> None:
    for rel in ("config", "config/alpha.yaml", "data", "logs"):
        os.chown(
            f"{base}/{rel}",
            0 if rel.startswith("config") else pwd.getpwnam(user).pw_uid,
            pwd.getpwnam(user).pw_gid,
        )


@pytest.fixture
def service_user():
    """The layout check names the `pipeline` owner; the fixture trees need it (root only)."""
    if os.geteuid() != 0:
        pytest.skip("the fixture trees set owners: needs root")
    try:
        pwd.getpwnam(checks.SERVICE_USER)
        yield checks.SERVICE_USER
        return
    except KeyError:
        pass
    os.system(f"useradd --system --no-create-home --shell /usr/sbin/nologin {checks.SERVICE_USER}")
    yield checks.SERVICE_USER
    os.system(f"userdel {checks.SERVICE_USER}")


def test_layout_passes_on_the_seed_layout(local, tmp_path, service_user):
    base = _tree(tmp_path, {})
    _own(base, service_user)
    checks.layout(local, base, {"bin", "config", "lib", "logs", "data"})


@pytest.mark.parametrize(
    ("rel", "mode"), [("bin/alpha", 0o775), ("config/alpha.yaml", 0o644), ("data", 0o755), ("lib", 0o700)]
)
def test_layout_fails_on_a_wrong_mode(local, tmp_path, service_user, rel, mode):
    base = _tree(tmp_path, {rel: mode})
    _own(base, service_user)
    with pytest.raises(AssertionError, match=rel.split("/")[0]):
        checks.layout(local, base, {"bin", "config", "lib", "logs", "data"})


def test_layout_fails_on_a_missing_directory(local, tmp_path, service_user):
    base = _tree(tmp_path, {})
    _own(base, service_user)
    with pytest.raises(AssertionError, match="expected"):
        checks.layout(local, base, {"bin", "config", "lib", "logs", "data", "cache"})


def test_secret_keys_finds_a_literal_and_accepts_a_reference():
    assert checks.secret_keys({"database": {"credentials_ref": "ssm:/pipeline/staging/alpha/postgres"}}) == []
    assert checks.secret_keys({"database": {"password": "hunter22"}}) == ["database.password"]
    assert checks.secret_keys({"sources": [{"api_key": "abc123456"}]}) == ["sources[0].api_key"]


@pytest.fixture
def open_dir():
    """A directory every user can search (pytest's own tmp_path is root's only)."""
    path = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="pipeline-checks-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def test_world_readable_secret_found_and_private_one_not(local, open_dir):
    tmp_path = open_dir
    (tmp_path / "open").mkdir(mode=0o755)
    (tmp_path / "closed").mkdir(mode=0o750)
    for d in ("open", "closed"):
        (tmp_path / d / "creds").write_text("aws_secret_access_key = wJalrXUtnFEMIK7MDENGbPxRfiCY\n")
        (tmp_path / d / "creds").chmod(0o644)
    (tmp_path / "open/config.yaml").write_text("credentials_ref: ssm:/pipeline/x\n")
    (tmp_path / "open/config.yaml").chmod(0o644)
    parents = str(tmp_path).strip("/").split("/")
    if not all(os.stat("/" + "/".join(parents[: i + 1])).st_mode & 0o001 for i in range(len(parents))):
        pytest.skip(f"{tmp_path} is not reachable by others here")
    assert checks.world_readable_secrets(local, [str(tmp_path)]) == [str(tmp_path / "open/creds")]


def test_every_four_hours_rejects_other_schedules():
    checks.every_four_hours(["00:00:00", "04:00:00", "08:00:00"])
    for bad in (["03:00:00"], ["04:30:00"], []):
        with pytest.raises(AssertionError):
            checks.every_four_hours(bad)


def test_internet_unreachable_fails_when_the_host_connects(local):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as listening:
        port = listening.getsockname()[1]
        with pytest.raises(AssertionError, match="reached"):
            checks.internet_unreachable(local, ("127.0.0.1", port))
    assert checks.internet_unreachable(local, ("127.0.0.1", port))  # closed now: refused


def test_egress_rules_reject_the_internet_and_s3_off_443():
    s3 = {"prefixListId": "pl-1", "fromPort": 443, "toPort": 443, "ipProtocol": "tcp"}
    vpc = {"cidrIpv4": "10.20.0.0/16", "fromPort": 5432, "toPort": 5432, "ipProtocol": "tcp"}
    checks.egress_allows_only_s3_and_vpc([s3, vpc])
    with pytest.raises(AssertionError, match="internet"):
        checks.egress_allows_only_s3_and_vpc([s3, {**vpc, "cidrIpv4": "0.0.0.0/0"}])
    with pytest.raises(AssertionError):
        checks.egress_allows_only_s3_and_vpc([{**s3, "fromPort": 0, "toPort": 65535}, vpc])
    with pytest.raises(AssertionError):
        checks.egress_allows_only_s3_and_vpc([vpc])  # no S3 rule: the bootstrap could not download
