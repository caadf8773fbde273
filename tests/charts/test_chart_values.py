"""Versions and charts agree (issue 11, item 12): every values key the project sets is one the pinned
chart reads (its values.yaml at the pinned tag, tests/data/charts/README.md), Scylla Manager and all
its agents run one version, the barman-cloud plugin runs the images of its chart and its ObjectStore
passes the CRD that chart installs, and the operators' CRDs upgrade with their version."""

from __future__ import annotations

import functools
from pathlib import Path

import jsonschema
import pytest
import yaml

from lib import versions
from tests.charts.values_keys import merged, unknown_keys

DATA = Path(__file__).resolve().parents[1] / "data" / "charts"
STACKS = ["staging", "prod", "prod-dr"]
RELEASE = "kubernetes:helm.sh/v3:Release"

# Keys a chart documents only as a commented-out example in its values.yaml (the comment quoted).
DOCUMENTED: dict[str, dict[str, str]] = {}
# Paths a chart documents as free-form: kube-prometheus-stack's alertmanager.config is Alertmanager's
# own configuration file ("ref: https://prometheus.io/docs/alerting/configuration/#configuration-file"
# above it), whose keys Alertmanager checks (amtool, tests/observability).
# grafana.ini is Grafana's own configuration file ("## Grafana's primary configuration" above it).
FREE_FORM: dict[str, frozenset[str]] = {
    "kube-prometheus-stack-88.5.3": frozenset({"alertmanager.config"}),
    "grafana-12.11.1": frozenset({"grafana.ini"}),
}
# Subcharts (the parent's Chart.yaml dependencies at that version): their sections are checked against
# the subchart's own values.yaml, with the parent's section merged on top.
SUBCHARTS: dict[str, dict[str, str]] = {
    "kube-prometheus-stack-88.5.3": {
        "grafana": "grafana-12.11.1",
        "kube-state-metrics": "kube-state-metrics-8.4.0",
    }
}


def _folder(chart: str, version: str) -> Path:
    name = chart.rsplit("/", 1)[-1]
    return DATA / f"{name}-{version}"


@functools.cache
def _values(folder: Path) -> tuple[dict, str]:
    path = folder / "values.yaml"
    if not path.is_file():
        pytest.fail(f"{path} missing: save the chart's values.yaml at this version (README.md there)")
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text), text


def _releases(plan):
    for r in plan.of_type(RELEASE):
        yield r, _folder(r.inputs["chart"], r.inputs["version"])


@pytest.mark.parametrize("stack", STACKS)
def test_every_values_key_is_read_by_the_pinned_chart(plan_of, stack) -> None:
    problems = []
    releases = list(_releases(plan_of(stack)))
    assert len(releases) >= 8
    for r, folder in releases:
        chart, text = _values(folder)
        values = dict(r.inputs.get("values") or {})
        assert values, r.name
        for key, sub in SUBCHARTS.get(folder.name, {}).items():
            if key in values:
                sub_chart, sub_text = _values(DATA / sub)
                found = unknown_keys(
                    values.pop(key),
                    merged(sub_chart, chart.get(key)),
                    text=sub_text,
                    free_form=FREE_FORM.get(sub, frozenset()),
                )
                problems += [f"{r.name} ({sub}): {key}.{p}" for p in found]
        found = unknown_keys(
            values,
            chart,
            documented=DOCUMENTED.get(folder.name),
            text=text,
            free_form=FREE_FORM.get(folder.name, frozenset()),
        )
        problems += [f"{r.name} ({folder.name}): {p}" for p in found]
    assert problems == []


def test_the_key_check_fails_on_keys_the_chart_does_not_read() -> None:
    chart, text = _values(_folder("scylla-manager", versions.SCYLLA_MANAGER.version))
    # What the project set before: the chart v1.21.1 has no controller Deployment any more.
    bad = {"controllerNodeSelector": {"a": "b"}, "scylla": {"racks": [], "agentImage": {"tga": "x"}}}
    problems = unknown_keys(bad, chart, text=text)
    assert problems == [
        "controllerNodeSelector: not a key of the chart's values",
        "scylla.agentImage.tga: not a key of the chart's values",
    ]
    # Free-form values are not walked into; a map where the chart has a scalar is refused.
    free = {"nodeSelector": {"any": "x"}, "serviceAccount": {"annotations": {"k": "v"}}}
    assert unknown_keys(free, chart) == []
    assert unknown_keys({"logLevel": {"x": 1}}, chart) == ["logLevel: a map, where the chart has str"]
    assert unknown_keys({"x": 1}, chart, documented={"x": "# no such comment"}, text=text)


def _release(plan, chart_name: str):
    (r,) = [r for r in plan.of_type(RELEASE) if r.inputs["chart"].endswith(chart_name)]
    return r


@pytest.mark.parametrize("stack", STACKS)
def test_scylla_manager_and_every_agent_run_one_version(plan_of, stack) -> None:
    plan = plan_of(stack)
    manager = _release(plan, "scylla-manager").inputs["values"]
    (cluster,) = [r for r in plan.resources if r.type.endswith("ScyllaCluster")]
    chart, _ = _values(_folder("scylla-manager", versions.SCYLLA_MANAGER.version))
    chart_manager = chart["image"]["tag"].split("@")[0]  # the version the chart runs (3.10.1)
    assert chart["scylla"]["agentImage"]["tag"].split("@")[0] == chart_manager
    assert manager["image"]["tag"] == chart_manager
    assert manager["scylla"]["agentImage"]["tag"] == chart_manager
    assert cluster.inputs["spec"]["agentVersion"] == chart_manager


@pytest.mark.parametrize("stack", STACKS)
def test_the_barman_cloud_plugin_runs_its_charts_images_and_crd(plan_of, stack) -> None:
    folder = _folder("plugin-barman-cloud", versions.BARMAN_CLOUD_PLUGIN.version)
    meta = yaml.safe_load((folder / "Chart.yaml").read_text())
    assert meta["version"] == versions.BARMAN_CLOUD_PLUGIN.version
    plan = plan_of(stack)
    values = _release(plan, "plugin-barman-cloud").inputs["values"]
    assert values["image"]["tag"] == values["sidecarImage"]["tag"] == meta["appVersion"]
    (crd,) = yaml.safe_load_all((folder / "crds.yaml").read_text())
    (served,) = [v for v in crd["spec"]["versions"] if v["served"]]
    stores = [r for r in plan.resources if r.type == "kubernetes:barmancloud.cnpg.io/v1:ObjectStore"]
    assert stores
    for r in stores:
        doc = {k: v for k, v in r.inputs.items() if not k.startswith("__")}
        assert doc["apiVersion"] == f"{crd['spec']['group']}/{served['name']}"
        jsonschema.validate(doc, served["schema"]["openAPIV3Schema"])


@pytest.mark.parametrize("stack", STACKS)
def test_operators_crds_upgrade_with_their_version(plan_of, stack) -> None:
    plan = plan_of(stack)
    groups = [r for r in plan.resources if r.type == "kubernetes:yaml/v2:ConfigGroup"]
    # Helm never upgrades a chart's crds/ folder: Strimzi's and scylla-operator's CRDs (every file of
    # the chart's crds/ at the pinned tag) are applied by Pulumi from the tag, before the operator.
    for chart, group in ((versions.STRIMZI, "strimzi"), (versions.SCYLLA_OPERATOR, "scylla")):
        release = _release(plan, chart.name)
        assert release.inputs.get("skipCrds") is True, chart.name
        (crds,) = [r for r in groups if r.name.endswith(f"-{group}-crds")]
        chart_crds = (_folder(chart.name, chart.version) / "crds.txt").read_text().split()
        assert sorted(Path(f).name for f in crds.inputs["files"]) == sorted(chart_crds), chart.name
        assert all(f"/{chart.version}/" in f for f in crds.inputs["files"])
        assert crds.urn in release.dependencies
    # kube-prometheus-stack upgrades its CRDs with its pre-upgrade job.
    kps = _release(plan, "kube-prometheus-stack").inputs["values"]
    assert kps["crds"]["upgradeJob"]["enabled"] is True
    # The other charts template their CRDs (templates/), so Helm upgrades them with the release.
    for chart, key in (("cert-manager", "crds"), ("cloudnative-pg", "crds"), ("plugin-barman-cloud", "crds")):
        values = _release(plan, chart).inputs["values"]
        assert values[key].get("enabled", values[key].get("create")) is True, chart
