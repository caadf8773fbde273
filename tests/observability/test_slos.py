"""SLOs: the seeds' objectives, the multi-window multi-burn-rate parameters, and promtool proving that
a fast burn pages and stops paging soon after it ends, and that a slow burn files a ticket only."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from components.observability import rules
from tests.support.engines import engine

# seed 001 SLOs (availability 99.9 %, p95 < 500 ms, p99 < 2 s, error rate < 0.1 %), seed 002 SLOs
# (99.9 % over 30 days, data freshness < 5 minutes), seed 004 (99.9 %, error rate < 0.1 %).
SEED_OBJECTIVES = {
    "availability": 0.999,
    "error_rate": 0.999,
    "latency_p99": 0.99,
    "latency_p95": 0.95,
    "data_freshness": 0.999,
}
# SRE Workbook, Alerting on SLOs, multiwindow multi-burn-rate: (factor, long, short, pages?)
WORKBOOK = [(14.4, "1h", "5m", True), (6, "6h", "30m", True), (3, "1d", "2h", False), (1, "3d", "6h", False)]
PAGES = ("critical", "high")  # seed 003 Alert Routing: critical and high go to PagerDuty


def test_objectives_and_period_are_the_seeds():
    doc = rules.slo_data()
    assert {s["name"]: s["objective"] for s in doc["slos"]} == SEED_OBJECTIVES
    assert doc["period"] == "30d"  # seed 002: 30 days
    # the latency SLOs read the seed's bounds: 2 s (001 p99) and 0.5 s (001 p95)
    by_name = {s["name"]: s for s in doc["slos"]}
    assert 'le=~"2|2.0"' in by_name["latency_p99"]["bad"] and 'le="0.5"' in by_name["latency_p95"]["bad"]
    assert "> bool 300" in by_name["data_freshness"]["bad_when"]  # seed 002: < 5 minutes


def test_burn_rates_are_the_workbook_parameters():
    burns = rules.slo_data()["burn_rates"]
    assert [(b["factor"], b["long"], b["short"], b["severity"] in PAGES) for b in burns] == WORKBOOK


def test_every_slo_has_four_burn_alerts_with_both_windows():
    alerts = {r["alert"]: r for r in rules.alerts()}
    for slo in rules.slo_data()["slos"]:
        budget = round(1 - SEED_OBJECTIVES[slo["name"]], 10)
        for factor, long, short, _ in WORKBOOK:
            expr = alerts[f"slo_{slo['name']}_burn_{long}"]["expr"]
            threshold = round(factor * budget, 10)
            assert f'ratio_rate{long}{{slo="{slo["name"]}"}} > {threshold}' in expr, expr
            assert f'ratio_rate{short}{{slo="{slo["name"]}"}} > {threshold}' in expr, expr


def test_slo_data_rejects_a_bad_objective(tmp_path, monkeypatch):
    bad = yaml.safe_load(rules.SLO_DATA.read_text())
    bad["slos"][0]["objective"] = 99.9  # a percentage, not a share
    path = tmp_path / "slos.yaml"
    path.write_text(yaml.safe_dump(bad))
    monkeypatch.setattr(rules, "SLO_DATA", path)
    rules.slo_data.cache_clear()
    try:
        with pytest.raises(ValueError, match="objective"):
            rules.slo_data()
    finally:
        rules.slo_data.cache_clear()


def _series(bad: str, good: str, traffic: str = "active") -> list[dict[str, str]]:
    # the fleet scrape jobs label every module series with its fleet's traffic (active/idle/standby)
    labels = f'instance="g1",job="gamma",traffic="{traffic}"'
    return [
        {"series": f"gamma_delivery_failures_total{{{labels}}}", "values": bad},
        {"series": f"gamma_records_delivered_total{{{labels}}}", "values": good},
    ]


def _firing(name: str) -> list[dict[str, object]]:
    rule = {r["alert"]: r for r in rules.alerts()}[name]
    return [
        {
            "exp_labels": {"slo": "availability", "severity": rule["severity"], "module": "gamma"},
            "exp_annotations": {
                "summary": rule["summary"],
                "runbook": rule["runbook"],
                "runbook_url": rules.runbook_url(rule["runbook"]),
                "source": rule["source"],
            },
        }
    ]


@pytest.mark.engine
def test_promtool_fast_burn_pages_then_resets_and_slow_burn_tickets(tmp_path: Path):
    promtool = engine("promtool")
    (tmp_path / "pipeline.yml").write_text(rules.render_rule_file())
    tests = [
        {
            # 100000 good deliveries a minute; 2000 failed ones (1.96 %, 19.6x the 0.1 % budget) from
            # 60m to 120m, none after. The 5-minute window clears at 125m although the 1-hour one still
            # holds 1.44 %+ of failures: the page stops without waiting an hour.
            "name": "availability: 19.6x for an hour pages, and stops 5 minutes after the burn ends",
            "interval": "1m",
            "input_series": _series("0+0x60 2000+2000x59 120000+0x40", "0+100000x160"),
            "alert_rule_test": [
                {
                    "eval_time": "118m",
                    "alertname": "slo_availability_burn_1h",
                    "exp_alerts": _firing("slo_availability_burn_1h"),
                },
                {"eval_time": "127m", "alertname": "slo_availability_burn_1h", "exp_alerts": []},
            ],
            "promql_expr_test": [
                {
                    "expr": 'slo:sli_error:ratio_rate1h{slo="availability"} > bool 0.0144',
                    "eval_time": "127m",
                    "exp_samples": [{"labels": '{slo="availability"}', "value": 1}],
                },
                {
                    "expr": 'slo:sli_error:ratio_rate5m{slo="availability"}',
                    "eval_time": "127m",
                    "exp_samples": [{"labels": 'slo:sli_error:ratio_rate5m{slo="availability"}', "value": 0}],
                },
            ],
        },
        {
            # 0.4 % failed (4x the budget), steadily: above 3x and 1x (tickets), below 6x and 14.4x (pages)
            "name": "availability: a 4x burn files tickets and pages nobody",
            "interval": "1m",
            "input_series": _series("0+400x30", "0+99600x30"),
            "alert_rule_test": [
                {
                    "eval_time": "10m",
                    "alertname": "slo_availability_burn_1d",
                    "exp_alerts": _firing("slo_availability_burn_1d"),
                },
                {
                    "eval_time": "10m",
                    "alertname": "slo_availability_burn_3d",
                    "exp_alerts": _firing("slo_availability_burn_3d"),
                },
                {"eval_time": "10m", "alertname": "slo_availability_burn_6h", "exp_alerts": []},
                {"eval_time": "10m", "alertname": "slo_availability_burn_1h", "exp_alerts": []},
            ],
            "promql_expr_test": [
                # 0.4 % of a 0.1 % budget: 1 - 4 = -3 of the 30-day budget left once the whole period burns
                {
                    "expr": 'slo:error_budget:remaining{slo="availability"}',
                    "eval_time": "10m",
                    "exp_samples": [
                        {"labels": 'slo:error_budget:remaining{slo="availability"}', "value": -3}
                    ],
                },
            ],
        },
    ]
    # the same fast burn on the idle colour or a warm standby spends no budget and pages nobody
    for traffic in ("idle", "standby"):
        tests.append(
            {
                "name": f"availability: a 19.6x burn on a fleet with traffic={traffic} pages nobody",
                "interval": "1m",
                "input_series": _series("0+0x60 2000+2000x59 120000+0x40", "0+100000x160", traffic),
                "alert_rule_test": [
                    {"eval_time": "118m", "alertname": "slo_availability_burn_1h", "exp_alerts": []},
                ],
            }
        )
    doc = {"rule_files": ["pipeline.yml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "slo-tests.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    run = subprocess.run(
        [promtool, "test", "rules", str(tmp_path / "slo-tests.yml")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
