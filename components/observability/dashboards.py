"""Grafana dashboards as code (grafana-foundation-sdk, Grafana 11.6 schema). No Pulumi import.

Seed 003 Monitoring and Alerting > Dashboard Configuration (System Overview, Module Alpha, Beta and
Gamma, with the thresholds of seed 003 Operational Metrics and Thresholds) and seed 000 Monitoring and
Alerting > Dashboard Access (CDC Connector Health, Schema Evolution, Reconciliation). Every query reads
a metric an alert rule reads or an exporter of exporters.yaml provides (tests check it).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from grafana_foundation_sdk.builders import bargauge, heatmap, histogram, prometheus, stat, timeseries
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders.common import (
    GraphThresholdsStyleConfig,
    ReduceDataOptions,
    StackingConfig,
)
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from components.observability.rules import error_budget, slo_data

DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="prometheus")
GREEN, ORANGE, RED, YELLOW = "green", "orange", "red", "yellow"


@dataclass(frozen=True)
class PanelSpec:
    title: str
    queries: tuple[tuple[str, str], ...]  # (PromQL, legend)
    kind: str = "timeseries"  # timeseries | stat | bargauge | heatmap | histogram
    unit: str = "short"
    # Grafana threshold steps: the base colour, then (value, colour) from which on it applies.
    thresholds: tuple[tuple[float | None, str], ...] = ((None, GREEN),)
    mappings: dict[str, tuple[str, str]] = field(default_factory=dict)  # value -> (text, colour)
    stacked: bool = False
    bars: bool = False
    description: str = ""


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    title: str
    source: str
    panels: tuple[PanelSpec, ...]
    refresh: str = "1m"
    time_from: str = "now-24h"
    tags: tuple[str, ...] = ()


def _steps(*steps: tuple[float | None, str]) -> tuple[tuple[float | None, str], ...]:
    return steps


# seed 003 Operational Metrics and Thresholds: the "rate" rows (records/s), warning below/above and
# critical below/above, as Grafana steps (red < critical-low <= orange < warning-low <= green ...).
def _rate_band(crit_low: float, warn_low: float, warn_high: float, crit_high: float):
    return _steps((None, RED), (crit_low, ORANGE), (warn_low, GREEN), (warn_high, ORANGE), (crit_high, RED))


_SEED3 = "seed 003 Monitoring and Alerting > Dashboard Configuration"
_OPS = "seed 003 Operational Metrics and Thresholds"


def _q(expr: str, legend: str = "__auto") -> tuple[str, str]:
    return (expr, legend)


def _quantiles(metric: str, by: str = "") -> tuple[tuple[str, str], ...]:
    group = f"le, {by}" if by else "le"
    suffix = f" {{{{{by}}}}}" if by else ""
    return tuple(
        _q(
            f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket[5m])))",
            f"P{int(q * 100)}{suffix}",
        )
        for q in (0.5, 0.95, 0.99)
    )


SPECS: tuple[DashboardSpec, ...] = (
    DashboardSpec(
        uid="pipeline-system-overview",
        title="Pipeline - System Overview",
        refresh="10s",
        source=f"{_SEED3} > System Overview Dashboard",
        tags=("pipeline", "seed-003"),
        panels=(
            PanelSpec(
                "Pipeline Status Indicator",
                kind="stat",
                queries=(
                    _q(
                        '(max(ALERTS{alertstate="firing",severity="critical"}) * 2)'
                        ' or max(ALERTS{alertstate="firing",severity="high"}) or vector(0)',
                        "status",
                    ),
                ),
                mappings={"0": ("HEALTHY", GREEN), "1": ("DEGRADED", ORANGE), "2": ("UNHEALTHY", RED)},
                thresholds=_steps((None, GREEN), (1, ORANGE), (2, RED)),
                description="HEALTHY / DEGRADED / UNHEALTHY from the firing "
                "alerts of every module (refresh 10 s).",
            ),
            PanelSpec(
                "End-to-End Throughput",
                unit="percentunit",
                queries=(
                    _q(
                        "sum(rate(gamma_records_delivered_total[5m]))"
                        " / sum(rate(gamma_records_delivered_total[5m] offset 1w))",
                        "share of baseline",
                    ),
                ),
                thresholds=_steps((None, RED), (0.25, ORANGE), (0.5, GREEN)),
                description="Records/s through the full pipeline against the "
                "same hour a week before (baseline);"
                " warning at 50 % of baseline, critical at 25 %.",
            ),
            PanelSpec(
                "End-to-End Latency",
                unit="s",
                queries=_quantiles("pipeline_end_to_end_latency_seconds"),
                thresholds=_steps((None, GREEN), (0.5, ORANGE), (2, RED)),
                description="P50, P95, P99; warning at 500 ms P99, critical at 2 s P99.",
            ),
            PanelSpec(
                "Error Rate Overview",
                unit="short",
                stacked=True,
                queries=(
                    _q(
                        "sum(rate(alpha_parse_errors_total[5m]) * 60)"
                        " + sum(rate(alpha_validation_failures_total[5m]) * 60)",
                        "alpha",
                    ),
                    _q("sum(rate(gamma_delivery_failures_total[5m]) * 60)", "gamma"),
                ),
                thresholds=_steps((None, GREEN), (10, ORANGE), (100, RED)),
                description="Errors per minute by module (stacked); warning at 10/min, critical at 100/min.",
            ),
            PanelSpec(
                "Queue Depths",
                kind="bargauge",
                unit="percentunit",
                queries=(
                    _q("max(alpha_buffer_utilization)", "alpha buffer"),
                    _q("max(beta_queue_depth) / 5000", "beta transform queue"),
                    _q("sum(gamma_pending_deliveries) / 5000", "gamma pending deliveries"),
                ),
                thresholds=_steps((None, GREEN), (0.6, ORANGE), (0.8, RED)),
                description="Depth against capacity (5000: seed 003 Beta queue "
                "depth critical); warning at 60 %,"
                " critical at 80 % (seed 003 Capacity Thresholds > Queue depth).",
            ),
            PanelSpec(
                "Circuit Breaker Status",
                kind="stat",
                queries=(_q("max by (destination) (gamma_circuit_breaker_state)", "{{destination}}"),),
                mappings={"0": ("CLOSED", GREEN), "1": ("OPEN", RED), "2": ("HALF-OPEN", YELLOW)},
                thresholds=_steps((None, GREEN), (1, RED)),
                description="State of every circuit breaker; alert "
                "gamma_circuit_breaker_open when one is OPEN.",
            ),
        ),
    ),
    DashboardSpec(
        uid="pipeline-module-alpha",
        title="Pipeline - Module Alpha",
        source=f"{_SEED3} > Module Alpha Dashboard",
        tags=("pipeline", "alpha", "seed-003"),
        panels=(
            PanelSpec(
                "Ingestion Rate by Source",
                unit="reqps",
                queries=(_q("sum by (source) (rate(alpha_records_ingested_total[5m]))", "{{source}}"),),
                thresholds=_rate_band(100, 500, 7500, 10000),
                description=f"Records/s per source adapter ({_OPS} > Module Alpha: 1000-5000 normal).",
            ),
            PanelSpec(
                "Source Health Status",
                kind="stat",
                queries=(_q("min by (source) (alpha_source_connection_status)", "{{source}}"),),
                mappings={"0": ("DOWN", RED), "1": ("UP", GREEN)},
                thresholds=_steps((None, RED), (1, GREEN)),
                description="Connection status per source.",
            ),
            PanelSpec(
                "Parse Metrics",
                unit="s",
                queries=_quantiles("alpha_parse_duration_seconds"),
                thresholds=_steps((None, GREEN), (0.01, ORANGE), (0.05, RED)),
                description=f"Parse duration percentiles; {_OPS}: <10 ms normal, >50 ms critical.",
            ),
            PanelSpec(
                "Validation Metrics",
                unit="percentunit",
                bars=True,
                stacked=True,
                queries=(
                    _q(
                        "sum by (rule) (rate(alpha_validation_failures_total[5m]))"
                        " / scalar(sum(rate(alpha_records_validated_total[5m])))",
                        "{{rule}}",
                    ),
                ),
                thresholds=_steps((None, GREEN), (0.01, ORANGE), (0.03, RED)),
                description=f"Validation failure share by rule (stacked bars); "
                f"{_OPS}: 1-3 % warning, >3 % critical.",
            ),
            PanelSpec(
                "Buffer Status",
                unit="percentunit",
                queries=(
                    _q("max by (instance) (alpha_buffer_utilization)", "{{instance}}"),
                    _q("max by (instance) (deriv(alpha_buffer_utilization[15m]))", "growth/s {{instance}}"),
                ),
                thresholds=_steps((None, GREEN), (0.6, ORANGE), (0.8, RED)),
                description=f"Utilization and growth with threshold lines; "
                f"{_OPS}: 60-80 % warning, >80 % critical.",
            ),
            PanelSpec(
                "Source Error Distribution",
                kind="heatmap",
                queries=(_q("sum by (source) (increase(alpha_parse_errors_total[5m]))", "{{source}}"),),
                description="Parse errors by source (heat map).",
            ),
        ),
    ),
    DashboardSpec(
        uid="pipeline-module-beta",
        title="Pipeline - Module Beta",
        source=f"{_SEED3} > Module Beta Dashboard",
        tags=("pipeline", "beta", "seed-003"),
        panels=(
            PanelSpec(
                "Transformation Throughput",
                unit="reqps",
                queries=(
                    _q("sum(rate(beta_records_transformed_total[5m]))", "records/s"),
                    _q("sum(rate(beta_records_transformed_total[5m] offset 1w))", "baseline (1 week ago)"),
                ),
                thresholds=_rate_band(100, 400, 6000, 8000),
                description=f"Records transformed per second with baseline "
                f"({_OPS} > Module Beta: 800-4000 normal).",
            ),
            PanelSpec(
                "Quality Score Distribution",
                kind="histogram",
                queries=(_q("beta_quality_score", "{{instance}}"),),
                thresholds=_steps((None, RED), (0.6, ORANGE), (0.8, GREEN)),
                description=f"Histogram of quality scores; {_OPS}: >0.8 normal, <0.6 critical.",
            ),
            PanelSpec(
                "Enrichment Performance",
                unit="percentunit",
                queries=(
                    _q("avg(beta_enrichment_cache_hit_rate)", "cache hit rate"),
                    _q(
                        "histogram_quantile(0.99, sum by (le) "
                        "(rate(beta_enrichment_duration_seconds_bucket[5m])))",
                        "lookup P99 (s)",
                    ),
                    _q("sum(rate(beta_enrichment_lookups_total[5m]))", "lookups/s"),
                ),
                thresholds=_steps((None, RED), (0.7, ORANGE), (0.85, GREEN)),
                description=f"Cache hit rate and lookup latency; {_OPS}: >85 % normal, <70 % critical.",
            ),
            PanelSpec(
                "Transform Rule Performance",
                kind="heatmap",
                queries=(_q("sum by (le) (rate(beta_transform_duration_seconds_bucket[5m]))", "{{le}}"),),
                description=f"Transform duration distribution (heat map); {_OPS}: P99 100-500 ms warning.",
            ),
            PanelSpec(
                "Schema Mapping Success",
                unit="reqps",
                stacked=True,
                queries=(_q("sum by (schema) (rate(beta_records_transformed_total[5m]))", "{{schema}}"),),
                description="Records transformed per schema (stacked area).",
            ),
            PanelSpec(
                "Resource Utilization",
                unit="percentunit",
                queries=(
                    _q(
                        '1 - avg by (instance) (rate(node_cpu_seconds_total{module="beta",mode="idle"}[5m]))',
                        "cpu {{instance}}",
                    ),
                    _q(
                        '1 - node_memory_MemAvailable_bytes{module="beta"} / '
                        'node_memory_MemTotal_bytes{module="beta"}',
                        "memory {{instance}}",
                    ),
                ),
                thresholds=_steps((None, GREEN), (0.7, ORANGE), (0.85, RED)),
                description="CPU and memory of the Beta fleet; seed 003 "
                "Capacity Thresholds: CPU 70 % / 85 %.",
            ),
        ),
    ),
    DashboardSpec(
        uid="pipeline-module-gamma",
        title="Pipeline - Module Gamma",
        source=f"{_SEED3} > Module Gamma Dashboard",
        tags=("pipeline", "gamma", "seed-003"),
        panels=(
            PanelSpec(
                "Delivery Rate by Destination",
                unit="reqps",
                queries=(
                    _q("sum by (destination) (rate(gamma_records_delivered_total[5m]))", "{{destination}}"),
                ),
                thresholds=_rate_band(100, 400, 6000, 8000),
                description=f"Deliveries/s per destination ({_OPS} > Module Gamma: 800-4000 normal).",
            ),
            PanelSpec(
                "Destination Health",
                kind="stat",
                queries=(_q("min by (destination) (gamma_destination_status)", "{{destination}}"),),
                mappings={"0": ("UNREACHABLE", RED), "1": ("UP", GREEN)},
                thresholds=_steps((None, RED), (1, GREEN)),
                description="Status per destination (latency: Delivery Latency by Destination).",
            ),
            PanelSpec(
                "Acknowledgment Metrics",
                unit="percentunit",
                queries=(
                    _q(
                        "1 - sum(rate(gamma_delivery_failures_total[5m]))"
                        " / (sum(rate(gamma_records_delivered_total[5m])) + "
                        "sum(rate(gamma_delivery_failures_total[5m])))",
                        "delivery success rate",
                    ),
                ),
                thresholds=_steps((None, RED), (0.98, ORANGE), (0.995, GREEN)),
                description=f"Delivery success rate; {_OPS}: >99.5 % normal, <98 % critical.",
            ),
            PanelSpec(
                "DLQ Status",
                unit="short",
                queries=(
                    _q("sum(gamma_dlq_size)", "size"),
                    _q("sum(delta(gamma_dlq_size[1h]))", "growth per hour"),
                ),
                thresholds=_steps((None, GREEN), (10, ORANGE), (50, RED)),
                description=f"DLQ size and growth; {_OPS}: DLQ entry rate "
                f"10-50/hour warning, >50/hour critical.",
            ),
            PanelSpec(
                "Delivery Latency by Destination",
                kind="bargauge",
                unit="s",
                queries=_quantiles("gamma_delivery_duration_seconds", "destination"),
                thresholds=_steps((None, GREEN), (0.2, ORANGE), (1, RED)),
                description=f"P50, P95, P99 per destination; {_OPS}: P99 "
                f"200-1000 ms warning, >1000 ms critical.",
            ),
            PanelSpec(
                "Retry Analysis",
                kind="histogram",
                queries=(
                    _q(
                        "sum by (destination) (increase(gamma_delivery_failures_total[1h]))",
                        "{{destination}}",
                    ),
                ),
                description="Failed (retried) deliveries per destination over an hour.",
            ),
        ),
    ),
    DashboardSpec(
        uid="cdc-connector-health",
        title="CDC - Connector Health",
        refresh="30s",
        source="seed 000 Monitoring and Alerting > Dashboard Access (CDC Connector Health), Critical Alerts",
        tags=("cdc", "seed-000"),
        panels=(
            PanelSpec(
                "Connector Status",
                kind="stat",
                queries=(_q("min by (connector) (cdc_connector_healthy)", "{{connector}}"),),
                mappings={"0": ("DOWN", RED), "1": ("HEALTHY", GREEN)},
                thresholds=_steps((None, RED), (1, GREEN)),
                description="Connector healthy = 1 (seed 000 Metrics-Based "
                "Health Checks); down > 2 min alerts.",
            ),
            PanelSpec(
                "Replication Lag",
                unit="s",
                queries=(_q("max by (connector) (cdc_replication_lag_seconds)", "{{connector}}"),),
                thresholds=_steps((None, GREEN), (300, ORANGE), (900, RED)),
                description="Expected < 60 s; high above 300 s, critical above 900 s.",
            ),
            PanelSpec(
                "Throughput",
                unit="reqps",
                queries=(
                    _q("sum(rate(cdc_records_replicated_total[5m]))", "records/s"),
                    _q(
                        "sum(rate(kafka_connect_sink_task_metrics_sink_record_send_total[5m]))",
                        "sink records/s",
                    ),
                ),
                description="Records replicated per second (seed 000 Metrics Queries).",
            ),
            PanelSpec(
                "Error Rate",
                unit="short",
                queries=(
                    _q("sum(rate(cdc_replication_errors_total[5m]))", "errors/s"),
                    _q(
                        "sum(rate(kafka_connect_task_error_metrics_total_record_errors[5m]))",
                        "task record errors/s",
                    ),
                ),
                thresholds=_steps((None, GREEN), (0.1, RED)),
                description="Expected 0; above 0.1 errors/s alerts.",
            ),
            PanelSpec(
                "DLQ Backlog",
                unit="short",
                queries=(_q("max by (topic) (cdc_dlq_messages_total)", "{{topic}}"),),
                thresholds=_steps((None, GREEN), (100, ORANGE), (1000, RED)),
                description="Messages in the DLQ; above 100 investigate, above 1000 P1.",
            ),
            PanelSpec(
                "Sink Consumer Lag",
                unit="short",
                queries=(_q("sum by (consumergroup) (kafka_consumergroup_lag)", "{{consumergroup}}"),),
                thresholds=_steps((None, GREEN), (1000, ORANGE), (10000, RED)),
                description="Consumer lag (seed 000 Kafka Health; seed 002 1,000 / 10,000 messages).",
            ),
        ),
    ),
    DashboardSpec(
        uid="cdc-schema-evolution",
        title="CDC - Schema Evolution",
        source="seed 000 Monitoring and Alerting > Dashboard Access (Schema "
        "Evolution); Schema Compatibility Failure",
        tags=("cdc", "seed-000"),
        panels=(
            PanelSpec(
                "Registered Schemas",
                kind="stat",
                queries=(_q("max(kafka_schema_registry_registered_count)", "schemas"),),
                description="Schemas registered in the Schema Registry.",
            ),
            PanelSpec(
                "Schema Changes",
                unit="short",
                bars=True,
                queries=(
                    _q(
                        'sum(increase(kafka_topic_partition_current_offset{topic="_schemas"}[1h]))',
                        "schema registry writes per hour",
                    ),
                ),
                description="Writes to the registry's _schemas topic: new "
                "versions and compatibility changes.",
            ),
            PanelSpec(
                "Registry Request Errors",
                unit="reqps",
                queries=(
                    _q("sum(kafka_schema_registry_jersey_metrics_request_error_rate)", "errors/s"),
                    _q("sum(kafka_schema_registry_jersey_metrics_request_rate)", "requests/s"),
                ),
                thresholds=_steps((None, GREEN), (0.1, RED)),
                description="Rejected registrations (SchemaCompatibilityException answers with HTTP 409).",
            ),
            PanelSpec(
                "Connector Record Errors",
                unit="short",
                queries=(
                    _q(
                        "sum by (connector) (rate(kafka_connect_task_error_metrics_total_record_errors[5m]))",
                        "{{connector}}",
                    ),
                ),
                thresholds=_steps((None, GREEN), (0.1, RED)),
                description="Records the connectors failed to convert (schema mismatches end in the DLQ).",
            ),
        ),
    ),
    DashboardSpec(
        uid="cdc-reconciliation",
        title="CDC - Reconciliation",
        source="seed 000 Monitoring and Alerting > Dashboard Access (Reconciliation); P1 Data Discrepancy",
        tags=("cdc", "seed-000"),
        panels=(
            PanelSpec(
                "Data Accuracy by Table",
                unit="percent",
                queries=(_q("min by (table) (cdc_data_accuracy_percentage)", "{{table}}"),),
                thresholds=_steps((None, RED), (90, ORANGE), (95, GREEN)),
                description="Accuracy from the reconciliation runs; below 95 % investigate, below 90 % P1.",
            ),
            PanelSpec(
                "Lowest Accuracy",
                kind="stat",
                unit="percent",
                queries=(_q("min(cdc_data_accuracy_percentage)", "lowest"),),
                thresholds=_steps((None, RED), (90, ORANGE), (95, GREEN)),
                description="The worst table right now.",
            ),
            PanelSpec(
                "Records Replicated",
                unit="short",
                queries=(_q("sum by (table) (increase(cdc_records_replicated_total[1h]))", "{{table}}"),),
                description="Records replicated per table per hour: the volume each reconciliation checks.",
            ),
            PanelSpec(
                "Replication Lag",
                unit="s",
                queries=(_q("max(cdc_replication_lag_seconds)", "lag"),),
                thresholds=_steps((None, GREEN), (300, ORANGE), (900, RED)),
                description="A reconciliation compares rows older than the lag.",
            ),
        ),
    ),
)


def _slo_dashboard() -> DashboardSpec:
    """One error-budget panel (the share of the period's budget left) and one burn-rate panel per SLO
    of slos.yaml, reading the recording rules of rules.slo_recording_groups()."""
    doc = slo_data()
    burns = doc["burn_rates"]
    # a line at each alert's factor: orange for a ticket, red for a page
    lines = [
        (float(b["factor"]), ORANGE if b["severity"] == "low" else RED)
        for b in sorted(burns, key=lambda b: float(b["factor"]))
    ]
    panels: list[PanelSpec] = []
    for slo in doc["slos"]:
        name, budget = slo["name"], error_budget(slo)
        sel = f'{{slo="{name}"}}'
        panels.append(
            PanelSpec(
                f"Error budget remaining - {name}",
                kind="stat",
                unit="percentunit",
                queries=(_q(f"slo:error_budget:remaining{sel}", "budget left"),),
                # spent (< 0) red; the last quarter orange
                thresholds=_steps((None, RED), (0, ORANGE), (0.25, GREEN)),
                description=f"{slo['summary']} (objective {slo['objective']}): share of the "
                f"{doc['period']} error budget left. Source: {slo['source']}.",
            )
        )
        panels.append(
            PanelSpec(
                f"Burn rate - {name}",
                unit="short",
                queries=tuple(
                    _q(f"slo:sli_error:ratio_rate{b['long']}{sel} / {budget}", f"{b['long']} {b['factor']}x")
                    for b in burns
                ),
                thresholds=_steps((None, GREEN), *lines),
                description="Error ratio over each alert's long window, in multiples of the budget "
                "(1 = the budget lasts exactly the period); the lines mark the burn-rate alerts.",
            )
        )
    return DashboardSpec(
        uid="pipeline-slos",
        title="Pipeline - SLOs and error budgets",
        source="seed 001 / 002 / 004 SLOs (components/observability/slos.yaml)",
        panels=tuple(panels),
        time_from="now-7d",
        tags=("pipeline", "slo"),
    )


SPECS = (*SPECS, _slo_dashboard())


def _thresholds(steps: tuple[tuple[float | None, str], ...]) -> dash.ThresholdsConfig:
    return (
        dash.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=v, color=c) for v, c in steps])
    )


def _mappings(mappings: dict[str, tuple[str, str]]) -> list[Any]:
    if not mappings:
        return []
    return [
        model.ValueMap(
            options={
                k: model.ValueMappingResult(text=t, color=c, index=i)
                for i, (k, (t, c)) in enumerate(mappings.items())
            }
        )
    ]


def _panel(p: PanelSpec) -> Any:
    builder: Any
    if p.kind == "timeseries":
        builder = timeseries.Panel()
        builder.thresholds_style(GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.LINE))
        if p.stacked:
            builder.stacking(StackingConfig().mode(common.StackingMode.NORMAL)).fill_opacity(40)
        if p.bars:
            builder.draw_style(common.GraphDrawStyle.BARS)
    elif p.kind == "stat":
        builder = (
            stat.Panel()
            .color_mode(common.BigValueColorMode.BACKGROUND)
            .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        )
    elif p.kind == "bargauge":
        builder = (
            bargauge.Panel()
            .orientation(common.VizOrientation.HORIZONTAL)
            .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        )
    elif p.kind == "heatmap":
        builder = heatmap.Panel()
    elif p.kind == "histogram":
        builder = histogram.Panel()
    else:
        raise ValueError(f"unknown panel kind {p.kind}")
    builder.title(p.title).description(p.description).datasource(DATASOURCE).span(12).height(8)
    if p.kind != "heatmap":
        builder.unit(p.unit).thresholds(_thresholds(p.thresholds))
    if p.mappings:
        builder.mappings(_mappings(p.mappings))
    for i, (expr, legend) in enumerate(p.queries):
        builder.with_target(
            prometheus.Dataquery()
            .expr(expr)
            .legend_format(legend)
            .ref_id(chr(ord("A") + i))
            .datasource(DATASOURCE)
        )
    return builder


def _dashboard(spec: DashboardSpec) -> dict[str, Any]:
    builder = (
        dash.Dashboard(spec.title)
        .uid(spec.uid)
        .tags(list(spec.tags))
        .refresh(spec.refresh)
        .time(spec.time_from, "now")
        .timezone("utc")
        .readonly()
        .description(f"Source: {spec.source}. Generated by components/observability/dashboards.py.")
    )
    for panel in spec.panels:
        builder.with_panel(_panel(panel))
    built = builder.build()
    for i, panel in enumerate(built.panels or [], start=1):
        panel.id_val = i
    return json.loads(json.dumps(built, cls=JSONEncoder))


@functools.cache
def _all() -> str:
    return json.dumps({spec.uid: _dashboard(spec) for spec in SPECS})


def all_dashboards() -> dict[str, dict[str, Any]]:
    """uid -> Grafana dashboard JSON, for the Grafana sidecar (AWS) or file provisioning (local)."""
    return json.loads(_all())
