"""`make local-check`: seed 000's health check and replication test against the running local stack.

python -m planner.local_check [--stack local] [--timeout 120]

Prints one line per check ([✓]/[✗]) and exits 0 when all pass, 1 otherwise; exit 2 for a stack
file that does not validate. Needs the Docker CLI (docker exec/inspect) and the stack's loopback ports.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.local.health import Expectations, Target, check
from components.observability.rules import alerts
from components.streaming.connect.config import SINK_NAME, SINK_SCHEMA, SOURCE_NAME
from stacks.settings import SettingsError, StackSettings, load_settings

REPO = Path(__file__).resolve().parent.parent


def expectations(settings: StackSettings, timeout_s: float = 120.0) -> Expectations:
    """From the settings: the connectors' tasks.max, the first CDC table, every alert rule."""
    sc, c = settings.scylla, settings.connect
    assert sc is not None and c is not None
    table = sc.tables[0]
    key = table.primary_key[0]
    text = next(
        (col for col, typ in table.columns.items() if typ == "text" and col not in table.primary_key), None
    )
    return Expectations(
        connectors={SOURCE_NAME: c.source_tasks, SINK_NAME: c.sink_tasks},
        keyspace=sc.keyspace,
        table=table.name,
        key=key,
        key_type=table.columns[key],
        text_column=text,
        alerts=tuple(a["alert"] for a in alerts()),
        sink_schema=SINK_SCHEMA,
        replication_timeout_s=timeout_s,
    )


def main(argv: list[str] | None = None) -> int:
    from planner.runtime import read_stack_file

    parser = argparse.ArgumentParser(prog="local-check", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="local")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the replicated row")
    args = parser.parse_args(argv)
    source = f"Pulumi.{args.stack}.yaml"
    try:
        settings = load_settings(read_stack_file(REPO / source, source), source=source, offline=True)
        if settings.target != "docker":
            raise SettingsError(source, "pipeline-infra:target", "local-check runs against a docker stack")
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    results = check(Target(), expectations(settings, args.timeout))
    for r in results:
        print(r.line())
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
