"""Observability of the pipeline: alert rules, Alertmanager routing, Grafana dashboards (pure renderers,
shared by the local and the AWS stacks) and the Kubernetes components that deploy them."""
