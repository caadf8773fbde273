"""Alert rules: the seed's alerts are all there with the seed's severities, durations, summaries and
runbooks; promtool checks the rendered file and proves every alert's threshold and `for`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from components.observability import rules, runbooks
from components.observability.dashboards import all_dashboards
from tests.observability.promtool_cases import alone_groups, build, load_cases, load_recording
from tests.support.engines import engine

# seed 003 Monitoring and Alerting > Alert Definitions: name -> (severity, duration, runbook)
SEED_003 = {
    "alpha_ingestion_stopped": ("critical", "5m", "runbook-alpha-ingestion-stopped"),
    "alpha_high_parse_error_rate": ("high", "5m", "runbook-alpha-parse-errors"),
    "alpha_buffer_critical": ("high", "5m", "runbook-alpha-buffer-full"),
    "alpha_source_connection_failed": ("medium", "10m", "runbook-alpha-source-connection"),
    "alpha_validation_failure_spike": ("medium", "10m", "runbook-alpha-validation-spike"),
    "beta_transformation_stopped": ("critical", "5m", "runbook-beta-transformation-stopped"),
    "beta_quality_score_low": ("high", "15m", "runbook-beta-quality-low"),
    "beta_enrichment_degraded": ("medium", "10m", "runbook-beta-enrichment-cache"),
    "beta_queue_growing": ("medium", "30m", "runbook-beta-queue-growth"),
    "beta_transform_latency_high": ("medium", "10m", "runbook-beta-latency"),
    "gamma_delivery_stopped": ("critical", "5m", "runbook-gamma-delivery-stopped"),
    "gamma_dlq_growing": ("high", "1h", "runbook-gamma-dlq-growth"),
    "gamma_destination_down": ("high", "5m", "runbook-gamma-destination-down"),
    "gamma_delivery_latency_high": ("medium", "10m", "runbook-gamma-latency"),
    "gamma_circuit_breaker_open": ("medium", "1m", "runbook-gamma-circuit-breaker"),
    "pipeline_throughput_degraded": ("high", "15m", "runbook-pipeline-throughput"),
    "pipeline_latency_sla_breach": ("critical", "10m", "runbook-pipeline-latency-sla"),
    "multiple_circuit_breakers_open": ("critical", "5m", "runbook-multiple-circuit-breakers"),
}
# seed 003 summaries, verbatim
SEED_003_SUMMARIES = {
    "alpha_ingestion_stopped": "Module Alpha has stopped ingesting records",
    "alpha_high_parse_error_rate": "Parse error rate exceeds 5%",
    "alpha_source_connection_failed": "Source {{ $labels.source }} connection failed",
    "beta_queue_growing": "Beta queue growing by more than 1000 in 30 minutes",
    "gamma_destination_down": "Destination {{ $labels.destination }} is unreachable",
    "pipeline_latency_sla_breach": "End-to-end latency SLA breach - P99 exceeds 2 seconds",
}
# seed 000 Monitoring and Alerting > Critical Alerts: threshold of each row, as (metric, op, value)
SEED_000 = {
    "cdc_connector_down": ("cdc_connector_healthy", "==", "0", "2m"),  # Connector Down > 2 minutes
    "cdc_replication_lag_high": ("cdc_replication_lag_seconds", ">", "300", None),
    "cdc_replication_lag_critical": ("cdc_replication_lag_seconds", ">", "900", None),
    "cdc_error_rate_high": ("cdc_replication_errors_total", ">", "0.1", None),
    "cdc_data_accuracy_low": ("cdc_data_accuracy_percentage", "<", "95", None),
    "cdc_data_accuracy_critical": ("cdc_data_accuracy_percentage", "<", "90", None),
    "cdc_dlq_backlog": ("cdc_dlq_messages_total", ">", "100", None),
    "cdc_dlq_backlog_critical": ("cdc_dlq_messages_total", ">", "1000", None),
}


def _by_name():
    return {r["alert"]: r for r in rules.alerts()}


def test_every_seed_003_alert_with_its_severity_duration_and_runbook():
    got = _by_name()
    for name, (severity, duration, runbook) in SEED_003.items():
        assert name in got, name
        assert (got[name]["severity"], got[name]["for"], got[name]["runbook"]) == (
            severity,
            duration,
            runbook,
        ), name
        assert (
            got[name]["module"] == name.split("_")[0]
            if name.split("_")[0] in ("alpha", "beta", "gamma")
            else got[name]["module"] == "pipeline"
        )
    for name, summary in SEED_003_SUMMARIES.items():
        assert got[name]["summary"] == summary


def test_every_seed_000_critical_alert_with_its_threshold():
    got = _by_name()
    for name, (metric, op, value, duration) in SEED_000.items():
        expr = got[name]["expr"]
        assert metric in expr and re.search(rf"{re.escape(op)}\s*{re.escape(value)}\s*$", expr), (name, expr)
        if duration:
            assert got[name]["for"] == duration


def test_data_plane_and_capacity_basics_present():
    # issue 5 list; figures: seed 003 Capacity Thresholds (CPU 70 / 85 % sustained, disk 75 / 90 %)
    got = _by_name()
    metrics = {
        "KafkaUnderReplicatedPartitions": "kafka_server_replicamanager_underreplicatedpartitions",
        "KafkaOfflinePartitions": "kafka_controller_kafkacontroller_offlinepartitionscount",
        "KafkaConsumerLagHigh": "kafka_consumergroup_lag",
        "ScyllaNodeDown": "scylla_node_operation_mode",
        "PostgresReplicationLag": "cnpg_pg_replication_lag",
        "PostgresWalArchivingFailing": "cnpg_pg_stat_archiver_last_failed_time",
    }
    for name, metric in metrics.items():
        assert metric in got[name]["expr"], name
    for name, figure in (
        ("FleetCpuHigh", "0.70"),
        ("FleetCpuCritical", "0.85"),
        ("FleetDiskUsageHigh", "0.75"),
        ("FleetDiskUsageCritical", "0.90"),
        ("VolumeUsageHigh", "0.75"),
        ("VolumeUsageCritical", "0.90"),
    ):
        assert got[name]["expr"].rstrip().endswith(f"> {figure}"), name


def test_every_rule_has_module_severity_and_seed_source():
    for group in rules.rule_groups():
        for rule in (r for r in group["rules"] if "alert" in r):
            assert rule["labels"]["severity"] in ("critical", "high", "medium", "low", "info")
            assert rule["labels"]["module"]
            assert rule["annotations"]["source"].startswith("seed 00"), rule["alert"]
            # an alert runbook, or a procedure guide (DrDrillOverdue: the drill itself)
            assert rule["annotations"]["runbook"].startswith("runbook-") or rule["annotations"][
                "runbook"] in runbooks.GUIDES


def test_latency_rules_use_bucket_series():
    # seed 003's histogram_quantile(0.99, <histogram>) is not valid PromQL over classic histograms
    for name in ("beta_transform_latency_high", "gamma_delivery_latency_high", "pipeline_latency_sla_breach"):
        expr = _by_name()[name]["expr"]
        assert "_bucket" in expr and "rate(" in expr, name


def test_rule_data_rejects_a_bad_rule(tmp_path, monkeypatch):
    bad = yaml.safe_load(rules.DATA.read_text())
    bad["groups"][0]["rules"][0]["severity"] = "urgent"
    path = tmp_path / "alerts.yaml"
    path.write_text(yaml.safe_dump(bad))
    monkeypatch.setattr(rules, "DATA", path)
    rules.alert_groups.cache_clear()
    try:
        with pytest.raises(ValueError, match="severity"):
            rules.alert_groups()
    finally:
        rules.alert_groups.cache_clear()


def test_every_alert_has_a_fire_and_a_quiet_case():
    cases = load_cases()
    names = [r["alert"] for r in rules.alerts()]
    assert sorted(cases) == sorted(names)
    for name in names:
        fire, quiet = cases[name]["fire"], cases[name]["quiet"]
        assert fire["alerts"] and fire["at"]
        # the quiet case feeds the same series, only the values differ (just below the threshold)
        assert set(fire["series"]) == set(quiet["series"]), name
        assert fire["series"] != quiet["series"], name


def dashboard_exprs() -> list[str]:
    def panels(p):
        for q in p.get("panels") or []:
            yield q
            yield from panels(q)

    return [
        t["expr"] for d in all_dashboards().values() for p in panels(d) for t in p.get("targets") or []
    ]


def test_every_recording_rule_has_expected_samples():
    recorded = [r["record"] for g in rules.recording_groups() for r in g["rules"]]
    assert recorded and sorted(load_recording()["samples"]) == sorted(recorded)
    # the seed 000 names they produce are the ones the seed 000 alerts and dashboards read
    reads = {m for r in rules.alerts() for m in rules.metric_names(str(r["expr"]))}
    reads |= {m for expr in dashboard_exprs() for m in rules.metric_names(expr)}
    assert set(recorded) <= reads


@pytest.mark.engine
def test_promtool_checks_and_tests_the_rule_file(tmp_path: Path):
    promtool = engine("promtool")
    (tmp_path / "pipeline.yml").write_text(rules.render_rule_file())
    check = subprocess.run(
        [promtool, "check", "rules", str(tmp_path / "pipeline.yml")], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    recorded = sum(len(g["rules"]) for g in rules.recording_groups() + tuple(rules.slo_recording_groups()))
    assert f"{len(rules.alerts()) + recorded} rules found" in check.stdout
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(build("pipeline.yml"), sort_keys=False))
    groups = [g for g in rules.rule_groups() if g["name"] in alone_groups()]
    assert groups  # the week-long rollback baseline case
    (tmp_path / "alone.yml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, width=1000))
    (tmp_path / "alone-tests.yml").write_text(
        yaml.safe_dump(build("alone.yml", alone=True), sort_keys=False)
    )
    for tests in ("tests.yml", "alone-tests.yml"):
        run = subprocess.run(
            [promtool, "test", "rules", str(tmp_path / tests)], capture_output=True, text=True, cwd=tmp_path
        )
        assert run.returncode == 0, run.stdout + run.stderr


def test_every_metric_a_rule_reads_is_produced():
    # an exporter of exporters.yaml provides it or a recording rule records it: no invented metric
    assert rules.unproduced_metrics() == set()


def test_an_invented_metric_is_reported(monkeypatch):
    fake = {"alert": "x", "expr": "pipeline_made_up_total > 0"}
    monkeypatch.setattr(rules, "alerts", lambda: [*rules.alert_groups()[0]["rules"], fake])
    assert rules.unproduced_metrics() == {"pipeline_made_up_total"}


def test_cdc_recording_rules_read_the_deployed_connectors():
    """The recorded seed 000 names read the connectors the streaming layer deploys: Kafka Connect's
    sink consumer group is connect-<connector name>."""
    from components.streaming.connect.config import SINK_NAME, SOURCE_NAME

    exprs = {r["record"]: str(r["expr"]) for g in rules.recording_groups() for r in g["rules"]}
    for record in ("cdc_replication_lag_seconds", "cdc_records_replicated_total"):
        assert f'consumergroup="connect-{SINK_NAME}"' in exprs[record], record
    assert f'connector=~"{SOURCE_NAME}|{SINK_NAME}"' in exprs["cdc_replication_errors_total"]


def test_fleet_alerts_select_traffic_carrying_fleets():
    # every alert reading a metric of the fleets' exporters selects traffic="active" in each selector
    fleet = rules.fleet_metrics()
    scoped = 0
    for group in rules.rule_groups():
        for rule in (r for r in group["rules"] if "alert" in r):
            reads = rules.metric_names(rule["expr"]) & fleet
            for metric in reads:
                pattern = rf"(?<![\w:]){re.escape(metric)}(?![\w:])(\{{[^}}]*\}})?"
                selectors = re.findall(pattern, rule["expr"])
                assert selectors and all('traffic="active"' in s for s in selectors), rule["alert"]
            scoped += bool(reads)
    assert scoped >= 22  # the 18 seed 003 module/system alerts and the 4 fleet capacity alerts
    # data-plane alerts are not scoped (their metrics have no traffic label)
    assert "traffic" not in _by_name()["KafkaConsumerLagHigh"]["expr"]


def test_scoping_adds_the_matcher_to_every_selector_form():
    metrics = frozenset({"m_total", "n"})
    assert rules.scope_to_traffic('rate(m_total[5m]) / n{a="x"} + n{} + m_total_other', metrics) == (
        'rate(m_total{traffic="active"}[5m]) / n{traffic="active", a="x"} + n{traffic="active"}'
        " + m_total_other"
    )


@pytest.mark.engine
def test_promtool_shows_unscoped_rules_paging_for_an_idle_colour(tmp_path: Path):
    # the idle/standby cases can fail: against the rules without the traffic matcher they do
    promtool = engine("promtool")
    doc = yaml.safe_load(rules.render_rule_file())
    for group in doc["groups"]:
        for rule in group["rules"]:
            rule["expr"] = re.sub(r'traffic="active",? ?', "", rule["expr"]).replace("{}", "")
    (tmp_path / "pipeline.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(build("pipeline.yml"), sort_keys=False))
    run = subprocess.run(
        [promtool, "test", "rules", str(tmp_path / "tests.yml")], capture_output=True, text=True, cwd=tmp_path
    )
    assert run.returncode != 0
    assert "alpha_ingestion_stopped stays silent on a fleet with traffic=idle" in run.stdout + run.stderr
    assert "stays silent on a fleet with traffic=standby" in run.stdout + run.stderr
