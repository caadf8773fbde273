"""Prometheus alert rules rendered from the rule data (alerts.yaml). No Pulumi import: the local stack
mounts render_rule_file() into its Prometheus, the AWS stacks wrap rule_groups() in PrometheusRule
objects, and Alertmanager's inhibit rules come from the same data (inhibit_pairs())."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).with_name("alerts.yaml")
SLO_DATA = Path(__file__).with_name("slos.yaml")
# Every alert's `runbook` is a document of this folder (docs/runbooks/<runbook>.md, seed 002 template);
# the `runbook_url` annotation links it, relative to the repository root.
RUNBOOK_DIR = "docs/runbooks"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# seed 003 Monitoring and Alerting > Alert Configuration > Alert Severity Levels
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
_DURATION = re.compile(r"^[0-9]+[smhd]$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REQUIRED = ("alert", "expr", "for", "severity", "module", "summary", "runbook", "source")
# The exporters of exporters.yaml that run on the module fleets: every alert selector of their metrics
# is scoped to the fleets that carry traffic. Prometheus' fleet scrape jobs set `traffic` from the
# stack's traffic state (manifests.traffic_relabel): active, idle (the other colour) or standby (a DR
# site before promotion); an idle colour or a warm standby has no traffic and must not page.
FLEET_EXPORTERS: tuple[str, ...] = ("pipeline-modules", "node-exporter")
TRAFFIC_MATCHER = 'traffic="active"'
_OPTIONAL = ("seed_condition", "inhibits", "slo")


@functools.cache
def alert_groups() -> tuple[dict[str, Any], ...]:
    """The rule data, checked: every rule has every field, a known severity, a valid duration, a unique
    name, and inhibits only an alert that exists."""
    doc = yaml.load(DATA.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 (safe loader)
    by_slo: dict[str, list[dict[str, Any]]] = {}
    for rule in slo_alerts():
        by_slo.setdefault(f"slo-{rule['slo']}", []).append(rule)
    groups = [*doc["groups"], *({"name": k, "rules": v} for k, v in by_slo.items())]
    names: set[str] = set()
    for group in groups:
        for rule in group["rules"]:
            missing = [f for f in _REQUIRED if not rule.get(f)]
            unknown = sorted(set(rule) - set(_REQUIRED) - set(_OPTIONAL))
            where = f"{DATA.name}: group {group['name']} rule {rule.get('alert')}"
            if missing or unknown:
                raise ValueError(f"{where}: missing {missing}, unknown {unknown}")
            if not _NAME.match(rule["alert"]) or rule["alert"] in names:
                raise ValueError(f"{where}: alert name invalid or not unique")
            if rule["severity"] not in SEVERITIES:
                raise ValueError(f"{where}: severity must be one of {SEVERITIES}")
            if not _DURATION.match(str(rule["for"])):
                raise ValueError(f"{where}: for must be a duration like 5m")
            names.add(rule["alert"])
    for group in groups:
        for rule in group["rules"]:
            target = (rule.get("inhibits") or {}).get("alert")
            if target is not None and target not in names:
                raise ValueError(f"{DATA.name}: {rule['alert']} inhibits unknown alert {target}")
    return tuple(groups)


def alerts() -> list[dict[str, Any]]:
    """Every alert of the rule data, in order."""
    return [rule for group in alert_groups() for rule in group["rules"]]


@functools.cache
def fleet_metrics() -> frozenset[str]:
    """The metrics the fleets' exporters provide (exporters.yaml FLEET_EXPORTERS)."""
    exporters = load_exporters()
    return frozenset(m for name in FLEET_EXPORTERS for m in exporters[name]["metrics"])


def scope_to_traffic(expr: str, metrics: frozenset[str] | None = None) -> str:
    """`expr` with TRAFFIC_MATCHER added to every vector selector of a fleet metric (label names,
    strings and functions are never metric names of exporters.yaml, so only selectors match)."""
    names = sorted(metrics if metrics is not None else fleet_metrics(), key=len, reverse=True)
    if not names:
        return expr
    pattern = re.compile(r"(?<![\w:\"])(" + "|".join(map(re.escape, names)) + r")(?![\w:])(\s*\{([^}]*)\})?")

    def add(m: re.Match[str]) -> str:
        inner = (m.group(3) or "").strip()
        return f"{m.group(1)}{{{TRAFFIC_MATCHER}{', ' + inner if inner else ''}}}"

    return pattern.sub(add, expr)


def _rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "alert": rule["alert"],
        "expr": scope_to_traffic(" ".join(str(rule["expr"]).split())),
        "for": rule["for"],
        "labels": {"severity": rule["severity"], "module": rule["module"]},
        "annotations": {
            "summary": rule["summary"],
            "runbook": rule["runbook"],
            "runbook_url": runbook_url(rule["runbook"]),
            "source": rule["source"],
        },
    }


def runbook_url(runbook: str) -> str:
    return f"{RUNBOOK_DIR}/{runbook}.md"


@functools.cache
def recording_groups() -> tuple[dict[str, Any], ...]:
    """The recording rules of the rule data (seed 000 metric names from real exporters)."""
    doc = yaml.load(DATA.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 (safe loader)
    for group in doc.get("recording") or []:
        for rule in group["rules"]:
            if set(rule) != {"record", "expr", "source"} or not _NAME.match(rule["record"]):
                raise ValueError(
                    f"{DATA.name}: recording rule {rule.get('record')} needs record, expr, source"
                )
    return tuple(doc.get("recording") or [])


def rule_groups() -> list[dict[str, Any]]:
    """Prometheus rule groups (the `groups:` list of a rule file and of a PrometheusRule spec)."""
    recording = [
        {
            "name": g["name"],
            "rules": [{"record": r["record"], "expr": " ".join(str(r["expr"]).split())} for r in g["rules"]],
        }
        for g in recording_groups()
    ]
    # An SLO's alerts share the group of its recording rules: Prometheus evaluates the rules of one
    # group in order (an alert sees the ratios recorded in the same evaluation), groups concurrently.
    slo = {g["name"]: g["rules"] for g in slo_recording_groups()}
    return recording + [
        {"name": g["name"], "rules": slo.get(g["name"], []) + [_rule(r) for r in g["rules"]]}
        for g in alert_groups()
    ]


# --- SLOs (slos.yaml): error ratios per window, error budget, multi-window multi-burn-rate alerts ------
_SLO_REQUIRED = ("name", "objective", "module", "summary", "source")


@functools.cache
def slo_data() -> dict[str, Any]:
    """slos.yaml, checked: each SLO has an objective in (0, 1) and either bad/total (both with the
    `$window` placeholder) or bad_when; every burn rate has its windows and a known severity."""
    doc = yaml.load(SLO_DATA.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 (safe loader)
    for slo in doc["slos"]:
        where = f"{SLO_DATA.name}: slo {slo.get('name')}"
        missing = [f for f in _SLO_REQUIRED if slo.get(f) in (None, "")]
        request = "bad" in slo or "total" in slo
        if missing or request == ("bad_when" in slo):
            raise ValueError(f"{where}: needs {list(_SLO_REQUIRED)} and either bad/total or bad_when")
        if request and not all("$window" in str(slo.get(k, "")) for k in ("bad", "total")):
            raise ValueError(f"{where}: bad and total must both read a range [$window]")
        if not 0 < float(slo["objective"]) < 1 or not _NAME.match(slo["name"]):
            raise ValueError(f"{where}: objective must be between 0 and 1 (exclusive), name an identifier")
    for burn in doc["burn_rates"]:
        if burn["severity"] not in SEVERITIES or not all(
            _DURATION.match(str(burn[k])) for k in ("long", "short", "for")
        ):
            raise ValueError(f"{SLO_DATA.name}: burn rate {burn.get('name')}: windows, for or severity")
    if not _DURATION.match(str(doc["period"])):
        raise ValueError(f"{SLO_DATA.name}: period must be a duration like 30d")
    return doc


def slo_windows() -> list[str]:
    """Every window an SLO error ratio is recorded over: the burn rates' windows and the period."""
    doc = slo_data()
    found = [w for b in doc["burn_rates"] for w in (b["short"], b["long"])] + [doc["period"]]
    return list(dict.fromkeys(found))


def error_budget(slo: dict[str, Any]) -> float:
    """The share of bad events (or time) the objective allows, e.g. 0.001 for 99.9 %."""
    return round(1 - float(slo["objective"]), 10)


def _one_line(expr: Any) -> str:
    return " ".join(str(expr).split())


def slo_recording_groups() -> list[dict[str, Any]]:
    """One group per SLO: slo:sli_error:ratio_rate<window>{slo=<name>} for every window and
    slo:error_budget:remaining{slo=<name>} over the period (1 = untouched, 0 = spent, < 0 = overspent).
    A time-based SLI first records slo:sli_error:bool (1 while the objective is missed)."""
    doc = slo_data()
    groups = []
    for slo in doc["slos"]:
        labels = {"slo": slo["name"]}
        rules_: list[dict[str, Any]] = []
        if "bad_when" in slo:
            bad_when = scope_to_traffic(_one_line(slo["bad_when"]))
            rules_.append({"record": "slo:sli_error:bool", "expr": bad_when, "labels": labels})
        for window in slo_windows():
            if "bad_when" in slo:
                expr = f'avg_over_time(slo:sli_error:bool{{slo="{slo["name"]}"}}[{window}])'
            else:
                # the fleets' series of traffic-carrying fleets only, like the alerts (FLEET_EXPORTERS)
                bad, total = (
                    scope_to_traffic(_one_line(slo[k]).replace("$window", window)) for k in ("bad", "total")
                )
                expr = f"({bad}) / ({total})"
            rules_.append({"record": f"slo:sli_error:ratio_rate{window}", "expr": expr, "labels": labels})
        rules_.append(
            {
                "record": "slo:error_budget:remaining",
                "expr": f"1 - slo:sli_error:ratio_rate{doc['period']}{{slo=\"{slo['name']}\"}}"
                f" / {error_budget(slo)}",
                "labels": labels,
            }
        )
        groups.append({"name": f"slo-{slo['name']}", "rules": rules_})
    return groups


def slo_alerts() -> list[dict[str, Any]]:
    """One alert per SLO and burn rate: the error ratio above factor x budget over both the long and
    the short window (the short one makes the alert stop soon after the burn stops). A faster burn
    mutes the next slower one of the same SLO."""
    doc = slo_data()
    out = []
    for slo in doc["slos"]:
        name, budget = slo["name"], error_budget(slo)
        burns = doc["burn_rates"]
        for i, burn in enumerate(burns):
            threshold = round(float(burn["factor"]) * budget, 10)
            sel = f'{{slo="{name}"}}'
            rule = {
                "slo": name,
                "alert": f"slo_{name}_burn_{burn['name']}",
                "expr": f"slo:sli_error:ratio_rate{burn['long']}{sel} > {threshold}"
                f" and slo:sli_error:ratio_rate{burn['short']}{sel} > {threshold}",
                "for": burn["for"],
                "severity": burn["severity"],
                "module": slo["module"],
                "summary": f"SLO {name}: error budget burning {burn['factor']}x over {burn['long']}"
                f" and {burn['short']} - {burn['budget']}",
                "runbook": f"runbook-slo-{name.replace('_', '-')}",
                "source": f"{slo['source']}; burn rate {burn['factor']}x over {burn['long']}/{burn['short']}"
                " (SRE Workbook, Alerting on SLOs)",
            }
            if i + 1 < len(burns):
                rule["inhibits"] = {"alert": f"slo_{name}_burn_{burns[i + 1]['name']}", "equal": ["slo"]}
            out.append(rule)
    return out


def render_rule_file() -> str:
    """The Prometheus rule file with every group."""
    header = "# Generated from components/observability/alerts.yaml; do not edit.\n"
    return header + yaml.safe_dump({"groups": rule_groups()}, sort_keys=False, width=1000)


def inhibit_pairs() -> list[tuple[str, str, list[str]]]:
    """(source alert, target alert, equal labels) for every `inhibits` of the rule data."""
    return [
        (r["alert"], r["inhibits"]["alert"], list(r["inhibits"].get("equal") or []))
        for r in alerts()
        if r.get("inhibits")
    ]


_KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "bool",
    "and",
    "or",
    "unless",
    "inf",
    "nan",
}
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_LABEL_LISTS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_MATCHERS = re.compile(r"\{[^}]*\}")
_IDENT = re.compile(r"(?<![\w.])([A-Za-z_:][A-Za-z0-9_:]*)\b(?!\s*\()")


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression reads (identifiers that are not functions, keywords,
    label names, durations or strings)."""
    text = _STRINGS.sub('""', expr)
    text = _LABEL_LISTS.sub(" ", text)
    text = _MATCHERS.sub(" ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    return {m for m in _IDENT.findall(text) if m.lower() not in _KEYWORDS}


def load_exporters() -> dict[str, Any]:
    """exporters.yaml: exporter -> {source, metrics}."""
    return yaml.load(DATA.with_name("exporters.yaml").read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506


def known_metrics() -> set[str]:
    """Every metric an exporter provides or an alert rule reads."""
    names = {m for e in load_exporters().values() for m in e["metrics"]}
    recorded = {r["record"] for g in recording_groups() for r in g["rules"]}
    recorded |= {r["record"] for g in slo_recording_groups() for r in g["rules"]}
    return names | recorded | {m for r in alerts() for m in metric_names(str(r["expr"]))}


def unproduced_metrics() -> set[str]:
    """Metrics an alert or recording rule reads that no exporter of exporters.yaml provides and no
    recording rule records (must be empty)."""
    provided = {m for e in load_exporters().values() for m in e["metrics"]}
    recording = [*recording_groups(), *slo_recording_groups()]
    provided |= {r["record"] for g in recording for r in g["rules"]}
    exprs = [str(r["expr"]) for r in alerts()] + [str(r["expr"]) for g in recording for r in g["rules"]]
    return {m for e in exprs for m in metric_names(e)} - provided
