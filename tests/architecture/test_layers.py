"""The layers point one way (lib <- components <- stacks <- planner / policies) and the component
packages are independent: import-linter's contracts in pyproject.toml, run on the real tree and
shown failing on a copy with one forbidden import added. And every ComponentResource's type token
names its folder and its class (`pipeline-infra:<folder>:<Class>`), so a resource in a plan or in
state points to its code."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("lib", "components", "stacks", "planner", "policies")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for pkg in PACKAGES:
        shutil.copytree(REPO / pkg, root / pkg, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_tree_keeps_both_contracts():
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_an_upward_import_breaks_the_layers_contract(tmp_path):
    root = _copy(tmp_path)
    module = root / "components" / "fleet" / "profile.py"
    module.write_text(module.read_text() + "\nfrom stacks.settings import StackSettings  # noqa\n")
    result = _lint(root)
    assert result.returncode == 1
    assert "planner > stacks | policies > components > lib BROKEN" in result.stdout
    assert "components.fleet.profile -> stacks.settings" in result.stdout


def test_a_component_importing_a_sibling_breaks_independence(tmp_path):
    root = _copy(tmp_path)
    module = root / "components" / "backups" / "layout.py"
    module.write_text(module.read_text() + "\nfrom components.cluster import spec  # noqa\n")
    result = _lint(root)
    assert result.returncode == 1
    assert "component packages are independent: what they share lives in lib BROKEN" in result.stdout
    assert "components.backups.layout -> components.cluster" in result.stdout


def _component_classes() -> list[tuple[Path, str, str]]:
    """(file, class name, type token) of every ComponentResource subclass under components/."""
    found = []
    for path in sorted((REPO / "components").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            if not any(ast.unparse(b).endswith("ComponentResource") for b in node.bases):
                continue
            tokens = [
                c.args[0].value
                for c in ast.walk(node)
                if isinstance(c, ast.Call)
                and ast.unparse(c.func) == "super().__init__"
                and c.args
                and isinstance(c.args[0], ast.Constant)
            ]
            assert len(tokens) == 1, f"{path}: {node.name} must pass one literal type token"
            found.append((path, node.name, tokens[0]))
    return found


def test_every_type_token_names_its_folder_and_class():
    classes = _component_classes()
    # Tokens are part of every child's URN: changing one is a deliberate, aliased change, never a move.
    assert sorted(token for _, _, token in classes) == [
        "pipeline-infra:backups:BackupChecks",
        "pipeline-infra:backups:Backups",
        "pipeline-infra:backups:LogArchive",
        "pipeline-infra:cluster:EksCluster",
        "pipeline-infra:dataplane:DataPlaneNetwork",
        "pipeline-infra:dataplane:Operators",
        "pipeline-infra:dataplane:Postgres",
        "pipeline-infra:dataplane:ScyllaDb",
        "pipeline-infra:dataplane:SeedZone",
        "pipeline-infra:fleet:Fleet",
        "pipeline-infra:fleet:FleetCredentials",
        "pipeline-infra:local:DockerJob",
        "pipeline-infra:local:DockerService",
        "pipeline-infra:network:Network",
        "pipeline-infra:network:VpcPeering",
        "pipeline-infra:observability:Observability",
        "pipeline-infra:streaming:KafkaCluster",
        "pipeline-infra:streaming:KafkaConnect",
        "pipeline-infra:streaming:MirrorMaker2",
        "pipeline-infra:streaming:SchemaRegistry",
        "pipeline-infra:traffic:DrIngest",
        "pipeline-infra:traffic:IngestSwitch",
    ]
    wrong = []
    for path, cls, token in classes:
        project, module, typ = token.split(":")
        folder = path.relative_to(REPO / "components").parts[0]
        if project != "pipeline-infra" or module != folder or typ != cls:
            wrong.append(f"{path.relative_to(REPO)}: class {cls} has token {token}")
    assert not wrong, wrong


def test_every_component_folder_has_the_same_shape():
    """Each folder: a package (__init__.py) with its ComponentResource in component.py, and its input
    model in settings.py where the stack file has a section for it."""
    folders = sorted(p for p in (REPO / "components").iterdir() if p.is_dir() and p.name != "__pycache__")
    for folder in folders:
        assert (folder / "__init__.py").is_file(), folder
        systems = (
            [folder]
            if (folder / "component.py").exists()
            else [p for p in folder.iterdir() if p.is_dir() and p.name != "__pycache__"]
        )
        for system in systems:
            assert (system / "__init__.py").is_file(), system
            assert (system / "component.py").is_file(), (
                f"{system}: the ComponentResource lives in component.py"
            )


@pytest.mark.parametrize("layer", ["lib", "components"])
def test_no_lower_layer_module_mentions_the_stack_settings(layer):
    """No component receives StackSettings: it takes its own model, with only what it reads."""
    offenders = [
        str(p.relative_to(REPO))
        for p in (REPO / layer).rglob("*.py")
        if "StackSettings" in p.read_text() or "from stacks" in p.read_text()
    ]
    assert not offenders


def test_no_tracked_file_holds_a_merge_conflict_marker():
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    marked = []
    for name in filter(None, listed):
        path = REPO / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue
        if any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in lines):
            marked.append(name)
    assert not marked, f"unresolved merge conflicts in {marked}"
