"""checkov, which lives in its own virtualenv (.venv-checkov, made by `make engines`: its pins clash
with pulumi's). Like tests/support/engines.py: skipped when absent on a workstation, failing in CI.

No check is skipped: a failure is waived only by the checked-in list (policies/waivers.yaml), the one
the policy pack reads too. CKV_K8S_43 (image digests) is waived on a resource when every image of it
not pinned by digest is a waived image; any other check by its (check, resource) entry."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies import waivers as waiver_list

REPO = Path(__file__).resolve().parents[2]
DIGEST_CHECK = "CKV_K8S_43"


def checkov() -> str:
    path = REPO / ".venv-checkov" / "bin" / "checkov"
    if not path.is_file():
        message = "checkov is not installed (make engines creates .venv-checkov)"
        if os.environ.get("PIPELINE_INFRA_REQUIRE_ENGINES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return str(path)


@dataclass
class Result:
    failed: list[str] = field(default_factory=list)  # "<check> <resource>: <name>", not waived
    waived: list[tuple[str, str, str]] = field(default_factory=list)  # (check, resource, reason)
    passed: int = 0


def _images(doc: Any) -> list[str]:
    """Every `image` of a manifest's containers and init containers."""
    out: list[str] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                out += [c["image"] for c in value if isinstance(c, dict) and isinstance(c.get("image"), str)]
            else:
                out += _images(value)
    elif isinstance(doc, list):
        for item in doc:
            out += _images(item)
    return out


def _resource_images(folder: Path, file_path: str, resource: str) -> list[str]:
    """The images of the manifest checkov names `resource` (<Kind>.<namespace>.<name>) in its file."""
    kind, _, rest = resource.partition(".")
    path = folder / Path(file_path).name
    for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        meta = (doc or {}).get("metadata") or {}
        if doc.get("kind") == kind and rest.endswith(str(meta.get("name"))):
            return _images(doc)
    return []


def waiver_for(check: str, resource: str, images: Iterable[str], w: waiver_list.Waivers) -> str | None:
    if check == DIGEST_CHECK:
        unpinned = [i for i in images if not waiver_list._DIGEST.search(i)]
        reasons = [w.images.get(waiver_list.repository(i)) for i in unpinned]
        return reasons[0] if unpinned and all(reasons) else None
    return w.checkov.get((check, resource))


def run(folder: Path, w: waiver_list.Waivers | None = None) -> Result:
    """checkov's Kubernetes checks over the manifests in `folder`, every failure waived or not."""
    w = w or waiver_list.load()
    proc = subprocess.run(
        [
            checkov(),
            "-d",
            str(folder),
            "--framework",
            "kubernetes",
            "--output",
            "json",
            "--quiet",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = json.loads(proc.stdout or "{}")
    reports = report if isinstance(report, list) else [report]
    out = Result(passed=sum(rep.get("summary", {}).get("passed", 0) for rep in reports))
    for rep in reports:
        for c in rep.get("results", {}).get("failed_checks", []):
            check, resource = c["check_id"], c["resource"]
            images = _resource_images(folder, c["file_path"], resource) if check == DIGEST_CHECK else []
            reason = waiver_for(check, resource, images, w)
            if reason is None:
                out.failed.append(f"{check} {resource}: {c['check_name']}")
            else:
                out.waived.append((check, resource, reason))
    return out


def run_checkov(folder: Path) -> tuple[list[str], int]:
    """(failed checks not waived, passed count) of checkov over `folder`."""
    result = run(folder)
    return result.failed, result.passed
