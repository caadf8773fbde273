"""The observability coverage check and CloudNativePG custom queries: a cnpg_ metric outside the
instance manager's own and default queries is produced only when a Cluster names a rendered ConfigMap
whose query exports it (planner/checks/observability.py custom_query_metrics). Shown on fixtures and on
the committed staging stack with and without the reconciliation's query (seed 000
cdc_data_accuracy_percentage)."""

from __future__ import annotations

import copy

import yaml

from planner.checks import observability
from planner.report import estate_json
from tests.conftest import estate_of
from tests.planner.estate_fixtures import estate, res, stack

QUERIES = {
    "cdc_reconciliation": {
        "query": "SELECT 1",
        "metrics": [
            {"table": {"usage": "LABEL", "description": "t"}},
            {"accuracy_percentage": {"usage": "GAUGE", "description": "a"}},
            {"skipped": {"usage": "DISCARD", "description": "d"}},
            {"latency": {"usage": "HISTOGRAM", "description": "h"}},
        ],
    },
    "renamed_key": {"name": "other", "metrics": [{"col": {"usage": "COUNTER", "name": "total"}}]},
}


def _estate(expr: str, *, key: str = "queries.yaml", namespace: str = "postgres", monitor: bool = True):
    rule = res(
        "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
        "rules",
        {
            "kind": "PrometheusRule",
            "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": expr}]}]},
        },
    )
    cm = res(
        "kubernetes:core/v1:ConfigMap",
        "queries",
        {
            "metadata": {"name": "q", "namespace": namespace},
            "data": {"queries.yaml": yaml.safe_dump(QUERIES)},
        },
    )
    cluster = res(
        "kubernetes:postgresql.cnpg.io/v1:Cluster",
        "cluster",
        {
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "Cluster",
            "metadata": {"name": "warehouse", "namespace": "postgres"},
            "spec": {"monitoring": {"customQueriesConfigMap": [{"name": "q", "key": key}]}},
        },
    )
    resources = [rule, cm, cluster]
    if monitor:
        resources.append(
            res(
                "kubernetes:monitoring.coreos.com/v1:PodMonitor",
                "postgres-pod-monitor",
                {"kind": "PodMonitor"},
            )
        )
    return estate(stack("staging", resources))


def test_custom_query_metric_names_follow_cloudnative_pg():
    e = _estate("x")
    names = observability.custom_query_metrics(e["stacks"]["staging"])
    assert names == {
        "cnpg_cdc_reconciliation_accuracy_percentage",
        "cnpg_cdc_reconciliation_latency_bucket",
        "cnpg_cdc_reconciliation_latency_sum",
        "cnpg_cdc_reconciliation_latency_count",
        "cnpg_other_total",  # the query's and the column's `name` override the keys
    }


def test_a_custom_query_metric_is_produced_only_as_rendered():
    assert observability.run(_estate("cnpg_cdc_reconciliation_accuracy_percentage < 95")) == []
    assert observability.run(_estate("cnpg_pg_replication_lag > 1")) == []  # a default query
    cases = {
        "a column the query lacks": _estate("cnpg_cdc_reconciliation_sink_rows < 1"),
        "a LABEL column": _estate("cnpg_cdc_reconciliation_table < 1"),
        "a key the ConfigMap lacks": _estate("cnpg_cdc_reconciliation_accuracy_percentage < 95", key="other"),
        "a ConfigMap of another namespace": _estate(
            "cnpg_cdc_reconciliation_accuracy_percentage < 95", namespace="kafka"
        ),
    }
    for why, e in cases.items():
        [f] = observability.run(e)
        assert "no exporter in the estate produces it" in f.message, why
    [f] = observability.run(_estate("cnpg_cdc_reconciliation_accuracy_percentage < 95", monitor=False))
    assert "no scrape reaches it" in f.message


def test_staging_reads_the_accuracy_only_with_the_reconciliation_query():
    data = estate_json(estate_of())
    staging = {"stacks": {"staging": data["stacks"]["staging"]}}
    assert observability.run(staging) == []
    # without the Cluster's custom queries (the producer), seed 000's accuracy metric is read unproduced
    broken = copy.deepcopy(staging)
    for r in broken["stacks"]["staging"]["resources"]:
        if (r.get("inputs") or {}).get("kind") == "Cluster":
            r["inputs"]["spec"]["monitoring"].pop("customQueriesConfigMap")
    found = sorted(f.message for f in observability.run(broken))
    unrecorded = "reads cdc_data_accuracy_percentage (recorded from metrics that are not produced)"
    unproduced = "(no exporter in the estate produces it)"
    assert found == [
        f"alert cdc_data_accuracy_critical {unrecorded}",
        f"alert cdc_data_accuracy_low {unrecorded}",
        f"alert cdc_reconciliation_missing reads cnpg_cdc_reconciliation_checked_at_seconds {unproduced}",
        f"alert cdc_reconciliation_stale reads cnpg_cdc_reconciliation_checked_at_seconds {unproduced}",
        f"cdc-reconciliation.json panel 'Data Accuracy by Table' {unrecorded}",
        f"cdc-reconciliation.json panel 'Lowest Accuracy' {unrecorded}",
        "recording rule cdc_data_accuracy_percentage reads "
        f"cnpg_cdc_reconciliation_accuracy_percentage {unproduced}",
    ]
