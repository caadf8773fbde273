"""Measure the offline planner: CPU and wall time of each stack's plan and of the estate in one process.

Each command runs in a fresh interpreter (as ``make plan`` runs it); the figure is the best of
``--runs`` runs, so a busy host inflates it less. Output: one row per command with its budget from
benchmarks/budgets.yaml; ``--strict`` exits 1 when a figure exceeds its budget.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUDGETS = yaml.safe_load((Path(__file__).with_name("budgets.yaml")).read_text())


def measure(args: list[str], runs: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of the best of ``runs`` runs of ``python -m planner <args>``."""
    best: tuple[float, float] | None = None
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "planner", *args], cwd=ROOT, capture_output=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode not in (0, 1):  # 1: the plan ran and reported findings
            raise SystemExit(f"planner {' '.join(args)} exited {proc.returncode}:\n{proc.stderr.decode()}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = (cpu, wall) if best is None or cpu < best[0] else best
    assert best is not None
    return best


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args()
    commands = [
        (f"plan {stack}", ["plan", "--stack", stack, "--format", "json"], budget)
        for stack, budget in BUDGETS["plan"].items()
    ]
    commands.append(("plan-all", ["plan-all", "--format", "json"], BUDGETS["plan-all"]))
    rows = []
    print(f"{'command':<18} {'cpu s':>7} {'wall s':>7} {'budget':>7}")
    for label, args, budget in commands:
        cpu, wall = measure(args, options.runs)
        rows.append({"command": label, "cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "budget_s": budget})
        flag = "" if cpu <= budget else "  OVER BUDGET"
        print(f"{label:<18} {cpu:7.2f} {wall:7.2f} {budget:7.1f}{flag}")
    if options.json:
        host = {"python": platform.python_version(), "machine": platform.machine()}
        figures = {"host": host, "runs": options.runs, "rows": rows}
        options.json.write_text(json.dumps(figures, indent=2) + "\n")
    over = [r for r in rows if r["cpu_s"] > r["budget_s"]]
    return 1 if options.strict and over else 0


if __name__ == "__main__":
    sys.exit(main())
