"""Builds one `promtool test rules` file from alert_cases.yaml and the rule data, so that every alert
is tested firing at/above its threshold after its `for`, silent before, and silent just below."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from components.observability import rules

CASES = Path(__file__).with_name("alert_cases.yaml")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_TEMPLATE = re.compile(r"\{\{\s*\$labels\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def seconds(duration: str) -> int:
    return int(duration[:-1]) * _UNITS[duration[-1]]


def _dur(secs: int) -> str:
    return f"{secs // 60}m" if secs % 60 == 0 else f"{secs}s"


def expand(template: str, labels: dict[str, str]) -> str:
    """Prometheus' expansion of `{{ $labels.x }}` (the only template the rule data uses)."""
    return _TEMPLATE.sub(lambda m: labels.get(m.group(1), ""), template)


def load_all() -> dict[str, Any]:
    return yaml.safe_load(CASES.read_text(encoding="utf-8"))


def load_cases() -> dict[str, Any]:
    """alert name -> its fire and quiet cases."""
    return {k: v for k, v in load_all().items() if k != "recording"}


def load_recording() -> dict[str, Any]:
    return load_all()["recording"]


_SERIES = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)\{(.*)\}$")


def with_traffic(series: str, traffic: str) -> str:
    """A case's series as the fleet scrape jobs label it (traffic=active|idle|standby), if it is a
    fleet metric (exporters.yaml pipeline-modules, node-exporter); others unchanged."""
    m = _SERIES.match(series)
    name, labels = (m.group(1), m.group(2)) if m else (series, "")
    if name not in rules.fleet_metrics():
        return series
    return f'{name}{{traffic="{traffic}"{"," + labels if labels else ""}}}'


def _labels(series: str) -> set[str]:
    m = _SERIES.match(series)
    return {kv.split("=", 1)[0] for kv in m.group(2).split(",")} if m and m.group(2) else set()


def _series(case: dict[str, Any], traffic: str = "active") -> list[dict[str, str]]:
    return [{"series": with_traffic(s, traffic), "values": v} for s, v in case["series"].items()]


def _keeps_traffic(case: dict[str, Any], alert_labels: dict[str, Any]) -> bool:
    """Whether the alert carries its fleet series' labels through (no aggregation): its expected labels
    are all the labels of one of the case's fleet series (promtool proves the guess either way)."""
    for s in case["series"]:
        if with_traffic(s, "active") != s and _labels(s) and _labels(s) <= set(alert_labels):
            return True
    return False


def _expected(rule: dict[str, Any], alert_labels: dict[str, Any]) -> dict[str, Any]:
    labels = {k: str(v) for k, v in alert_labels.items()}
    labels["severity"] = rule["severity"]
    labels["module"] = expand(rule["module"], labels)
    return {
        "exp_labels": labels,
        "exp_annotations": {
            "summary": expand(rule["summary"], labels),
            "runbook": rule["runbook"],
            "source": rule["source"],
        },
    }


def build(rule_file: str) -> dict[str, Any]:
    cases = load_cases()
    tests: list[dict[str, Any]] = []
    for rule in rules.alerts():
        name, case = rule["alert"], cases[rule["alert"]]
        fire, quiet = case["fire"], case["quiet"]
        at, hold = seconds(fire["at"]), seconds(str(rule["for"]))
        expr = rules.scope_to_traffic(" ".join(str(rule["expr"]).split()))
        expected = [
            {**labels, **({"traffic": "active"} if _keeps_traffic(fire, labels) else {})}
            for labels in fire["alerts"]
        ]
        tests.append(
            {
                "name": f"{name} fires at/above its threshold after {rule['for']}",
                "interval": "1m",
                "input_series": _series(fire),
                "alert_rule_test": [
                    {
                        "eval_time": _dur(at),
                        "alertname": name,
                        "exp_alerts": [_expected(rule, labels) for labels in expected],
                    },
                    # one evaluation earlier it is still pending: `at` is its first firing evaluation
                    {"eval_time": _dur(at - 60), "alertname": name, "exp_alerts": []},
                ],
                # ... and its condition already holds at `at - for`: it fires exactly after its `for`.
                "promql_expr_test": [
                    {
                        "expr": f"count({expr})",
                        "eval_time": _dur(at - hold),
                        "exp_samples": [{"labels": "{}", "value": len(fire["alerts"])}],
                    },
                ],
            }
        )
        tests.append(
            {
                "name": f"{name} stays silent just below its threshold",
                "interval": "1m",
                "input_series": _series(quiet),
                "alert_rule_test": [
                    {"eval_time": _dur(at), "alertname": name, "exp_alerts": []},
                    {"eval_time": _dur(at + hold), "alertname": name, "exp_alerts": []},
                ],
            }
        )
        # An idle colour and a warm standby carry no traffic: the firing series, labelled as theirs,
        # page nobody (an alert that reads no fleet metric is not scoped and has no such case).
        if any(with_traffic(series, "idle") != series for series in fire["series"]):
            for traffic in ("idle", "standby"):
                tests.append(
                    {
                        "name": f"{name} stays silent on a fleet with traffic={traffic}",
                        "interval": "1m",
                        "input_series": _series(fire, traffic),
                        "alert_rule_test": [
                            {"eval_time": _dur(at), "alertname": name, "exp_alerts": []},
                            {"eval_time": _dur(at + hold), "alertname": name, "exp_alerts": []},
                        ],
                    }
                )
    rec = load_recording()
    by_name = {r["alert"]: r for r in rules.alerts()}
    tests.append(
        {
            "name": "seed 000 metrics recorded from the exporters, and the seed 000 alerts on them",
            "interval": "1m",
            "input_series": _series(rec),
            "promql_expr_test": [
                {"expr": name, "eval_time": rec["at"], "exp_samples": samples}
                for name, samples in rec["samples"].items()
            ],
            "alert_rule_test": [
                {
                    "eval_time": case["at"],
                    "alertname": name,
                    "exp_alerts": [_expected(by_name[name], labels) for labels in case["alerts"]],
                }
                for name, case in rec["alerts"].items()
            ],
        }
    )
    return {"rule_files": [rule_file], "evaluation_interval": "1m", "tests": tests}
