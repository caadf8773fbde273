"""The Python dependencies are locked: requirements-dev.lock (what `make` installs) and requirements.txt
(the program's own, what `pulumi install` installs with Pulumi.yaml's pip toolchain) are exact, hashed
pins; every runtime pin is the lock's; both satisfy pyproject.toml; requirements.txt is the program's
whole dependency closure and nothing of the dev tools. Each comparison is also run on a fixture that
breaks it."""

from __future__ import annotations

import tomllib
from importlib import metadata

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.versions import lockfile
from tests.versions.scan import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
RUNTIME_DEPS = PYPROJECT["dependencies"]
DEV_DEPS = PYPROJECT["optional-dependencies"]["dev"]
LOCK, LOCK_PROBLEMS = lockfile.parse((REPO / "requirements-dev.lock").read_text())
RUNTIME, RUNTIME_PROBLEMS = lockfile.parse((REPO / "requirements.txt").read_text())


def test_both_files_are_exact_hashed_pins():
    assert LOCK_PROBLEMS == [] and RUNTIME_PROBLEMS == []
    assert len(LOCK) > len(RUNTIME) >= len(RUNTIME_DEPS)


def test_requirements_txt_is_in_sync_with_the_lock():
    assert lockfile.out_of_sync(RUNTIME, LOCK) == []


def test_both_satisfy_pyproject():
    assert lockfile.unmet(RUNTIME_DEPS, RUNTIME) == []
    assert lockfile.unmet(RUNTIME_DEPS + DEV_DEPS, LOCK) == []


def test_requirements_txt_is_the_program_closure_and_no_dev_tool():
    here = {name for name, pin in RUNTIME.items() if lockfile.applies_here(pin)}
    assert here == lockfile.installed_closure(RUNTIME_DEPS)
    dev_tools = {canonicalize_name(Requirement(r).name) for r in DEV_DEPS}
    assert dev_tools <= set(LOCK) and dev_tools.isdisjoint(RUNTIME)


def test_this_environment_runs_the_locked_versions():
    # `make` installs requirements-dev.lock: a stale virtualenv (`make venv` after `make lock`) shows here.
    wrong = {
        name: (pin.version, metadata.version(name))
        for name, pin in LOCK.items()
        if lockfile.applies_here(pin) and metadata.version(name) != pin.version
    }
    assert wrong == {}


def test_pulumi_installs_requirements_txt():
    # Pulumi's pip toolchain creates the virtualenv and runs `pip install -r requirements.txt` (only
    # that file; pulumi/pulumi sdk/python/toolchain/pip.go, InstallDependencies).
    runtime = yaml.safe_load((REPO / "Pulumi.yaml").read_text())["runtime"]
    assert runtime["name"] == "python"
    assert runtime["options"] == {"toolchain": "pip", "virtualenv": ".venv"}


def test_a_drifted_runtime_pin_is_found():
    pulumi = LOCK["pulumi"]
    bumped = f"pulumi==3.999.0 \\\n    --hash={next(iter(pulumi.hashes))}\n"
    stray = "leftpad==1.0 \\\n    --hash=sha256:00\n"
    pins, problems = lockfile.parse(bumped + stray)
    assert problems == []
    assert lockfile.out_of_sync(pins, LOCK) == [
        "leftpad==1.0 is not in requirements-dev.lock",
        "pulumi: requirements.txt and requirements-dev.lock differ in version",
    ]
    grpcio = LOCK["grpcio"]  # one wheel per platform: one hash left out
    fewer = f"grpcio=={grpcio.version} \\\n    --hash={sorted(grpcio.hashes)[0]}\n"
    assert len(grpcio.hashes) > 1
    assert lockfile.out_of_sync(lockfile.parse(fewer)[0], LOCK) == [
        "grpcio: requirements.txt and requirements-dev.lock differ in hashes"
    ]


def test_a_loose_or_unhashed_line_is_found():
    pins, problems = lockfile.parse("pulumi>=3.200\nclick==8.5.1\n")
    assert problems == [
        "not an exact pin: pulumi>=3.200",
        "click: every pin needs --hash=sha256 options only",
    ]
    assert lockfile.unmet(["pydantic>=2.8,<3", "click>=9"], pins) == [
        "pydantic is not pinned",
        "click==8.5.1 is outside >=9",
    ]
