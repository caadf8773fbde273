"""Golden plans: the JSON plan (evaluated in the estate, planner.estate) and the rendered artifacts of
every committed stack, kept under
tests/golden so that a review shows what a change declares. A refactor leaves them byte-identical;
a feature changes them on purpose (`make golden` rewrites them)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from planner.render import render
from planner.report import stack_names, to_json
from planner.runtime import REPO, Plan

GOLDEN = REPO / "tests" / "golden"


def plan_text(plan: Plan) -> str:
    """The plan JSON exactly as `python -m planner plan --format json` prints it."""
    return json.dumps(to_json(plan), indent=2, sort_keys=False, default=str) + "\n"


def files_of(plan: Plan) -> dict[str, str]:
    """Every golden file of one stack: relative path -> text."""
    files = {f"plans/{plan.stack}.json": plan_text(plan)}
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(render(plan, tmp)):
            rel = path.relative_to(tmp).as_posix()
            files[f"render/{plan.stack}/{rel}"] = path.read_text(encoding="utf-8")
    return files


def committed_files(stack: str, root: Path = GOLDEN) -> dict[str, str]:
    files: dict[str, str] = {}
    plan_file = root / "plans" / f"{stack}.json"
    if plan_file.is_file():
        files[f"plans/{stack}.json"] = plan_file.read_text(encoding="utf-8")
    tree = root / "render" / stack
    for path in sorted(p for p in tree.rglob("*") if p.is_file()):
        files[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    return files


def write(stacks: list[str] | None = None, root: Path = GOLDEN) -> list[str]:
    """Rewrite the golden files of the stacks (default: every committed stack)."""
    from planner.estate import evaluate

    written: list[str] = []
    estate = evaluate(stacks or None)
    for stack in stacks or stack_names():
        tree = root / "render" / stack
        if tree.exists():
            shutil.rmtree(tree)
        for rel, text in files_of(estate.plans[stack]).items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(rel)
    return written
