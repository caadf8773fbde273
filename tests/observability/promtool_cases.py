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
    """alert name -> its fire and quiet cases (the SLO alerts' cases built by slo_cases())."""
    cases = {k: v for k, v in load_all().items() if k not in ("recording", "slo")}
    return {**cases, **slo_cases()}


# Fire and quiet ratios of a burn-rate alert: 5 % above and below factor x error budget.
SLO_MARGIN = 0.05


def slo_cases() -> dict[str, Any]:
    """Fire and quiet cases of every SLO burn-rate alert from the `slo` fixture of alert_cases.yaml.

    Request-based SLIs: `per_minute` events a minute, a steady share `ratio` of them bad, so the error
    ratio is the same over every window once two samples exist (t = 1m): the alert is pending from 1m
    and fires at 1m + for. Fire: ratio = factor x budget x 1.05; quiet: x 0.95. Fixture keys name the
    series fed: `bad` and `good` (total = good + bad), or `bad` and `total`, or `good` and `total`
    (a histogram: the count and the bucket at the latency bound).
    Time-based SLIs: the gauge at `fire` (objective missed all the time) or `quiet` (just met) from
    t = 0: the ratio is 1 or 0 over every window from the first evaluation: fired at 0 + for."""
    fixture = load_all()["slo"]
    n = int(fixture["per_minute"])
    out: dict[str, Any] = {}
    doc = rules.slo_data()
    for slo in doc["slos"]:
        feed = fixture[slo["name"]]
        for burn in doc["burn_rates"]:
            alert = f"slo_{slo['name']}_burn_{burn['name']}"
            steps = seconds(str(burn["for"])) // 60 + 10
            if "bad_when" in slo:
                out[alert] = {
                    "fire": {
                        "series": {feed["gauge"]: f"{feed['fire']}+0x{steps}"},
                        "at": _dur(seconds(str(burn["for"]))),
                        "alerts": [{"slo": slo["name"]}],
                    },
                    "quiet": {"series": {feed["gauge"]: f"{feed['quiet']}+0x{steps}"}},
                }
                continue
            threshold = float(burn["factor"]) * rules.error_budget(slo)

            def series(ratio: float, feed=feed, steps=steps) -> dict[str, str]:
                bad = round(n * ratio)
                values = {"bad": bad, "good": n - bad, "total": n}
                return {feed[k]: f"0+{values[k]}x{steps}" for k in ("bad", "good", "total") if k in feed}

            out[alert] = {
                "fire": {
                    "series": series(threshold * (1 + SLO_MARGIN)),
                    "at": _dur(60 + seconds(str(burn["for"]))),
                    "alerts": [{"slo": slo["name"]}],
                },
                "quiet": {"series": series(threshold * (1 - SLO_MARGIN))},
            }
    return out


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
            "runbook_url": rules.runbook_url(rule["runbook"]),
            "source": rule["source"],
        },
    }


def alone_groups() -> list[str]:
    """Rule groups of the alerts whose case is `alone` (a case a week long: evaluating every rule of
    the pipeline at every minute of it would take minutes, so it runs on its own group's rules)."""
    cases = load_cases()
    return [
        g["name"] for g in rules.alert_groups() if any(cases[r["alert"]].get("alone") for r in g["rules"])
    ]


def build(rule_file: str, *, alone: bool = False) -> dict[str, Any]:
    """The promtool test file: every alert whose case is (not) `alone`; with `alone` only those, for a
    rule file of alone_groups(), and no recording-rule test."""
    cases = load_cases()
    tests: list[dict[str, Any]] = []
    for rule in rules.alerts():
        name, case = rule["alert"], cases[rule["alert"]]
        if bool(case.get("alone")) != alone:
            continue
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
    if alone:
        return {"rule_files": [rule_file], "evaluation_interval": "1m", "tests": tests}
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
