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


def _estate_section(estate, results) -> str:
    from planner.checks import table

    lines = ["", f"Estate: {', '.join(estate.order)} (evaluation order; {estate.seconds:.2f} s)"]
    if estate.unresolved:
        for stack, refs in sorted(estate.unresolved.items()):
            lines.append(f"  {stack}: evaluated without the outputs of {', '.join(refs)} (unresolved)")
    lines.append(f"Estate errors: {len(estate.errors)}")
    for e in estate.errors:
        lines.append(f"  [{e.kind}] {e.message}")
    lines.append("")
    lines.append("Checks")
    return "\n".join(lines) + "\n" + table(results)


ORG_HELP = "organisation the estate's stacks live in (Pulumi Cloud)"
DEFAULT_ORG_HELP = "the deployer's default organisation, which short StackReference names resolve to"


def _evaluate(selection, overrides=None, configs=None, org=None, default_org=None):
    from planner.checks import run_checks
    from planner.estate import evaluate
    from planner.references import DEFAULT_ORG
    from planner.report import estate_json

    estate = evaluate(selection, overrides=overrides, configs=configs, org=org or DEFAULT_ORG,
                      default_org=default_org)
    data = estate_json(estate)
    return estate, data, run_checks(data)


def _exit_code(estate, results) -> int:
    from planner.checks import failed_mandatory

    return 1 if estate.errors or failed_mandatory(results) else 0


@cli.command()
@click.option("--stack", "-s", default="local", show_default=True, help="stack name (Pulumi.<stack>.yaml)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--set", "set_", default="", help="what-if values: 'key=value key2=value2'")
@click.option("--config", "config_path", default=None, help="evaluate this stack file instead")
@click.option("--render", "render_dir", default=None, help="write rendered artifacts to this folder")
@click.option("--org", default=None, help=ORG_HELP)
@click.option("--default-org", default=None, help=DEFAULT_ORG_HELP)
def plan(stack: str, fmt: str, set_: str, config_path: str | None, render_dir: str | None, org: str | None,
         default_org: str | None) -> None:
    """Evaluate a stack and the stacks it references: resource tree, counts, capacity, policy
    results, estate errors and checks (or JSON). Exit 1 on an estate error, a failed mandatory
    check or a mandatory policy violation."""
    from pathlib import Path

    from planner.report import mandatory_violations, to_json, to_text

    started = time.perf_counter()
    configs = None
    if config_path:
        stack = Path(config_path).name.removeprefix("Pulumi.").removesuffix(".yaml").removesuffix(".yml")
        configs = {stack: Path(config_path)}
    try:
        estate, data, results = _evaluate([stack], {stack: _parse_set(set_)}, configs, org, default_org)
    except SettingsError as error:
        _fail(error)
    result = estate.plans[stack]
    if render_dir:
        from planner.render import render

        written = render(result, render_dir)
        click.echo(f"wrote {len(written)} artifacts to {render_dir}", err=True)
    if fmt == "json":
        doc = to_json(result)
        doc["estate"] = {k: data[k] for k in ("order", "graph", "cycles", "documented_order", "errors")}
        doc["estate"]["unresolved"] = estate.unresolved
        doc["checks"] = results
        click.echo(json.dumps(doc, indent=2, sort_keys=False, default=str))
    else:
        click.echo(to_text(result) + _estate_section(estate, results), nl=False)
        click.echo(f"evaluated in {time.perf_counter() - started:.2f} s", err=True)
    must = mandatory_violations(result)
    if must:
        click.echo(f"{len(must)} mandatory policy violation(s) in stack {result.stack}", err=True)
    sys.exit(1 if must else _exit_code(estate, results))


@cli.command()
@click.option("--stack", "-s", required=True, help="stack name")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--set", "set_", default="", help="the configuration to compare: 'key=value ...'")
@click.option("--config", "config_path", default=None, help="compare this stack file against the stack's")
def diff(stack: str, fmt: str, set_: str, config_path: str | None) -> None:
    """Created, replaced, updated and deleted resources of a what-if configuration against the stack's
    own, for the stack and every stack it references (evaluated as an estate); stateful resources
    that would be replaced or deleted are flagged."""
    from pathlib import Path

    from planner.estate import evaluate
    from planner.report import diff as diff_plans
    from planner.report import diff_text

    try:
        base = evaluate([stack])
        configs = {stack: Path(config_path)} if config_path else None
        other = evaluate([stack], overrides={stack: _parse_set(set_)}, configs=configs)
    except SettingsError as error:
        _fail(error)
    diffs = [diff_plans(base.plans[s], other.plans[s]) for s in other.order if s in base.plans]
    result = next(d for d in diffs if d["stack"] == stack)
    result["estate"] = [d for d in diffs if d["stack"] != stack and _nonempty(d)]
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(diff_text(result) + "".join(diff_text(d) for d in result["estate"]), nl=False)


def _nonempty(d: dict) -> bool:
    return any(d[k] for k in ("created", "replaced", "changed", "deleted"))


@cli.command("plan-all")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--org", default=None, help=ORG_HELP)
@click.option("--default-org", default=None, help=DEFAULT_ORG_HELP)
def plan_all(fmt: str, org: str | None, default_org: str | None) -> None:
    """Evaluate every committed stack in one process, in StackReference order; one line each, the
    estate's errors and the checks. Exit 1 on an estate error or a failed mandatory check."""
    from policies.rules import check_all

    try:
        estate, data, results = _evaluate(None, org=org, default_org=default_org)
    except SettingsError as error:
        _fail(error)
    if fmt == "json":
        data["checks"] = results
        click.echo(json.dumps(data, indent=2, default=str))
        sys.exit(_exit_code(estate, results))
    failed = 0
    for name in estate.order:
        plan = estate.plans[name]
        violations = check_all(plan.resources)
        v = len(violations)
        m = sum(1 for x in violations if x["enforcement"] == "mandatory")
        failed += 1 if m else 0
        late = estate.unresolved.get(name)
        flag = f"  (unresolved: {', '.join(late)})" if late else ""
        status = "FAILED" if m else "ok"
        click.echo(
            f"{name:12} {status:6} {len(plan.resources):4d} resources  {v} policy violations "
            f"({m} mandatory){flag}"
        )
    click.echo(_estate_section(estate, results), nl=False)
    sys.exit(1 if failed else _exit_code(estate, results))


@cli.command("estate-diff")
@click.option("--base", required=True, help="the base: a checkout folder or a git ref (origin/main)")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown",
              show_default=True)
def estate_diff_cmd(base: str, fmt: str) -> None:
    """The estate diff of this tree against a base (created, replaced, deleted per stack, checks,
    capacity and cost): the pull-request comment. Exit 0 (the checks gate `make plan-all`)."""
    from planner.checks import run_checks
    from planner.estate import evaluate
    from planner.prdiff import base_estate, estate_diff, markdown
    from planner.report import estate_json
    from planner.runtime import REPO

    try:
        head = estate_json(evaluate())
    except SettingsError as error:
        _fail(error)
    head["checks"] = run_checks(head)
    result = estate_diff(base_estate(base, REPO), head)
    text = json.dumps(result, indent=2, default=str) if fmt == "json" else markdown(result, base)
    click.echo(text, nl=False)


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


@cli.command("dr-drill")
@click.option("--live", is_flag=True, help="run the steps (Pulumi CLI, kubectl, credentials)")
@click.option("--report", "report_dir", default=None, help="reports folder (default reports/drills/)")
@click.option("--token", default=None, help="live: the demotion token (controlled switchover)")
@click.option("--primary-context", default="prod", show_default=True, help="live: kubectl context of prod")
@click.option("--dr-context", default="prod-dr", show_default=True, help="live: kubectl context of prod-dr")
def dr_drill(live: bool, report_dir: str | None, token: str | None, primary_context: str,
             dr_context: str) -> None:
    """The DR drill (seed 003 Runbook M.2): offline, the promotion and failback estate diffs, the
    checks of the promoted estate and the drill plan; --live, the steps themselves with the achieved
    RTO and RPO. Writes a Markdown and JSON report; exit 1 when the drill fails."""
    from pathlib import Path

    from planner import drill

    folder = Path(report_dir) if report_dir else drill.DEFAULT_REPORTS
    try:
        if live:
            report = drill.live(drill.Runner(), token=token, primary_context=primary_context,
                                dr_context=dr_context)
        else:
            report = drill.offline()
    except SettingsError as error:
        _fail(error)
    js, md = drill.write_report(report, folder)
    click.echo(md.read_text(), nl=False)
    click.echo(f"wrote {md} and {js}", err=True)
    sys.exit(0 if report["result"] == "pass" else 1)


@cli.command("dr-drill-status")
@click.option("--report", "report_dir", default=None, help="reports folder (default reports/drills/)")
def dr_drill_status(report_dir: str | None) -> None:
    """Exit 1 when the last successful live drill is older than 90 days (seed 003 DR Metrics)."""
    from pathlib import Path

    from planner import drill

    late, message = drill.overdue(Path(report_dir) if report_dir else drill.DEFAULT_REPORTS)
    click.echo(("overdue: " if late else "ok: ") + message)
    sys.exit(1 if late else 0)


def main() -> None:
    cli(prog_name="planner")
