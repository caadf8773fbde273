"""The rendered artifacts are valid as rendered (issue 11, item 14): every Kubernetes manifest that
`python -m planner plan --render` writes for an AWS stack is one non-empty document, names itself, and
passes its schema as written (custom resources strictly against the pinned operators' CRDs, core
objects with kubernetes-validate, strict, the EKS version) with nothing stripped or filled in first."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from lib import versions
from planner.render import render
from tests.support.crds import known_kinds, schema_errors

STACKS = [("staging", {}), ("prod", {}), ("prod-dr", {}), ("prod-dr", {"dr.role": "primary"})]


def rendered_manifest_problems(folder: Path) -> list[str]:
    """Problems of the manifests under `folder` (render's kubernetes/ folder), file by file."""
    crd_kinds = known_kinds()
    problems: list[str] = []
    files = sorted(folder.glob("*.yaml"))
    if not files:
        return [f"{folder}: no manifests rendered"]
    for path in files:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8"))]
        if len(docs) != 1 or not isinstance(docs[0], dict) or not docs[0]:
            problems.append(f"{path.name}: not exactly one non-empty document ({docs!r:.60})")
            continue
        (doc,) = docs
        if not (doc.get("metadata") or {}).get("name"):
            problems.append(f"{path.name}: no metadata.name")
        if (doc.get("apiVersion"), doc.get("kind")) in crd_kinds:
            problems += [f"{path.name}: {e}" for e in schema_errors(doc)]
            continue
        try:
            kubernetes_validate.validate(doc, f"{versions.EKS_VERSION}.0", strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{path.name}: {exc.message}")
    return problems


@pytest.mark.parametrize("stack,overrides", STACKS, ids=[f"{s}{'-promoted' if o else ''}" for s, o in STACKS])
def test_every_rendered_manifest_is_valid_as_written(plan_of, tmp_path, stack, overrides) -> None:
    render(plan_of(stack, overrides), tmp_path)
    folder = tmp_path / "kubernetes"
    assert rendered_manifest_problems(folder) == []
    secrets = [yaml.safe_load(p.read_text()) for p in folder.glob("*.yaml")]
    secrets = [d for d in secrets if d["kind"] == "Secret" and "stringData" in d]
    assert secrets, "the stack declares Secrets"
    for doc in secrets:
        # Keys are written, values never.
        assert doc["stringData"] and set(doc["stringData"].values()) == {"[secret]"}, doc["metadata"]


def test_the_check_fails_on_a_redacted_map_an_empty_document_and_a_nameless_object(tmp_path) -> None:
    """What render wrote before: `stringData: '[secret]'`, an empty document for a read, no name."""
    bad = {
        "secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: n}\n"
        "stringData: '[secret]'\n",
        "read.yaml": "{}\n",
        "job.yaml": yaml.safe_dump(
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"namespace": "n"},
                "spec": {
                    "template": {
                        "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}
                    }
                },
            }
        ),
    }
    for name, text in bad.items():
        (tmp_path / name).write_text(text)
    problems = rendered_manifest_problems(tmp_path)
    assert any(p.startswith("secret.yaml") for p in problems), problems
    assert any(p.startswith("read.yaml") for p in problems), problems
    assert any(p.startswith("job.yaml: no metadata.name") for p in problems), problems
