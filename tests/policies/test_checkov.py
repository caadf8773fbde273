"""checkov over every rendered Kubernetes manifest of every stack (tests/golden/render/<stack>/kubernetes,
which tests/golden keeps equal to what the program declares), no check skipped: every failure is
waived by policies/waivers.yaml with its reason, and every checkov waiver still matches a failure (a
fixed one is deleted). A manifest breaking an unwaived check fails the run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from policies import waivers
from tests.support.checkov import run

pytestmark = pytest.mark.engine

RENDER = Path(__file__).resolve().parents[1] / "golden" / "render"
STACKS = sorted(p.parent.name for p in RENDER.glob("*/kubernetes"))


def test_every_rendered_manifest_passes_checkov_or_is_waived():
    assert STACKS == ["prod", "prod-dr", "staging"]
    used: set[tuple[str, str]] = set()
    summary = {}
    for stack in STACKS:
        result = run(RENDER / stack / "kubernetes")
        assert result.failed == [], f"{stack}: {result.failed}"
        assert result.passed > 250, stack  # checkov really ran over the stack's manifests
        used |= {(check, resource) for check, resource, _ in result.waived if check != "CKV_K8S_43"}
        summary[stack] = (result.passed, len(result.waived))
    assert set(waivers.load().checkov) == used, "a checkov waiver matches no failure: delete it"
    print(summary)


def test_an_unwaived_failure_fails_and_a_waived_image_does_not(tmp_path):
    src = RENDER / "prod" / "kubernetes"
    job = yaml.safe_load((src / "scylla-schema-job.yaml").read_text(encoding="utf-8"))
    for name in ("scylla-schema-job.yaml", "scylla-schema.yaml"):
        shutil.copy(src / name, tmp_path / name)
    for name in src.glob("network-policies-scylla-*.yaml"):
        shutil.copy(name, tmp_path / name.name)
    clean = run(tmp_path)
    assert clean.failed == [] and [w[0] for w in clean.waived] == ["CKV_K8S_43"]
    # The same Job with an image nobody waived, and a privileged container: both fail.
    container = job["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "docker.io/library/busybox:1.37"
    container["securityContext"]["privileged"] = True
    (tmp_path / "scylla-schema-job.yaml").write_text(yaml.safe_dump(job), encoding="utf-8")
    broken = run(tmp_path)
    checks = {f.split()[0] for f in broken.failed}
    assert {"CKV_K8S_43", "CKV_K8S_16"} <= checks, broken.failed
