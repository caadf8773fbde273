"""Creation order on a fresh cluster: every custom resource waits, directly or through what it
depends on, for the Helm release that installs its CRD (a resource applied before its CRD fails)."""

from __future__ import annotations

import pytest

# API group -> the chart whose release installs that group's CRDs.
CRD_OWNER = {
    "kafka.strimzi.io": "strimzi-kafka-operator",
    "scylla.scylladb.com": "scylla-operator",
    "postgresql.cnpg.io": "cloudnative-pg",
    "barmancloud.cnpg.io": "plugin-barman-cloud",
    "monitoring.coreos.com": "kube-prometheus-stack",
    "opentelemetry.io": "opentelemetry-operator",
}


def _closure(plan, start):
    by_urn = {r.urn: r for r in plan.resources}
    seen, todo = set(), list(start.dependencies)
    while todo:
        urn = todo.pop()
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        todo.extend(by_urn[urn].dependencies)
    return [by_urn[u] for u in seen]


@pytest.mark.parametrize("stack", ["staging", "prod", "prod-dr"])
def test_every_custom_resource_waits_for_its_operator(plan_of, stack):
    plan = plan_of(stack)
    checked = 0
    for r in plan.kubernetes():
        group = str(r.inputs.get("apiVersion", "")).split("/")[0]
        if group not in CRD_OWNER:
            continue
        charts = {
            str(d.inputs.get("chart", "")).rsplit("/", 1)[-1]
            for d in _closure(plan, r)
            if d.type == "kubernetes:helm.sh/v3:Release"
        }
        assert CRD_OWNER[group] in charts, (
            f"{r.inputs.get('kind')} {r.name} does not wait for {CRD_OWNER[group]}"
        )
        checked += 1
    assert checked >= 20, "the stack declares the operators' custom resources"
