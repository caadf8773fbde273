"""`python -m planner`: the offline plan, its diff and its artifacts (see README, make plan)."""

from __future__ import annotations

import json
import shlex
import sys
import time

import click
import yaml

from stacks.settings import SettingsError


def _parse_set(text: str | None) -> dict[str, object]:
    """'a.b=1 c=x' -> {'a.b': 1, 'c': 'x'} (values read as YAML scalars, as `pulumi config set` would)."""
    result: dict[str, object] = {}
    for item in shlex.split(text or ""):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SettingsError("SET", item, "expected key=value, such as dr.role=primary")
        try:
            result[key] = yaml.safe_load(value) if value != "" else ""
        except yaml.YAMLError:
            result[key] = value
    return result


def _fail(error: SettingsError) -> None:
    click.echo(f"error: {error}", err=True)
    sys.exit(2)


@click.group()
def cli() -> None:
    """Offline plan of pipeline-infra stacks (the real program under Pulumi's mock runtime)."""


@cli.command()
@click.option("--stack", "-s", default="local", show_default=True, help="stack name (Pulumi.<stack>.yaml)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--set", "set_", default="", help="what-if values: 'key=value key2=value2'")
@click.option("--config", "config_path", default=None, help="evaluate this stack file instead")
@click.option("--render", "render_dir", default=None, help="write rendered artifacts to this folder")
def plan(stack: str, fmt: str, set_: str, config_path: str | None, render_dir: str | None) -> None:
    """Evaluate a stack: resource tree, counts, capacity, policy results (or JSON)."""
    from planner.report import mandatory_violations, to_json, to_text
    from planner.runtime import run_plan

    started = time.perf_counter()
    try:
        result = run_plan(stack if not config_path else None, _parse_set(set_), config_path=config_path)
    except SettingsError as error:
        _fail(error)
    if render_dir:
        from planner.render import render

        written = render(result, render_dir)
        click.echo(f"wrote {len(written)} artifacts to {render_dir}", err=True)
    if fmt == "json":
        click.echo(json.dumps(to_json(result), indent=2, sort_keys=False, default=str))
    else:
        click.echo(to_text(result), nl=False)
        click.echo(f"evaluated in {time.perf_counter() - started:.2f} s", err=True)
    must = mandatory_violations(result)
    if must:
        click.echo(f"{len(must)} mandatory policy violation(s) in stack {result.stack}", err=True)
        sys.exit(1)


@cli.command()
@click.option("--stack", "-s", required=True, help="stack name")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--set", "set_", default="", help="the configuration to compare: 'key=value ...'")
@click.option("--config", "config_path", default=None, help="compare this stack file against the stack's")
def diff(stack: str, fmt: str, set_: str, config_path: str | None) -> None:
    """Created, deleted and changed resources of a what-if configuration against the stack's own."""
    from planner.report import diff as diff_plans
    from planner.report import diff_text
    from planner.runtime import run_plan

    try:
        base = run_plan(stack)
        other = run_plan(stack, _parse_set(set_), config_path=config_path)
    except SettingsError as error:
        _fail(error)
    result = diff_plans(base, other)
    click.echo(json.dumps(result, indent=2) if fmt == "json" else diff_text(result), nl=fmt == "json")


@cli.command("plan-all")
def plan_all() -> None:
    """Evaluate every stack file; one line each; non-zero exit if any fails."""
    from planner.report import stack_names, to_json
    from planner.runtime import run_plan

    failed = 0
    for name in stack_names():
        started = time.perf_counter()
        try:
            result = to_json(run_plan(name))
        except SettingsError as error:
            failed += 1
            click.echo(f"{name:12} FAILED  {error}")
            continue
        v = len(result["policy"]["violations"])
        m = sum(1 for x in result["policy"]["violations"] if x["enforcement"] == "mandatory")
        failed += 1 if m else 0
        status = "FAILED" if m else "ok"
        click.echo(f"{name:12} {status:6} {len(result['resources']):4d} resources  {v} policy "
                   f"violations ({m} mandatory)  {time.perf_counter() - started:.2f} s")
    sys.exit(1 if failed else 0)


@cli.command()
@click.argument("stacks", nargs=-1)
def golden(stacks: tuple[str, ...]) -> None:
    """Rewrite tests/golden (plan JSON and rendered artifacts) for the stacks, default all."""
    from planner.golden import write

    try:
        written = write(list(stacks) or None)
    except SettingsError as error:
        _fail(error)
    click.echo(f"wrote {len(written)} golden files", err=True)


@cli.command("policy-baseline")
@click.option("--check", is_flag=True, help="only compare: exit 1 when policies/baseline.json is stale")
def policy_baseline(check: bool) -> None:
    """Write policies/baseline.json (the seed figures the policy pack checks against)."""
    from planner.policy_baseline import BASELINE, render, write

    try:
        if check:
            if not BASELINE.exists() or BASELINE.read_text(encoding="utf-8") != render():
                click.echo("policies/baseline.json is stale: run make policy-baseline", err=True)
                sys.exit(1)
            return
        click.echo(f"wrote {write()}", err=True)
    except SettingsError as error:
        _fail(error)


@cli.command("policy-doc")
@click.option("--check", is_flag=True, help="only compare: exit 1 when docs/policies.md is stale")
def policy_doc(check: bool) -> None:
    """Write docs/policies.md from the rule catalogue (every rule and stack policy)."""
    from planner.policy_baseline import DOC, render_doc, write_doc

    if check:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != render_doc():
            click.echo("docs/policies.md is stale: run make policy-doc", err=True)
            sys.exit(1)
        return
    click.echo(f"wrote {write_doc()}", err=True)


@cli.command("settings-doc")
@click.option("--check", is_flag=True, help="only compare: exit 1 when docs/settings.md is stale")
def settings_doc(check: bool) -> None:
    """Write docs/settings.md from the settings models (every key, type, default, rule)."""
    from planner.settings_doc import DOC, render, write

    if check:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if current != render():
            click.echo(f"{DOC.relative_to(DOC.parent.parent)} is stale: run make settings-doc", err=True)
            sys.exit(1)
        return
    click.echo(f"wrote {write()}", err=True)


def main() -> None:
    cli(prog_name="planner")
