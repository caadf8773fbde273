# ruff: noqa: E501
"""The committed stacks' current findings (generated from `make plan-all`, then kept by hand):
each line is (review item, check, stack, resource, message). The review items are those of
/work/shared/reviews: pulumi-engine-review.md (A*, B*) and seed-traceability.md. The [deployable]
issue fixes the stacks and deletes the lines it fixes; a new finding fails the test until it is
fixed or listed here with its review item."""

KNOWN = [
    ('seed-traceability C20-C24', 'observability', 'prod', 'observability-dashboards [kubernetes:core/v1:ConfigMap]', "cdc-reconciliation.json panel 'Data Accuracy by Table' reads cdc_data_accuracy_percentage (no exporter in the estate produces it)"),
    ('seed-traceability C20-C24', 'observability', 'prod', 'observability-dashboards [kubernetes:core/v1:ConfigMap]', "cdc-reconciliation.json panel 'Lowest Accuracy' reads cdc_data_accuracy_percentage (no exporter in the estate produces it)"),
    ('seed-traceability C20-C24', 'observability', 'prod', 'observability-rules [kubernetes:monitoring.coreos.com/v1:PrometheusRule]', 'alert cdc_data_accuracy_critical reads cdc_data_accuracy_percentage (no exporter in the estate produces it)'),
    ('seed-traceability C20-C24', 'observability', 'prod', 'observability-rules [kubernetes:monitoring.coreos.com/v1:PrometheusRule]', 'alert cdc_data_accuracy_low reads cdc_data_accuracy_percentage (no exporter in the estate produces it)'),
    ('seed-traceability C20-C24', 'observability', 'prod-dr', 'observability-dashboards [kubernetes:core/v1:ConfigMap]', "cdc-reconciliation.json panel 'Data Accuracy by Table' reads cdc_data_accuracy_percentage (no exporter in the estate produces it)"),
    ('seed-traceability C20-C24', 'observability', 'prod-dr', 'observability-dashboards [kubernetes:core/v1:ConfigMap]', "cdc-reconciliation.json panel 'Lowest Accuracy' reads cdc_data_accuracy_percentage (no exporter in the estate produces it)"),
    ('seed-traceability C20-C24', 'observability', 'prod-dr', 'observability-rules [kubernetes:monitoring.coreos.com/v1:PrometheusRule]', 'alert cdc_data_accuracy_critical reads cdc_data_accuracy_percentage (no exporter in the estate produces it)'),
    ('seed-traceability C20-C24', 'observability', 'prod-dr', 'observability-rules [kubernetes:monitoring.coreos.com/v1:PrometheusRule]', 'alert cdc_data_accuracy_low reads cdc_data_accuracy_percentage (no exporter in the estate produces it)'),
    ('seed-traceability C20-C24', 'observability', 'staging', 'observability-dashboards [kubernetes:core/v1:ConfigMap]', "cdc-reconciliation.json panel 'Data Accuracy by Table' reads cdc_data_accuracy_percentage (no exporter in the estate produces it)"),
    ('seed-traceability C20-C24', 'observability', 'staging', 'observability-dashboards [kubernetes:core/v1:ConfigMap]', "cdc-reconciliation.json panel 'Lowest Accuracy' reads cdc_data_accuracy_percentage (no exporter in the estate produces it)"),
    ('seed-traceability C20-C24', 'observability', 'staging', 'observability-rules [kubernetes:monitoring.coreos.com/v1:PrometheusRule]', 'alert cdc_data_accuracy_critical reads cdc_data_accuracy_percentage (no exporter in the estate produces it)'),
    ('seed-traceability C20-C24', 'observability', 'staging', 'observability-rules [kubernetes:monitoring.coreos.com/v1:PrometheusRule]', 'alert cdc_data_accuracy_low reads cdc_data_accuracy_percentage (no exporter in the estate produces it)'),
]
