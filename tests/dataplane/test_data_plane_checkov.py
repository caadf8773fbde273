"""checkov over the data plane's core manifests (Namespaces, Secrets, ConfigMaps, Jobs, NetworkPolicies)
as the plans of prod and prod-dr (promoted, so that both Jobs exist) declare them; no check skipped,
failures waived only by policies/waivers.yaml."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tests.support.checkov import run_checkov

pytestmark = pytest.mark.engine

CORE = (
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:batch/v1:Job",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
)


@pytest.mark.parametrize(("stack", "overrides"), [("prod", {}), ("prod-dr", {"dr.role": "primary"})])
def test_core_manifests_pass_checkov(plan_of, tmp_path: Path, stack: str, overrides: dict) -> None:
    plan = plan_of(stack, overrides)
    written = 0
    for r in plan.resources:
        if r.type in CORE and r.name.split("-")[0] in ("operators", "scylla", "postgres", "network"):
            # A copy: the session shares its plans, which must stay as the program declared them.
            doc = copy.deepcopy({k: v for k, v in r.inputs.items() if not k.startswith("__")})
            doc.setdefault("metadata", {}).setdefault("name", r.name)
            (tmp_path / f"{r.name}.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
            written += 1
    assert written >= 10
    failed, passed = run_checkov(tmp_path)  # waivers: policies/waivers.yaml
    assert not failed, "\n".join(failed)
    assert passed > 50  # checkov really ran over the manifests
