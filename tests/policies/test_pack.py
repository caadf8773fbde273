"""The pack as `pulumi preview --policy-pack policies` loads it and `pulumi policy publish` uploads it:
a version, its virtualenv ignored, imports only inside the folder, every rule listed by the analyzer
with its enforcement level; the seed figures file current."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import yaml

from planner.policy_baseline import BASELINE, DOC, render, render_doc
from policies import RULES, STACK_RULES, catalogue
from tests.policies.analyzer import LEVELS

REPO = Path(__file__).resolve().parents[2]
PACK = REPO / "policies"


def test_pulumi_policy_yaml_has_a_version_and_python_runtime():
    doc = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    assert doc["runtime"]["name"] == "python"
    assert doc["version"].count(".") == 2
    venv = doc["runtime"]["options"]["virtualenv"]
    ignored = subprocess.run(["git", "check-ignore", "-q", f"policies/{venv}/x"], cwd=REPO, check=False)
    assert ignored.returncode == 0, f"policies/{venv}/ is not ignored by git"


def test_pack_modules_import_only_inside_the_pack():
    allowed = {
        "__future__",
        "collections",
        "dataclasses",
        "functools",
        "importlib",
        "json",
        "pathlib",
        "re",
        "sys",
        "typing",
        "pulumi_policy",
        "yaml",  # policies/waivers.yaml (policies/requirements.txt names PyYAML, which pulumi needs too)
    }
    for path in PACK.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                top = (node.module or "").split(".")[0]
                assert top in allowed or (path.name == "__main__.py" and top == "policies"), (path.name, top)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] in allowed, (path.name, alias.name)


def test_analyzer_lists_every_rule_with_its_enforcement(analyzer):
    info = analyzer.info()
    assert info.name == "pipeline-infra"
    listed = {p.name: p for p in info.policies}
    assert set(listed) == {r["name"] for r in catalogue()}
    for r in RULES:
        assert LEVELS[listed[r.name].enforcementLevel] == r.enforcement
        assert listed[r.name].policy_type == 1  # POLICY_TYPE_RESOURCE
        assert listed[r.name].framework.reference == r.source
    for r in STACK_RULES:
        assert LEVELS[listed[r.name].enforcementLevel] == r.enforcement
        assert listed[r.name].policy_type == 2  # POLICY_TYPE_STACK


def test_counts():
    assert len(RULES) >= 30
    assert len(STACK_RULES) >= 6


def test_baseline_is_current():
    assert BASELINE.read_text(encoding="utf-8") == render(), "run make policy-baseline"


def test_baseline_pins_the_seed_figures():
    import json

    b = json.loads(BASELINE.read_text())
    # seed 003 Backup Classifications: state 7 days, database full 30 days, incremental 7 days.
    assert {k: v for k, v in b["backup_retention_days"].items() if k != "source"} == {
        "state/": 7,
        "database/full/": 30,
        "database/incremental/": 7,
    }
    # seed 003 Log Retention: audit 7 years; Rolling Update: alpha drain 60 s / 5 min, beta 120 s / 10 min.
    assert b["audit_lock_years"] == 7
    assert b["fleet_timing"]["alpha"] == {"drain_seconds": 60, "stabilisation_seconds": 300}
    assert b["fleet_timing"]["beta"] == {"drain_seconds": 120, "stabilisation_seconds": 600}
    # seed 003 Reserved Capacity 3/5/3 and Compute Capacity 4/6/4 (production fleet).
    assert [b["fleets"]["production"][m]["min"] for m in ("alpha", "beta", "gamma")] == [3, 5, 3]
    assert [b["fleets"]["production"][m]["desired"] for m in ("alpha", "beta", "gamma")] == [4, 6, 4]


def test_policies_doc_is_current_and_names_every_rule():
    text = DOC.read_text(encoding="utf-8")
    assert text == render_doc(), "run make policy-doc"
    for entry in catalogue():
        assert f"`{entry['name']}`" in text


def test_every_rule_says_why():
    from planner.policy_baseline import WHY

    assert set(WHY) == {entry["name"] for entry in catalogue()}
    assert all(len(text) > 20 for text in WHY.values())
