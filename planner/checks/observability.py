"""Observability coverage: every metric an alert or a dashboard panel reads is produced by an exporter
(data/producers.yaml) that a scrape config reaches, or by a recording rule. Rules that would page on
the idle colour (fleet metrics without a colour matcher where two colours are scraped) or on the warm
standby (a DR site's fleets and data plane) are named."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import yaml

from planner.checks import Check, Finding
from planner.checks.model import get, label, resources, stacks

DATA = Path(__file__).resolve().parent / "data" / "producers.yaml"
_KEYWORDS = {
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "offset",
    "bool",
    "group",
    "inf",
    "nan",
    "le",
}


@functools.cache
def producers() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))["producers"]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (label matchers, strings, durations, grouping
    clauses and function names removed)."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    out = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        name = m.group(0)
        rest = text[m.end() :].lstrip()
        if rest.startswith("(") or name.lower() in _KEYWORDS or re.fullmatch(r"\d+[smhdwy]", name):
            continue
        if name[0].isdigit() or (m.start() > 0 and text[m.start() - 1].isdigit()):
            continue
        out.add(name)
    return out


def _rules(stack: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [
        (r, rule)
        for r in resources(stack, kind="PrometheusRule")
        for g in get(r, "inputs", "spec", "groups", default=[]) or []
        for rule in g.get("rules") or []
    ]


def _panels(doc: Any) -> list[dict[str, Any]]:
    out = []
    for p in (doc.get("panels") or []) if isinstance(doc, dict) else []:
        out.append(p)
        out.extend(_panels(p))
    return out


def _dashboard_reads(stack: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(resource label, dashboard/panel, expr) of every dashboard panel target."""
    out = []
    for cm in resources(stack, kind="ConfigMap"):
        if get(cm, "inputs", "metadata", "labels", "grafana_dashboard") is None:
            continue
        for key, text in (get(cm, "inputs", "data") or {}).items():
            try:
                doc = json.loads(text)
            except (TypeError, ValueError):
                continue
            for panel in _panels(doc):
                for t in panel.get("targets") or []:
                    if t.get("expr"):
                        out.append((label(cm), f"{key} panel {panel.get('title')!r}", t["expr"]))
    return out


def _collected(stack: dict[str, Any], spec: dict[str, Any]) -> bool:
    if "scrape_port" in spec:
        port = spec["scrape_port"]
        return any(
            int(sd.get("port") or 0) == port
            for rel in resources(stack, "kubernetes:helm.sh/v3:Release")
            for cfg in get(
                rel, "inputs", "values", "prometheus", "prometheusSpec", "additionalScrapeConfigs", default=[]
            )
            or []
            for sd in cfg.get("ec2_sd_configs") or []
        )
    if "monitor" in spec:
        return any(
            spec["monitor"] in r["name"]
            for r in resources(stack)
            if (r.get("inputs") or {}).get("kind") in ("PodMonitor", "ServiceMonitor")
        )
    if "chart" in spec:
        return any(
            spec["chart"] in str(get(r, "inputs", "chart", default=""))
            for r in resources(stack, "kubernetes:helm.sh/v3:Release")
        )
    return False


def _producer(metric: str) -> dict[str, Any] | None:
    best = None
    for prefix, spec in producers().items():
        matches = metric == prefix or (prefix.endswith("_") and metric.startswith(prefix))
        if matches and (best is None or len(prefix) > len(best[0])):
            best = (prefix, spec)
    return best[1] if best else None


# Column usages that export no series of their own (cloudnative-pg metrics/parser.go ColumnUsage).
_NO_SERIES = {"LABEL", "DISCARD"}


def custom_query_metrics(stack: dict[str, Any]) -> set[str]:
    """The metric names CloudNativePG's instance managers export from the custom queries the stack's
    Clusters name (spec.monitoring.customQueriesConfigMap: {name, key} of a ConfigMap in the Cluster's
    namespace), read from the ConfigMaps as rendered: cnpg_<query's `name` or key>_<column's `name` or
    column> for every column but LABEL and DISCARD ones, a HISTOGRAM as its _bucket, _sum and _count
    (cloudnative-pg pkg/management/postgres/metrics: collector.go ParseUserQueries, mappings.go)."""
    maps = {
        (get(cm, "inputs", "metadata", "namespace"), get(cm, "inputs", "metadata", "name")): get(
            cm, "inputs", "data", default={}
        )
        or {}
        for cm in resources(stack, "kubernetes:core/v1:ConfigMap")
    }
    out: set[str] = set()
    for cluster in resources(stack, kind="Cluster"):
        if not str(get(cluster, "inputs", "apiVersion", default="")).startswith("postgresql.cnpg.io/"):
            continue
        namespace = get(cluster, "inputs", "metadata", "namespace")
        for ref in get(cluster, "inputs", "spec", "monitoring", "customQueriesConfigMap", default=[]) or []:
            text = maps.get((namespace, ref.get("name")), {}).get(ref.get("key"))
            try:
                queries = yaml.safe_load(text) if isinstance(text, str) else None
            except yaml.YAMLError:
                continue
            for key, query in (queries or {}).items() if isinstance(queries, dict) else ():
                prefix = f"cnpg_{(query or {}).get('name') or key}"
                for mapping in (query or {}).get("metrics") or []:
                    for column, desc in (mapping or {}).items():
                        usage = str((desc or {}).get("usage", "")).upper()
                        if usage in _NO_SERIES:
                            continue
                        name = f"{prefix}_{(desc or {}).get('name') or column}"
                        if usage == "HISTOGRAM":
                            out |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
                        else:
                            out.add(name)
    return out


def _status(metric: str, stack: dict[str, Any], blocked: set[int], custom: set[str]) -> str | None:
    """None when an exporter produces the metric and a scrape reaches it; otherwise why not.
    `custom`: custom_query_metrics(stack)."""
    spec = _producer(metric)
    if spec is not None and spec.get("custom_queries") and metric not in custom:
        spec = None
    if spec is None:
        return "no exporter in the estate produces it"
    if not _collected(stack, spec):
        return f"{spec['producer']}: no scrape reaches it"
    if spec.get("scrape_port") in blocked:
        return f"{spec['producer']}: the scrape job's targets do not admit it (reachability)"
    return None


def run(estate: dict) -> list[Finding]:
    from planner.checks.reachability import blocked_scrapes

    findings = []
    blocked_all = blocked_scrapes(estate)
    for name, stack in stacks(estate):
        rules = _rules(stack)
        blocked = {port for s, port in blocked_all if s == name}
        custom = custom_query_metrics(stack)
        # A recording rule produces its metric only if what it reads is produced (to a fixed point).
        # Several rules may record one name (an SLO's ratio per SLO label): the name counts as
        # produced only when every one of them is, since a reader selects the series of any of them.
        recording: dict[str, set[str]] = {}
        for _, rule in rules:
            if rule.get("record") and isinstance(rule.get("expr"), str):
                recording.setdefault(rule["record"], set()).update(metric_names(rule["expr"]))
        recorded: set[str] = set()
        changed = True
        while changed:
            changed = False
            for record, inputs in recording.items():
                if record not in recorded and all(
                    m in recorded or _status(m, stack, blocked, custom) is None for m in inputs
                ):
                    recorded.add(record)
                    changed = True
        reads = [
            (
                label(r),
                f"{'alert ' + rule['alert'] if rule.get('alert') else 'recording rule ' + rule['record']}",
                rule["expr"],
            )
            for r, rule in rules
            if isinstance(rule.get("expr"), str)
        ]
        reads += _dashboard_reads(stack)
        missing: dict[tuple[str, str], set[str]] = {}
        for res, where, expr in reads:
            for metric in metric_names(expr):
                if metric in recorded:
                    continue
                if metric in recording:
                    missing.setdefault((res, where), set()).add(
                        f"{metric} (recorded from metrics that are not produced)"
                    )
                    continue
                why = _status(metric, stack, blocked, custom)
                if why:
                    missing.setdefault((res, where), set()).add(f"{metric} ({why})")
        for (res, where), metrics in sorted(missing.items()):
            findings.append(
                Finding("observability", name, res, f"{where} reads {', '.join(sorted(metrics))}")
            )
    return findings


TRAFFIC_ACTIVE = 'traffic="active"'


def _fleet_jobs(stack: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        cfg
        for rel in resources(stack, "kubernetes:helm.sh/v3:Release")
        for cfg in get(
            rel, "inputs", "values", "prometheus", "prometheusSpec", "additionalScrapeConfigs", default=[]
        )
        or []
        if cfg.get("ec2_sd_configs")
    ]


def _traffic_labelled(stack: dict[str, Any], standby: bool) -> bool:
    """Whether every fleet scrape job labels its series `traffic`, with `active` only for the colour the
    stack's traffic state names (a relabel from the Colour tag) and never on a warm standby."""
    jobs = _fleet_jobs(stack)
    if not jobs:
        return False
    for job in jobs:
        relabels = [r for r in job.get("relabel_configs") or [] if r.get("target_label") == "traffic"]
        if not relabels:
            return False
        for r in relabels:
            if r.get("replacement") == "active" and (
                standby or "__meta_ec2_tag_Colour" not in (r.get("source_labels") or []) or not r.get("regex")
            ):
                return False
    return True


def _scoped(expr: str, fleet: set[str]) -> bool:
    """Whether every selector of a fleet metric in `expr` matches traffic="active"."""
    for metric in fleet:
        selectors = re.findall(rf"(?<![\w:]){re.escape(metric)}(?![\w:])(\{{[^}}]*\}})?", expr)
        if not selectors or not all(TRAFFIC_ACTIVE in sel for sel in selectors):
            return False
    return True


def idle_pages(estate: dict) -> list[Finding]:
    """Alerts that page on an idle colour or a warm standby (advisory: named, not failing)."""
    findings = []
    for name, stack in stacks(estate):
        standby = (stack.get("dr") or {}).get("site") == "dr" and (stack.get("dr") or {}).get(
            "role"
        ) == "standby"
        # an environment whose colours a traffic stack switches (prod, switched by prod-traffic)
        two_colours = stack.get("traffic") is not None or any(
            other.get("role") == "traffic"
            and str(other.get("environment_stack") or "").rsplit("/", 1)[-1] == name
            for _, other in stacks(estate)
        )
        labelled = _traffic_labelled(stack, standby)
        for r, rule in _rules(stack):
            if not rule.get("alert") or get(rule, "labels", "severity") not in ("critical", "high"):
                continue
            expr = str(rule.get("expr"))
            prefixes = ("alpha_", "beta_", "gamma_", "pipeline_", "node_")
            fleet_metrics = {m for m in metric_names(expr) if m.startswith(prefixes)}
            fleet = bool(fleet_metrics)
            # scoped to the fleets carrying traffic, as the scrape jobs label them: silent when idle
            if fleet and labelled and _scoped(expr, fleet_metrics):
                continue
            if fleet and two_colours and "colour" not in expr:
                findings.append(
                    Finding(
                        "observability-idle",
                        name,
                        label(r),
                        f"alert {rule['alert']} reads fleet metrics of both colours with no colour "
                        "matcher: the idle colour pages",
                    )
                )
            elif standby and (fleet or "stopped" in rule["alert"] or "throughput" in rule["alert"]):
                findings.append(
                    Finding(
                        "observability-idle",
                        name,
                        label(r),
                        f"alert {rule['alert']} ({get(rule, 'labels', 'severity')}) also fires on the "
                        "warm standby, which takes no traffic",
                    )
                )
    return findings


CHECK = Check(
    "observability",
    "high",
    "mandatory",
    "every metric an alert or dashboard reads is produced and scraped",
    run,
)
IDLE = Check(
    "observability-idle",
    "medium",
    "advisory",
    "alerts that would page on the idle colour or the warm standby (named for review)",
    idle_pages,
)
