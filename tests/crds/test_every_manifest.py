"""Every Kubernetes object every AWS stack declares, checked by the schema its API server would apply:
custom resources strictly against the pinned operators' CRDs, core objects with kubernetes-validate
(strict, the EKS version). The per-area suites check their own objects in depth; this one makes sure
no object of any area escapes a schema check."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from lib import versions
from tests.support.crds import known_kinds, schema_errors

STACKS = [("staging", {}), ("prod", {}), ("prod-dr", {}), ("prod-dr", {"dr.role": "primary"})]


def _objects(plan):
    """Declared objects (a read of an existing object has no inputs); Helm releases are not objects."""
    for r in plan.kubernetes():
        if r.type == "kubernetes:helm.sh/v3:Release" or not r.inputs.get("apiVersion"):
            continue
        yield r, {k: v for k, v in r.inputs.items() if not k.startswith("__")}


@pytest.mark.parametrize("stack,overrides", STACKS, ids=[f"{s}{'-promoted' if o else ''}" for s, o in STACKS])
def test_every_kubernetes_object_passes_its_schema(plan_of, stack, overrides):
    plan = plan_of(stack, overrides)
    crd_kinds = known_kinds()
    problems, custom, core = [], 0, 0
    for r, manifest in _objects(plan):
        if (manifest["apiVersion"], manifest["kind"]) in crd_kinds:
            custom += 1
            problems += [f"{r.name}: {e}" for e in schema_errors(manifest)]
            continue
        core += 1
        doc = copy.deepcopy(manifest)  # the plan is shared by the session's tests: never mutate it
        doc.setdefault("metadata", {}).setdefault("name", r.name)
        # Pulumi-level placeholders: secret values and outputs unknown before deployment.
        if "[secret]" in str(doc) or "[unknown]" in str(doc):
            doc = _without_placeholders(doc)
        try:
            kubernetes_validate.validate(doc, f"{versions.EKS_VERSION}.0", strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{r.name}: {exc.message}")
    assert not problems, "\n".join(problems)
    assert custom >= 20 and core >= 20, (custom, core)


def _without_placeholders(value):
    if isinstance(value, dict):
        return {k: _without_placeholders(v) for k, v in value.items() if v not in ("[secret]", "[unknown]")}
    if isinstance(value, list):
        return [_without_placeholders(v) for v in value if v not in ("[secret]", "[unknown]")]
    return value
