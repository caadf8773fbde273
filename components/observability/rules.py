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
_OPTIONAL = ("seed_condition", "inhibits")


@functools.cache
def alert_groups() -> tuple[dict[str, Any], ...]:
    """The rule data, checked: every rule has every field, a known severity, a valid duration, a unique
    name, and inhibits only an alert that exists."""
    doc = yaml.load(DATA.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 (safe loader)
    groups = doc["groups"]
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
            "source": rule["source"],
        },
    }


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
    return recording + [{"name": g["name"], "rules": [_rule(r) for r in g["rules"]]} for g in alert_groups()]


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
    return names | recorded | {m for r in alerts() for m in metric_names(str(r["expr"]))}
