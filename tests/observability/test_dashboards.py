"""Grafana dashboards: the seed's dashboards with their panels and thresholds, unique uids, and
every query reads a metric an alert rule or a known exporter provides."""

from __future__ import annotations

from components.observability.dashboards import all_dashboards
from components.observability.rules import known_metrics, load_exporters, metric_names

# seed 003 Monitoring and Alerting > Dashboard Configuration: dashboard -> its six panels
SEED_003_PANELS = {
    "pipeline-system-overview": [
        "Pipeline Status Indicator",
        "End-to-End Throughput",
        "End-to-End Latency",
        "Error Rate Overview",
        "Queue Depths",
        "Circuit Breaker Status",
    ],
    "pipeline-module-alpha": [
        "Ingestion Rate by Source",
        "Source Health Status",
        "Parse Metrics",
        "Validation Metrics",
        "Buffer Status",
        "Source Error Distribution",
    ],
    "pipeline-module-beta": [
        "Transformation Throughput",
        "Quality Score Distribution",
        "Enrichment Performance",
        "Transform Rule Performance",
        "Schema Mapping Success",
        "Resource Utilization",
    ],
    "pipeline-module-gamma": [
        "Delivery Rate by Destination",
        "Destination Health",
        "Acknowledgment Metrics",
        "DLQ Status",
        "Delivery Latency by Destination",
        "Retry Analysis",
    ],
}
# seed 000 Monitoring and Alerting > Dashboard Access
SEED_000_DASHBOARDS = {
    "cdc-connector-health": "Connector Health",
    "cdc-schema-evolution": "Schema Evolution",
    "cdc-reconciliation": "Reconciliation",
}

# (dashboard, panel) -> threshold values the seed gives
SEED_THRESHOLDS = {
    # seed 003 System Overview: latency warning 500 ms / critical 2 s P99; errors 10/min and 100/min;
    # queues 60 % / 80 %; throughput warning at 50 % of baseline, critical at 25 %
    ("pipeline-system-overview", "End-to-End Latency"): [0.5, 2],
    ("pipeline-system-overview", "Error Rate Overview"): [10, 100],
    ("pipeline-system-overview", "Queue Depths"): [0.6, 0.8],
    ("pipeline-system-overview", "End-to-End Throughput"): [0.25, 0.5],
    # seed 003 Operational Metrics and Thresholds
    ("pipeline-module-alpha", "Ingestion Rate by Source"): [100, 500, 7500, 10000],
    ("pipeline-module-alpha", "Buffer Status"): [0.6, 0.8],
    ("pipeline-module-alpha", "Parse Metrics"): [0.01, 0.05],
    ("pipeline-module-alpha", "Validation Metrics"): [0.01, 0.03],
    ("pipeline-module-beta", "Transformation Throughput"): [100, 400, 6000, 8000],
    ("pipeline-module-beta", "Enrichment Performance"): [0.7, 0.85],
    ("pipeline-module-beta", "Quality Score Distribution"): [0.6, 0.8],
    ("pipeline-module-gamma", "Delivery Rate by Destination"): [100, 400, 6000, 8000],
    ("pipeline-module-gamma", "Acknowledgment Metrics"): [0.98, 0.995],
    ("pipeline-module-gamma", "DLQ Status"): [10, 50],
    ("pipeline-module-gamma", "Delivery Latency by Destination"): [0.2, 1],
    # seed 000 Critical Alerts
    ("cdc-connector-health", "Replication Lag"): [300, 900],
    ("cdc-connector-health", "DLQ Backlog"): [100, 1000],
    ("cdc-connector-health", "Error Rate"): [0.1],
    ("cdc-reconciliation", "Data Accuracy by Table"): [90, 95],
}


def _panels(d):
    return {p["title"]: p for p in d["panels"]}


def test_seed_dashboards_and_unique_uids():
    dashboards = all_dashboards()
    assert set(SEED_003_PANELS) | set(SEED_000_DASHBOARDS) <= set(dashboards)
    assert all(uid == d["uid"] for uid, d in dashboards.items())
    assert len({d["uid"] for d in dashboards.values()}) == len(dashboards)
    for uid, titles in SEED_003_PANELS.items():
        assert list(_panels(dashboards[uid])) == titles, uid
    for uid, title in SEED_000_DASHBOARDS.items():
        assert dashboards[uid]["title"].endswith(title)
    # seed 003 System Overview > Pipeline Status Indicator: refresh 10 seconds
    assert dashboards["pipeline-system-overview"]["refresh"] == "10s"


def test_panels_laid_out_on_the_grid():
    for uid, d in all_dashboards().items():
        positions = [(p["gridPos"]["x"], p["gridPos"]["y"]) for p in d["panels"]]
        assert len(set(positions)) == len(positions), uid
        assert all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in d["panels"])


def test_seed_thresholds():
    dashboards = all_dashboards()
    for (uid, title), values in SEED_THRESHOLDS.items():
        steps = _panels(dashboards[uid])[title]["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert [s["value"] for s in steps[1:]] == values, (uid, title)
        assert steps[0]["value"] is None


def test_status_panels_map_the_seed_states():
    overview = _panels(all_dashboards()["pipeline-system-overview"])
    options = overview["Pipeline Status Indicator"]["fieldConfig"]["defaults"]["mappings"][0]["options"]
    assert {v["text"] for v in options.values()} == {"HEALTHY", "DEGRADED", "UNHEALTHY"}


def test_every_query_reads_a_provided_metric():
    known = known_metrics()
    for uid, d in all_dashboards().items():
        for panel in d["panels"]:
            assert panel["targets"], (uid, panel["title"])
            for target in panel["targets"]:
                names = metric_names(target["expr"])
                assert names, (uid, panel["title"], target["expr"])
                assert names <= known, (uid, panel["title"], names - known)
                assert target["datasource"]["uid"] == "prometheus"


def test_exporter_list_is_sourced():
    for name, exporter in load_exporters().items():
        assert exporter["source"] and exporter["metrics"], name


def test_every_slo_has_an_error_budget_panel():
    from components.observability.rules import slo_data

    board = all_dashboards()["pipeline-slos"]
    panels = {p["title"]: p for p in board["panels"]}
    for slo in slo_data()["slos"]:
        panel = panels[f"Error budget remaining - {slo['name']}"]
        assert panel["type"] == "stat"
        assert [t["expr"] for t in panel["targets"]] == [f'slo:error_budget:remaining{{slo="{slo["name"]}"}}']
        # spent budget (below 0) is red
        steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert steps[0]["color"] == "red" and steps[1]["value"] == 0
