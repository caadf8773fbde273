"""The observability area in whole-program plans (staging, prod, prod-dr): kube-prometheus-stack values,
secrets only in Secrets, the PrometheusRule and monitors strictly against their CRDs, core manifests
with kubernetes-validate, the IRSA policy of EC2 discovery, tracing, and what RENDER writes."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from components.observability.dashboards import all_dashboards
from components.observability.rules import rule_groups
from components.traffic.settings import TrafficSettings
from lib import versions
from planner.render import render
from planner.runtime import SECRET, Plan, Resource
from tests.observability.test_alertmanager import for_engine
from tests.support.crds import validate_custom_resource
from tests.support.engines import engine

STACKS = ["staging", "prod", "prod-dr"]
RELEASE = "kubernetes:helm.sh/v3:Release"
CORE = {
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Service",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
}


def _ours(plan: Plan) -> list[Resource]:
    return [
        r for r in plan.resources if r.name.startswith("observability-") and r.type.startswith("kubernetes:")
    ]


def _manifest(r: Resource) -> dict[str, Any]:
    return {k: v for k, v in r.inputs.items() if not k.startswith("__")}


def _release(plan: Plan, chart: str) -> Resource:
    (found,) = [r for r in _ours(plan) if r.type == RELEASE and r.inputs["chart"] == chart]
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_kube_prometheus_stack_values(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    obs = plan.settings.observability
    release = _release(plan, versions.KUBE_PROMETHEUS_STACK.name)
    assert release.inputs["version"] == versions.KUBE_PROMETHEUS_STACK.version
    values = release.inputs["values"]
    assert values != SECRET and SECRET not in json.dumps(values)  # nothing secret in the values
    spec = values["prometheus"]["prometheusSpec"]
    for key in ("rule", "serviceMonitor", "podMonitor", "probe", "scrapeConfig"):
        assert spec[f"{key}SelectorNilUsesHelmValues"] is False
    assert spec["retention"] == f"{obs.retention_days}d"
    assert spec["retentionSize"] == f"{obs.retention_size_gib}GiB"
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "gp3-encrypted"
    assert claim["resources"]["requests"]["storage"] == f"{obs.prometheus_storage_gib}Gi"
    assert spec["nodeSelector"] == {"pipeline-infra/workload": "platform"}
    grafana = values["grafana"]
    assert grafana["admin"]["existingSecret"] == "grafana-admin"
    assert "adminPassword" not in grafana
    assert grafana["sidecar"]["dashboards"]["label"] == "grafana_dashboard"
    am = values["alertmanager"]
    assert am["alertmanagerSpec"]["secrets"] == ["alertmanager-receivers"]
    pd = [c for r in am["config"]["receivers"] for c in r.get("pagerduty_configs", [])]
    assert all(
        c["routing_key_file"].startswith("/etc/alertmanager/secrets/alertmanager-receivers/") for c in pd
    )


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_are_pulumi_secrets(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    secrets = {r.inputs["metadata"]["name"]: r for r in _ours(plan) if r.type == "kubernetes:core/v1:Secret"}
    assert set(secrets) == {"alertmanager-receivers", "grafana-admin"}
    for r in secrets.values():
        data = r.inputs["stringData"]
        assert data == SECRET or all(v == SECRET for k, v in data.items() if k != "admin-user"), r.name
    assert plan.outputs["grafana_admin_password"] == SECRET


@pytest.mark.parametrize("stack", STACKS)
def test_custom_resources_match_their_crds(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    kinds = []
    for r in _ours(plan):
        if r.type in CORE or r.type == RELEASE:
            continue
        validate_custom_resource(_manifest(r))
        kinds.append(r.inputs["kind"])
    assert sorted(kinds) == [
        "OpenTelemetryCollector",
        "PodMonitor",
        "PodMonitor",
        "PrometheusRule",
        "ServiceMonitor",
        "ServiceMonitor",
    ]
    (rule,) = [r for r in _ours(plan) if r.inputs.get("kind") == "PrometheusRule"]
    assert rule.inputs["spec"]["groups"] == rule_groups()


@pytest.mark.parametrize("stack", STACKS)
def test_core_manifests_are_valid_kubernetes(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    checked = 0
    for r in _ours(plan):
        if r.type not in CORE:
            continue
        doc = copy.deepcopy(_manifest(r))
        if doc.get("stringData") == SECRET:
            doc["stringData"] = {"key": SECRET}
        kubernetes_validate.validate(doc, "1.33", strict=True)
        checked += 1
    # namespace, two Secrets, dashboards ConfigMap, OTLP Service, and 8 NetworkPolicies (default deny,
    # DNS, API, same namespace, webhooks, Prometheus, Alertmanager, OTLP)
    assert checked == 1 + 2 + 1 + 1 + 8


@pytest.mark.parametrize("stack", STACKS)
def test_dashboards_provisioned_for_the_sidecar(plan_of, stack: str) -> None:
    (cm,) = [r for r in _ours(plan_of(stack)) if r.type == "kubernetes:core/v1:ConfigMap"]
    assert cm.inputs["metadata"]["labels"]["grafana_dashboard"] == "1"
    data = cm.inputs["data"]
    assert {json.loads(text)["uid"] + ".json" for text in data.values()} == set(data)
    assert {json.loads(text)["uid"] for text in data.values()} == set(all_dashboards())
    assert sum(len(text) for text in data.values()) < 1024 * 1024  # a ConfigMap holds at most 1 MiB


def test_ec2_discovery_role_only_describes_instances(plan_of) -> None:
    plan = plan_of("prod")
    policies = [r for r in plan.of_type("aws:iam/rolePolicy:RolePolicy") if "prometheus-ec2-sd" in r.name]
    assert len(policies) == 1
    doc = json.loads(policies[0].inputs["policy"])
    assert [s["Action"] for s in doc["Statement"]] == [["ec2:DescribeInstances"]]
    scrape = _release(plan, versions.KUBE_PROMETHEUS_STACK.name).inputs["values"]["prometheus"]
    jobs = {j["job_name"]: j for j in scrape["prometheusSpec"]["additionalScrapeConfigs"]}
    # the node exporter (9100) and the modules' own /metrics on their admin port (seed 003:
    # `curl http://alpha:8080/metrics`)
    assert {n: (j["ec2_sd_configs"][0]["port"], j["metrics_path"]) for n, j in jobs.items()} == {
        "fleet-nodes": (9100, "/metrics"),
        "fleet-modules": (8080, "/metrics"),
    }
    for job in jobs.values():
        sd = job["ec2_sd_configs"][0]
        # fleets are found by tag (Environment of this stack, Module)
        assert {"name": "tag:Environment", "values": ["prod"]} in sd["filters"]
        assert {"name": "tag:Module", "values": ["alpha", "beta", "gamma"]} in sd["filters"]
        assert sd["region"] == "us-east-1"
        targets = {c["target_label"] for c in job["relabel_configs"]}
        assert {"module", "colour", "traffic"} <= targets
    assert scrape["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")


def traffic_of(relabel: list[dict], colour: str) -> str:
    """The `traffic` label Prometheus' relabelling gives an instance of Colour tag `colour` (applies
    the replace rules in order, as Prometheus does)."""
    import re as _re

    value = None
    for rule in relabel:
        if rule.get("target_label") != "traffic":
            continue
        source = colour if rule.get("source_labels") == ["__meta_ec2_tag_Colour"] else ""
        if _re.fullmatch(rule.get("regex", "(.*)"), source):
            value = rule["replacement"]
    return value


def _fleet_relabel(plan) -> list[dict]:
    scrape = _release(plan, versions.KUBE_PROMETHEUS_STACK.name).inputs["values"]["prometheus"]
    jobs = scrape["prometheusSpec"]["additionalScrapeConfigs"]
    (job,) = [j for j in jobs if j["job_name"] == "fleet-modules"]
    return job["relabel_configs"]


@pytest.mark.parametrize("stack,overrides,expected", [
    # prod: traffic.active of Pulumi.prod-traffic.yaml (its traffic switch) carries traffic, the other
    # colour is idle
    ("prod", {}, {"blue": "active", "green": "idle"}),
    # the DR site's warm standby pages nobody until promoted
    ("prod-dr", {}, {"blue": "standby", "green": "standby"}),
    ("prod-dr", {"dr.role": "primary"}, {"blue": "active", "green": "idle"}),
    ("staging", {}, {"blue": "active", "green": "idle"}),
])
def test_fleet_series_carry_the_traffic_state(plan_of, stack, overrides, expected) -> None:
    relabel = _fleet_relabel(plan_of(stack, overrides))
    assert {c: traffic_of(relabel, c) for c in ("blue", "green")} == expected


def test_prod_labels_its_fleets_from_its_traffic_stack(plan_of):
    """prod has no traffic section: the switch is Pulumi.prod-traffic.yaml's, read from the stack file
    (prod-traffic reads prod, so prod cannot reference it). A cutover there moves the label; without a
    switch every colour would be idle and no fleet alert of prod would fire."""
    from stacks.compose.observability import fleet_traffic
    from stacks.settings.estate import traffic_switch_of

    settings = plan_of("prod").settings
    switch = traffic_switch_of("prod")
    assert settings.traffic is None and switch is not None and switch.active == "blue"
    assert fleet_traffic(settings, switch) == (("blue",), False)
    cutover = switch.model_copy(update={"active": "green"})
    assert fleet_traffic(settings, cutover) == (("green",), False)
    weighted = TrafficSettings.model_validate(
        {**switch.model_dump(), "active": "green", "weights": {"blue": 10, "green": 90}}
    )
    assert fleet_traffic(settings, weighted) == (("blue", "green"), False)
    assert fleet_traffic(settings) == ((), False)  # the failure the switch prevents: nothing active
    assert traffic_switch_of("staging") is None


def test_traffic_relabel_reads_the_colour_tag():
    from components.observability.manifests import traffic_relabel

    # the evaluation helper can tell them apart (an all-idle relabelling is not the prod one)
    assert traffic_of(traffic_relabel(active_colours=(), standby=False), "blue") == "idle"
    assert traffic_of(traffic_relabel(active_colours=("blue",), standby=False), "blue") == "active"


@pytest.mark.parametrize("stack", STACKS)
def test_tracing_collector_and_otlp_endpoint(plan_of, stack: str) -> None:
    plan = plan_of(stack)
    release = _release(plan, versions.OPENTELEMETRY_OPERATOR.name)
    assert release.inputs["version"] == versions.OPENTELEMETRY_OPERATOR.version
    (collector,) = [r for r in _ours(plan) if r.inputs.get("kind") == "OpenTelemetryCollector"]
    spec = collector.inputs["spec"]
    assert spec["image"] == versions.IMAGES["jaeger"]
    assert {"jaeger_storage", "jaeger_query"} <= set(spec["config"]["service"]["extensions"])
    assert spec["config"]["service"]["pipelines"]["traces"]["receivers"] == ["otlp"]
    (svc,) = [r for r in _ours(plan) if r.type == "kubernetes:core/v1:Service"]
    assert (
        svc.inputs["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-scheme"]
        == "internal"
    )
    assert plan.outputs["otlp_endpoint"].startswith("http://otlp-") and plan.outputs[
        "otlp_endpoint"
    ].endswith(":4317")


@pytest.mark.engine
def test_render_writes_rules_alertmanager_and_dashboards(plan_of, tmp_path: Path) -> None:
    written = render(plan_of("prod"), tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    rules = [n for n in names if n.startswith("prometheus/")]
    assert rules == ["prometheus/observability-rules.rules.yml"]
    assert "alertmanager/observability-kube-prometheus-stack.yml" in names
    for uid in all_dashboards():
        assert f"files/observability-dashboards/{uid}.json" in names
    promtool, amtool = engine("promtool"), engine("amtool")
    check = subprocess.run(
        [promtool, "check", "rules", str(tmp_path / rules[0])], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    am = tmp_path / "alertmanager/observability-kube-prometheus-stack.yml"
    loadable = tmp_path / "alertmanager-for-engine.yml"
    loadable.write_text(for_engine(am.read_text()))
    check = subprocess.run([amtool, "check-config", str(loadable)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert (
        "[secret]" not in am.read_text()
        and yaml.safe_load(am.read_text())["route"]["receiver"] == "slack-ops"
    )


def test_without_tracing_no_collector_and_no_endpoint(plan_of) -> None:
    plan = plan_of("staging", {"observability.tracing": False})
    kinds = {r.inputs.get("kind") for r in _ours(plan)}
    assert "OpenTelemetryCollector" not in kinds
    assert not [r for r in _ours(plan) if r.type == "kubernetes:core/v1:Service"]
    assert plan.outputs["otlp_endpoint"] == ""


def test_component_args_need_every_receiver_secret() -> None:
    from pydantic import SecretStr

    from components.observability.component import ObservabilityArgs
    from components.observability.settings import ObservabilitySettings

    with pytest.raises(ValueError, match="smtp-password"):
        ObservabilityArgs(
            settings=ObservabilitySettings(),
            kube=None,
            environment="x",  # type: ignore[arg-type]
            receiver_secrets={
                k: SecretStr("v")
                for k in ("pagerduty-critical-key", "pagerduty-high-key", "slack-webhook-url")
            },
        )
