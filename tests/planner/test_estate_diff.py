"""The pull-request comment (python -m planner estate-diff): the estate of this tree against a base
tree, evaluated by the base's own planner. The base here is this commit with staging changed in three
places; the comment must show each: a node group replacement (force-new instance type), a Scylla rack
storage change the operator refuses (a stateful replacement) and the fleet capacity and cost change,
and the check finding the head fixes (the base's PostgreSQL asks for more cpu than its node offers)."""

from __future__ import annotations

import subprocess
import tarfile

import pytest
import yaml

from planner.checks import run_checks
from planner.prdiff import MARKER, base_estate, estate_diff, markdown
from planner.report import estate_json
from planner.runtime import REPO
from tests.conftest import estate_of


@pytest.fixture(scope="module")
def changed_base(tmp_path_factory):
    tree = tmp_path_factory.mktemp("base")
    archive = tree / "head.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", "HEAD"], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tree / "repo", filter="data")
    path = tree / "repo" / "Pulumi.staging.yaml"
    doc = yaml.safe_load(path.read_text())
    cfg = doc["config"]
    cfg["pipeline-infra:cluster"]["node_groups"]["postgres"]["instance_type"] = "r6i.xlarge"
    cfg["pipeline-infra:scylla"]["storage_gib"] = 200
    cfg["pipeline-infra:fleets"]["overrides"] = {"beta": {"desired": 4, "max": 6}}
    # the base's PostgreSQL asks for more cpu than a node offers: a finding the head fixes
    cfg["pipeline-infra:postgres"]["resources"] = {"cpu": "4", "memory": "8Gi"}
    path.write_text(yaml.safe_dump(doc))
    return base_estate(str(tree / "repo"), REPO)


@pytest.fixture(scope="module")
def result(changed_base):
    head = estate_json(estate_of())
    head["checks"] = run_checks(head)
    return estate_diff(changed_base, head)


def test_only_staging_changes(result):
    for name, s in result["stacks"].items():
        if name != "staging":
            assert not (s["created"] or s["replaced"] or s["changed"] or s["deleted"]), name


def test_node_group_replacement_and_refused_storage_change(result):
    s = result["stacks"]["staging"]
    replaced = {r["name"]: r for r in s["replaced"]}
    assert "instanceTypes[0]: force-new" in replaced["staging-cluster-postgres"]["reasons"][0]
    assert "scylla-operator" in replaced["scylla-cluster"]["reasons"][0]
    at_risk = {r["name"] for r in s["stateful_at_risk"]}
    assert {"staging-cluster-postgres", "scylla-cluster"} <= at_risk


def test_capacity_and_cost_change(result):
    s = result["stacks"]["staging"]
    assert s["capacity"] == {"beta": {
        "base": {"instance_type": "m7i.2xlarge", "min": 3, "desired": 4, "max": 6, "monthly_cost": 1177.35},
        "head": {"instance_type": "m7i.2xlarge", "min": 3, "desired": 3, "max": 6, "monthly_cost": 883.01},
    }}
    assert round(s["monthly_cost"]["base"] - s["monthly_cost"]["head"], 2) == 294.34


def test_markdown_comment(result):
    text = markdown(result, "base")
    assert text.startswith(MARKER)
    assert "| staging | 0 | 2 |" in text
    assert "**replace** `staging-cluster-postgres`" in text
    assert "| scheduling | critical | mandatory | pass |" in text
    assert "0 new finding(s), 1 fixed." in text
    assert "- fixed: scheduling `staging` postgres-cluster" in text
    [fixed] = result["fixed_findings"]
    cluster = "postgres-cluster [kubernetes:postgresql.cnpg.io/v1:Cluster]"
    assert fixed[:3] == ("scheduling", "staging", cluster)
