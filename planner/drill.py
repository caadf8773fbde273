"""The DR drill (seed 003 Runbook M.2, with M.1 Activation inside): `python -m planner dr-drill`
(make dr-drill [DRILL=live] [REPORT=dir]).

Offline (default): evaluates the estate as committed and with the DR site promoted (`dr.role:
primary` on the DR stack, in memory), diffs promotion and failback (the promoted estate back to
standby) with the replacement-aware estate diff, runs the estate checks of the promoted estate and
prints the drill plan: ordered steps, who runs what, the RTO budget per step and in total, the RPO
of each replication path (lib/dr.yaml). It passes when neither diff replaces or deletes a stateful
resource and the promoted estate adds no failed mandatory check.

Live (`--live`, needs the Pulumi CLI, kubectl contexts of both sites and credentials): runs the steps
(pulumi config set / preview / up, health probes, the host suite), reads the replication positions
before and after through each site's Prometheus (API server proxy), measures the achieved RTO (from
the declaration to the first passing health probe after promotion) and RPO (the largest replication
lag at the cutover), and records a successful drill in the primary's cluster (ConfigMap
dr-drill-last-success, whose age the DrDrillOverdue alert watches).

Both write a report (Markdown and JSON) under the reports folder (default reports/drills/)."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib.dr import figures, rto_budget

REPO = Path(__file__).resolve().parent.parent
DEFAULT_REPORTS = REPO / "reports" / "drills"
PRIMARY_STACK, DR_STACK = "prod", "prod-dr"
LAST_SUCCESS_CONFIGMAP = "dr-drill-last-success"
MONITORING_NAMESPACE = "monitoring"
PROMETHEUS_PROXY = f"/api/v1/namespaces/{MONITORING_NAMESPACE}/services/http:prometheus-operated:9090/proxy"
# The lag of each replication path as the DR site's Prometheus sees it (seconds); the same series the
# DR replication alerts read (components/observability/alerts.yaml, group dr-replication).
LAG_QUERIES: dict[str, str] = {
    "postgres": "max(cnpg_pg_replication_lag)",
    "kafka": "max(kafka_connect_mirror_mirrorsourceconnector_replication_latency_ms_max) / 1000",
}
# Scylla exposes hints in flight, not a lag in seconds: its position is the hints' size (bytes); no
# pending hint at the cutover means every acknowledged write is in the DR datacenter.
SCYLLA_HINTS = "sum(scylla_hints_manager_size_of_hints_in_progress)"


# --- offline -------------------------------------------------------------------------------------


def promoted_overrides(token: str | None = None) -> dict[str, dict[str, Any]]:
    """The promotion as one value on the DR stack (and the token of a controlled switchover)."""
    values: dict[str, Any] = {"dr.role": "primary"}
    if token:
        values["dr.promotion_token"] = token
    return {DR_STACK: values}


# A stand-in for the demotion token CloudNativePG publishes in the demoted cluster's status.
DRILL_TOKEN = "demotion-token-from-status"
# The drill's phases, in order: (name, what it is, the estate's what-if values after it). Each phase
# changes one configuration value against the previous one (the token goes with its promotion).
PHASES: tuple[tuple[str, str, dict[str, dict[str, Any]]], ...] = (
    ("promotion", "seed 003 M.1 Activation: the DR site promoted (dr.role primary)",
     {DR_STACK: {"dr.role": "primary"}}),
    ("failback-1", "seed 003 M.1 Deactivation 1-2: prod comes back as a replica of the DR site (prod dr.role "
     "standby: PostgreSQL demoted in the distributed topology, MirrorMaker 2 reversed into prod)",
     {DR_STACK: {"dr.role": "primary"}, PRIMARY_STACK: {"dr.role": "standby"}}),
    ("failback-2", "seed 003 M.1 Deactivation 3: in the maintenance window, the DR site demoted (prod-dr "
     "dr.role standby; its cluster publishes the demotion token)",
     {PRIMARY_STACK: {"dr.role": "standby"}}),
    ("failback-3", "seed 003 M.1 Deactivation 3-5: prod promoted back with the DR site's demotion token "
     "(prod dr.role primary, dr.promotion_token); DNS returns to prod; the DR site is a standby again",
     {PRIMARY_STACK: {"dr.role": "primary", "dr.promotion_token": DRILL_TOKEN}}),
    ("failback-4", "after the switchover: the token cleared (prod dr.role primary is its committed default)",
     {PRIMARY_STACK: {"dr.role": "primary"}}),
)


def _stateful_risks(diffs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(r, stack=d["stack"]) for d in diffs for r in d.get("stateful_at_risk", [])]


def _estate_diffs(base, other) -> list[dict[str, Any]]:
    from planner.report import diff as diff_plans

    return [diff_plans(base.plans[s], other.plans[s]) for s in other.order if s in base.plans]


def _summary(diffs: list[dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for d in diffs:
        out[d["stack"]] = {
            "created": [r["name"] for r in d["created"]],
            "replaced": [r["name"] for r in d["replaced"]],
            "changed": {r["name"]: r["paths"] for r in d["changed"]},
            "deleted": [r["name"] for r in d["deleted"]],
            "outputs_changed": d.get("outputs_changed", []),
        }
    return out


def _failed_mandatory(results: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(check, finding) of every failed mandatory check: the promoted estate's own are the new ones."""
    out = set()
    for r in results:
        if r["enforcement"] == "mandatory" and not r["passed"]:
            for f in r.get("findings") or [{}]:
                text = " ".join(str(f.get(k, "")) for k in ("stack", "resource", "message")) if isinstance(
                    f, dict) else str(f)
                out.add((str(r["check"]), text.strip()))
    return out


def _expected(error, phase: str) -> bool:
    """During a failback prod reads prod-dr (its replication source) while prod-dr reads prod: a
    StackReference cycle, harmless then (both stacks exist; a cycle only blocks a deployment from an
    empty backend)."""
    return phase.startswith("failback") and error.kind == "cycle" and {PRIMARY_STACK, DR_STACK} <= set(
        error.stacks)


def _changed_values(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for stack in sorted(set(before) | set(after)):
        a, b = before.get(stack, {}), after.get(stack, {})
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                out[f"{stack} {key}"] = b.get(key, "(as committed)")
    return out


def offline(evaluate: Callable[..., Any] | None = None) -> dict[str, Any]:
    """The offline drill: the estate diff of each phase (promotion, then failback step by step back
    to the committed estate), the checks of the promoted estate, the plan. `evaluate`:
    planner.estate.evaluate (wrapped in tests)."""
    from planner.checks import run_checks
    from planner.report import estate_json

    if evaluate is None:
        from planner.estate import evaluate as evaluate_estate

        evaluate = evaluate_estate
    started = time.perf_counter()
    base = evaluate([DR_STACK])
    previous, previous_values = base, {}
    phases: list[dict[str, Any]] = []
    promoted = None
    for index, (name, what, values) in enumerate(PHASES):
        estate = evaluate([DR_STACK], overrides=values) if values else base
        if index == 0:
            promoted = estate
        diffs = _estate_diffs(previous, estate)
        errors = [e for e in estate.errors if e.message not in {b.message for b in base.errors}]
        phases.append(
            {
                "phase": name,
                "what": what,
                "set": _changed_values(previous_values, values),
                "diff": _summary(diffs),
                "stateful_at_risk": _stateful_risks(diffs),
                "new_estate_errors": [e.message for e in errors if not _expected(e, name)],
                "expected_estate_errors": [e.message for e in errors if _expected(e, name)],
            }
        )
        previous, previous_values = estate, values
    assert promoted is not None
    base_checks = run_checks(estate_json(base))
    promoted_checks = run_checks(estate_json(promoted))
    new_failures = sorted(_failed_mandatory(promoted_checks) - _failed_mandatory(base_checks))
    clean = all(not p["stateful_at_risk"] and not p["new_estate_errors"] for p in phases)
    passed = clean and not new_failures
    return {
        "mode": "offline",
        "result": "pass" if passed else "fail",
        "stacks": list(promoted.order),
        "phases": phases,
        "checks": {
            "promoted_failed_mandatory": len(_failed_mandatory(promoted_checks)),
            "new_failed_mandatory": [list(f) for f in new_failures],
        },
        "plan": plan(),
        "seconds": round(time.perf_counter() - started, 1),
    }


def plan() -> dict[str, Any]:
    """The drill plan from lib/dr.yaml: steps in order, the RTO budget, the RPO per path."""
    f = figures()
    return {
        "targets": f["targets"],
        "activation": f["activation"],
        "steps": f["steps"],
        "rto_budget_seconds": rto_budget(),
        "paths": f["paths"],
        "max_age_days": f["drills"]["max_age_days"],
    }


# --- live ----------------------------------------------------------------------------------------


@dataclass
class Runner:
    """Runs commands (argv) and keeps a log of what ran; `clock` is time.monotonic (a stand-in in tests)."""

    env: dict[str, str] | None = None
    clock: Callable[[], float] = time.monotonic
    log: list[dict[str, Any]] = field(default_factory=list)

    def run(self, argv: Sequence[str], step: str) -> subprocess.CompletedProcess:
        started = self.clock()
        proc = subprocess.run(list(argv), capture_output=True, text=True, env=self.env, timeout=1800)
        self.log.append(
            {
                "step": step,
                "command": shlex.join(argv),
                "rc": proc.returncode,
                "seconds": round(self.clock() - started, 1),
                "stderr": proc.stderr.strip()[-400:],
            }
        )
        return proc


def _query(runner: Runner, context: str, expr: str, step: str) -> float | None:
    """One instant query against a site's Prometheus through the API server proxy."""
    path = f"{PROMETHEUS_PROXY}/api/v1/query?query={urllib.parse.quote(expr)}"
    proc = runner.run(["kubectl", "--context", context, "get", "--raw", path], step)
    if proc.returncode != 0:
        return None
    try:
        result = json.loads(proc.stdout)["data"]["result"]
        return float(result[0]["value"][1]) if result else None
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def positions(runner: Runner, context: str, step: str) -> dict[str, float | None]:
    """The replication lag of each path (seconds; Scylla: pending hint bytes) on the DR site."""
    return {
        "postgres": _query(runner, context, LAG_QUERIES["postgres"], step),
        "scylla_hint_bytes": _query(runner, context, SCYLLA_HINTS, step),
        "kafka": _query(runner, context, LAG_QUERIES["kafka"], step),
    }


def _dr_region() -> str:
    import yaml

    return str(yaml.safe_load((REPO / f"Pulumi.{DR_STACK}.yaml").read_text())["config"]["aws:region"])


def _health(runner: Runner, context: str, step: str) -> list[dict[str, Any]]:
    """The DR site's health probes after promotion: PostgreSQL primary healthy, connectors running,
    MirrorMaker 2 stopped, the promotion gate in ALARM (Route53 serves the DR site)."""
    from components.traffic.routing import gate_alarm_name

    kubectl = ["kubectl", "--context", context]
    probes = {
        "postgres healthy": ([*kubectl, "-n", "postgres", "get", "cluster", "warehouse-dr", "-o",
                              "jsonpath={.status.phase}"], lambda out: "healthy" in out.lower()),
        "connectors running": ([*kubectl, "-n", "kafka", "get", "kafkaconnector", "-o",
                                "jsonpath={.items[*].status.connectorStatus.connector.state}"],
                               lambda out: bool(out.split()) and set(out.split()) == {"RUNNING"}),
        "mirrormaker stopped": ([*kubectl, "-n", "kafka", "get", "kafkamirrormaker2", "-o",
                                 "jsonpath={.items[*].spec.mirrors[*].sourceConnector.state}"],
                                lambda out: out.split() == ["stopped"]),
        "dns gate in ALARM": (["aws", "cloudwatch", "describe-alarms", "--region", _dr_region(),
                               "--alarm-names", gate_alarm_name(DR_STACK), "--query",
                               "MetricAlarms[0].StateValue", "--output", "text"],
                              lambda out: out.strip() == "ALARM"),
    }
    results = []
    for name, (argv, good) in probes.items():
        proc = runner.run(argv, step)
        results.append({"probe": name, "ok": proc.returncode == 0 and good(proc.stdout)})
    return results


def live(
    runner: Runner,
    *,
    token: str | None = None,
    primary_context: str = PRIMARY_STACK,
    dr_context: str = DR_STACK,
    probe_attempts: int = 20,
    probe_wait: Callable[[], None] = lambda: time.sleep(15),
    hosts_suite: Path = REPO / "tests" / "hosts",
) -> dict[str, Any]:
    """Run the drill's steps against the real estate (see the module docstring)."""
    f = figures()
    report: dict[str, Any] = {"mode": "live", "plan": plan(), "steps": {}}
    stack = ["--stack", DR_STACK, "--non-interactive"]

    def step(name: str, ok: bool, **extra: Any) -> bool:
        report["steps"][name] = {"ok": ok, **extra}
        return ok

    before = positions(runner, dr_context, "prepare")
    report["positions_before"] = before
    ok = step("prepare", all(v is not None for v in before.values()), positions=before)
    # The RTO clock starts at the declaration (seed 003 M.1 step 1), before the first change.
    declared = runner.clock()
    report["declared_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    at_cutover: dict[str, float | None] = {}
    if ok:
        values = [["pulumi", "config", "set", "--path", "pipeline-infra:dr.role", "primary", *stack[:2]]]
        if token:
            values.append(["pulumi", "config", "set", "--secret", "--path",
                           "pipeline-infra:dr.promotion_token", token, *stack[:2]])
        ok = step("declare", all(runner.run(c, "promote").returncode == 0 for c in values))
    if ok:
        # What the apply will do (the live counterpart of the offline promotion diff).
        preview = runner.run(["pulumi", "preview", *stack, "--diff"], "promote")
        ok = step("preview", preview.returncode == 0)
    if ok:
        at_cutover = positions(runner, dr_context, "promote")
        report["positions_at_cutover"] = at_cutover
        up = runner.run(["pulumi", "up", *stack, "--yes", "--skip-preview"], "promote")
        ok = step("promote", up.returncode == 0)
    healthy_at = None
    if ok:
        for _ in range(probe_attempts):
            probes = _health(runner, dr_context, "verify")
            if all(p["ok"] for p in probes):
                healthy_at = runner.clock()
                break
            probe_wait()
        ok = step("verify", healthy_at is not None, probes=probes)
    if ok and hosts_suite.is_dir():
        suite = runner.run(["python", "-m", "pytest", str(hosts_suite), "-q", "--stack", DR_STACK], "verify")
        ok = step("host suite", suite.returncode == 0)
    elif ok:
        step("host suite", True, note=f"not run: {hosts_suite} is absent in this checkout")
    after = positions(runner, dr_context, "measure")
    report["positions_after"] = after
    design = f["targets"]["design"]
    rto = None if healthy_at is None else round(healthy_at - declared, 1)
    lags = [v for k, v in at_cutover.items() if k != "scylla_hint_bytes" and v is not None]
    rpo: float | None = None
    if token:
        rpo = 0.0
    elif lags and not at_cutover.get("scylla_hint_bytes"):
        # hints pending at the cutover: writes not yet in the DR datacenter, not measurable here
        rpo = round(max(lags), 1)
    report["achieved"] = {
        "rto_seconds": rto,
        "rpo_seconds": rpo,
        "rto_target_seconds": design["rto_seconds"],
        "rpo_target_seconds": design["rpo_seconds"],
        "rpo_basis": "controlled switchover (promotion token): no transaction lost" if token else
        "largest replication lag on the DR site at the cutover",
    }
    met = rto is not None and rto < design["rto_seconds"] and rpo is not None and rpo < design["rpo_seconds"]
    report["result"] = "pass" if ok and met else "fail"
    if report["result"] == "pass":
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        base = ["kubectl", "--context", primary_context, "-n", MONITORING_NAMESPACE]
        runner.run([*base, "delete", "configmap", LAST_SUCCESS_CONFIGMAP, "--ignore-not-found"], "document")
        runner.run([*base, "create", "configmap", LAST_SUCCESS_CONFIGMAP, f"--from-literal=drill={stamp}"],
                   "document")
    report["commands"] = runner.log
    return report


# --- reports -------------------------------------------------------------------------------------


def write_report(report: dict[str, Any], folder: Path, now: dt.datetime | None = None) -> tuple[Path, Path]:
    """drill-<UTC timestamp>-<mode>.json and .md in `folder`; the date goes into the report."""
    now = now or dt.datetime.now(dt.UTC)
    report = {"date": now.isoformat(timespec="seconds"), **report}
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"drill-{now.strftime('%Y%m%dT%H%M%SZ')}-{report['mode']}"
    js, md = folder / f"{stem}.json", folder / f"{stem}.md"
    js.write_text(json.dumps(report, indent=2, sort_keys=False, default=str) + "\n")
    md.write_text(markdown(report))
    return js, md


def _fmt(seconds: float | None) -> str:
    return "not measured" if seconds is None else f"{seconds:g} s"


def markdown(report: dict[str, Any]) -> str:
    p = report["plan"]
    t = p["targets"]
    lines = [
        f"# DR drill report ({report['mode']}): {report['result'].upper()}",
        "",
        f"Date: {report.get('date', '-')}. Stacks: {PRIMARY_STACK} (primary) and {DR_STACK} (DR site).",
        f"Targets: design RTO < {t['design']['rto_seconds']} s / RPO < {t['design']['rpo_seconds']} s "
        f"({t['design']['source']}); declared RTO {t['declared']['rto_seconds'] // 3600} h / RPO "
        f"{t['declared']['rpo_seconds'] // 3600} h ({t['declared']['source']}). Activation is declared after "
        f"the primary is unavailable > {p['activation']['unavailable_minutes']} minutes "
        f"({p['activation']['source']}); the RTO clock starts at the declaration.",
        "",
        "## Steps (seed 003 Runbook M.2, M.1 inside step 4)",
        "",
        "| # | Step | Seed | Who | RTO budget | Runs |",
        "|---|---|---|---|---|---|",
    ]
    for i, s in enumerate(p["steps"], 1):
        budget = f"{s['budget_seconds']} s" if s.get("clock") else "off the clock"
        lines.append(f"| {i} | {s['id']} | {s['seed']} | {s['who']} | {budget} | {s.get('run', '')} |")
    lines += [
        "",
        f"RTO budget in total: {p['rto_budget_seconds']} s (design target < {t['design']['rto_seconds']} s).",
        "",
        "## RPO per replication path (design)",
        "",
        "| Path | Mechanism | RPO | Fallback | Fallback RPO |",
        "|---|---|---|---|---|",
    ]
    for path in p["paths"]:
        lines.append(f"| {path['path']} | {path['mechanism']} | {path['rpo_seconds']} s | "
                     f"{path['fallback']} | {path['fallback_rpo_seconds']} s |")
    if report["mode"] == "offline":
        lines += ["", "## Promotion and failback, phase by phase (estate diffs, offline)", ""]
        for ph in report["phases"]:
            sets = ", ".join(f"{k} = {v}" for k, v in ph["set"].items()) or "(none)"
            lines += [f"### {ph['phase']}: {ph['what']}", "", f"Value changed: {sets}", ""]
            for stack, d in ph["diff"].items():
                if not any(d[k] for k in ("created", "replaced", "changed", "deleted")):
                    continue
                lines.append(f"- {stack}: {len(d['created'])} created, {len(d['replaced'])} replaced, "
                             f"{len(d['changed'])} updated, {len(d['deleted'])} deleted")
                for name, paths in d["changed"].items():
                    lines.append(f"  - ~ {name}: {', '.join(paths)}")
                for name in d["created"]:
                    lines.append(f"  - + {name}")
                for name in d["replaced"]:
                    lines.append(f"  - +- {name}")
                for name in d["deleted"]:
                    lines.append(f"  - - {name}")
            risks = ph["stateful_at_risk"]
            lines.append("")
            lines.append(f"Stateful resources replaced or deleted: {len(risks)}"
                         + "".join(f"\n- {r['stack']} {r.get('name')}" for r in risks))
            lines += [f"- new estate error: {e}" for e in ph["new_estate_errors"]]
            lines += [f"- expected during a failback: {e}" for e in ph["expected_estate_errors"]]
            lines.append("")
        c = report["checks"]
        lines += [
            "## Estate checks of the promoted estate",
            "",
            f"Failed mandatory checks: {c['promoted_failed_mandatory']} findings (the committed estate's "
            f"pinned ones); new against the standby estate: {len(c['new_failed_mandatory'])}.",
        ]
        lines += [f"- {' '.join(f)}" for f in c["new_failed_mandatory"]]
        lines += ["", "Achieved RTO and RPO: only a live drill measures them (`make dr-drill DRILL=live`)."]
    else:
        a = report["achieved"]
        lines += [
            "",
            "## Achieved",
            "",
            f"- RTO: {_fmt(a['rto_seconds'])} (target < {a['rto_target_seconds']} s)",
            f"- RPO: {_fmt(a['rpo_seconds'])} (target < {a['rpo_target_seconds']} s; {a['rpo_basis']})",
            f"- Replication positions before: {report.get('positions_before')}",
            f"- At the cutover: {report.get('positions_at_cutover')}",
            f"- After: {report.get('positions_after')}",
            "",
            "| Step | OK |",
            "|---|---|",
        ]
        lines += [f"| {name} | {'yes' if s['ok'] else 'no'} |" for name, s in report["steps"].items()]
        lines += ["", "## Commands", ""]
        lines += [f"- [{c['step']}] `{c['command']}` rc={c['rc']} ({c['seconds']} s)"
                  for c in report["commands"]]
    return "\n".join(lines) + "\n"


def last_success(folder: Path) -> dt.datetime | None:
    """The date of the newest successful live drill report in `folder` (offline runs do not count)."""
    dates = []
    for path in folder.glob("drill-*.json"):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if doc.get("mode") == "live" and doc.get("result") == "pass" and doc.get("date"):
            dates.append(dt.datetime.fromisoformat(doc["date"]))
    return max(dates, default=None)


def overdue(folder: Path, now: dt.datetime | None = None) -> tuple[bool, str]:
    """Whether the last successful drill is older than lib/dr.yaml drills.max_age_days (seed 003 DR
    Metrics: time since last drill < 90 days)."""
    now = now or dt.datetime.now(dt.UTC)
    limit = figures()["drills"]["max_age_days"]
    last = last_success(folder)
    if last is None:
        return True, f"no successful live drill in {folder} (limit {limit} days)"
    age = (now - last).days
    return age > limit, f"last successful live drill {last.isoformat()} ({age} days ago, limit {limit} days)"

