"""Pure checks over a plan's resources (planner.runtime.Resource lists) for the Kubernetes side of the
deployability issue: each returns the problems it finds, one sentence each, so that it can feed a
whole-platform check later. No Pulumi, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from lib.kube.jobs import NAME_DIGEST_CHARS, SCRIPT_DIGEST_ANNOTATION, script_digest

JOB = "kubernetes:batch/v1:Job"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
IRSA = "eks.amazonaws.com/role-arn"


def _get(doc: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def one_shot_job_problems(resources: Iterable[Any]) -> list[str]:
    """Every Job runs a script from a ConfigMap of the plan, once per version of that script: its name
    ends in the script's digest, its pod template carries the full digest, it has no TTL (a Job the
    cluster deletes is re-created by the next refresh), and the ConfigMap is immutable."""
    resources = list(resources)
    configmaps = {
        (_get(r.inputs, "metadata", "namespace"), _get(r.inputs, "metadata", "name")): r
        for r in resources
        if r.type == CONFIGMAP
    }
    problems = []
    for job in (r for r in resources if r.type == JOB):
        spec = job.inputs.get("spec") or {}
        ns = _get(job.inputs, "metadata", "namespace")
        name = _get(job.inputs, "metadata", "name")
        if "ttlSecondsAfterFinished" in spec:
            problems.append(f"{job.name}: ttlSecondsAfterFinished makes a refresh re-create (re-run) it")
        volumes = _get(spec, "template", "spec", "volumes") or []
        sources = [v["configMap"]["name"] for v in volumes if isinstance(v.get("configMap"), dict)]
        if len(sources) != 1:
            problems.append(f"{job.name}: runs no script from exactly one ConfigMap ({sources})")
            continue
        cm = configmaps.get((ns, sources[0]))
        if cm is None:
            problems.append(f"{job.name}: its ConfigMap {ns}/{sources[0]} is not declared")
            continue
        digest = script_digest(cm.inputs.get("data") or {})
        if not (isinstance(name, str) and name.endswith("-" + digest[:NAME_DIGEST_CHARS])):
            problems.append(f"{job.name}: name {name!r} does not carry its script's digest")
        annotation = _get(spec, "template", "metadata", "annotations", SCRIPT_DIGEST_ANNOTATION)
        if annotation != digest:
            problems.append(f"{job.name}: pod template's {SCRIPT_DIGEST_ANNOTATION} is not the digest")
        if cm.inputs.get("immutable") is not True:
            problems.append(f"{cm.name}: the script's ConfigMap is not immutable")
    return problems


def identity_before_pods(resources: Iterable[Any], workload_urn: str, service_account: str) -> list[str]:
    """The ServiceAccount `namespace/name` a workload's pods run as is declared with its IRSA role and
    the workload waits for it (IRSA injects credentials only into pods created after the annotation)."""
    resources = list(resources)
    ns, _, name = service_account.partition("/")
    accounts = [
        r
        for r in resources
        if r.type == SERVICE_ACCOUNT
        and _get(r.inputs, "metadata", "namespace") == ns
        and _get(r.inputs, "metadata", "name") == name
    ]
    if len(accounts) != 1:
        return [f"{service_account}: {len(accounts)} ServiceAccounts declared (needs exactly one)"]
    (account,) = accounts
    problems = []
    role = _get(account.inputs, "metadata", "annotations", IRSA)
    if not (isinstance(role, str) and role.startswith("arn:aws:iam::")):
        problems.append(f"{service_account}: no IRSA role annotation ({role!r})")
    (workload,) = [r for r in resources if r.urn == workload_urn]
    if account.urn not in workload.dependencies:
        problems.append(f"{workload.name}: does not wait for its service account {service_account}")
    return problems


# --- scheduling: the pods each node group must hold ------------------------------------------------
WORKLOAD_KEY = "pipeline-infra/workload"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def _group_of(pod_spec: Any) -> str:
    """The node group a pod is pinned to (nodeSelector or required node affinity), else platform (the
    only untainted group)."""
    selector = _get(pod_spec, "nodeSelector") or {}
    if WORKLOAD_KEY in selector:
        return selector[WORKLOAD_KEY]
    affinity = _get(pod_spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
    affinity = affinity or _get(pod_spec, "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
    for term in (affinity or {}).get("nodeSelectorTerms", []):
        for e in term.get("matchExpressions", []):
            if e.get("key") == WORKLOAD_KEY and e.get("operator") == "In":
                return e["values"][0]
    return "platform"


def _containers(spec: Any):
    from lib.kube.scheduling import Requests

    main = Requests()
    for c in spec.get("containers") or []:
        main = main + Requests.of(_get(c, "resources", "requests"))
    init = [Requests.of(_get(c, "resources", "requests")) for c in spec.get("initContainers") or []]
    # A pod requests the larger of its containers' sum and its largest init container.
    return Requests(
        max([main.cpu_m, *(i.cpu_m for i in init)]), max([main.memory_mib, *(i.memory_mib for i in init)])
    )


def data_plane_pods(resources: Iterable[Any]) -> dict[str, list[Any]]:
    """The pods the plan's Kubernetes objects make, by the node group they are pinned to, with their
    requests (sidecars included): ScyllaDB members (+ Manager agent), PostgreSQL instances (+ the
    barman-cloud sidecar of their ObjectStore), Kafka node pools, the entity operator and Kafka
    Exporter, Kafka Connect, MirrorMaker 2, Deployments, Jobs, Scylla Manager's own ScyllaDB and the
    OpenTelemetry collector. Pods of charts are counted where the project sets their requests."""
    from lib.kube.scheduling import Pod, Requests

    resources = list(resources)
    out: dict[str, list[Pod]] = {}

    def add(group: str, pod: Pod, count: int = 1) -> None:
        for i in range(count):
            out.setdefault(group, []).append(Pod(f"{pod.name}-{i}", pod.requests, pod.one_per_node, pod.zone))

    stores = {
        (_get(r.inputs, "metadata", "namespace"), _get(r.inputs, "metadata", "name")): r.inputs
        for r in resources
        if r.type.endswith(":ObjectStore")
    }
    for r in resources:
        if not r.type.startswith("kubernetes:") or not r.custom:
            continue
        i, kind = r.inputs, r.inputs.get("kind")
        spec = i.get("spec") or {}
        name = _get(i, "metadata", "name") or r.name
        if kind == "ScyllaCluster":
            for rack in _get(spec, "datacenter", "racks") or []:
                req = Requests.of(_get(rack, "resources", "requests")) + Requests.of(
                    _get(rack, "agentResources", "requests")
                )
                zone = None
                for term in (
                    _get(
                        rack,
                        "placement",
                        "nodeAffinity",
                        "requiredDuringSchedulingIgnoredDuringExecution",
                        "nodeSelectorTerms",
                    )
                    or []
                ):
                    for e in term.get("matchExpressions", []):
                        if e["key"] == "topology.kubernetes.io/zone":
                            zone = e["values"][0]
                group = _group_of(rack.get("placement") or {})
                add(group, Pod(f"{name}-{rack['name']}", req, one_per_node=name, zone=zone), rack["members"])
        elif kind == "Cluster" and r.type.startswith("kubernetes:postgresql.cnpg.io"):
            req = Requests.of(_get(spec, "resources", "requests"))
            for plugin in spec.get("plugins") or []:
                store = stores.get(
                    (_get(i, "metadata", "namespace"), _get(plugin, "parameters", "barmanObjectName"))
                )
                req = req + Requests.of(
                    _get(store, "spec", "instanceSidecarConfiguration", "resources", "requests")
                )
            add(_group_of(spec.get("affinity") or {}), Pod(name, req), spec.get("instances", 1))
        elif kind in ("KafkaNodePool", "KafkaConnect", "KafkaMirrorMaker2"):
            group = _group_of(_get(spec, "template", "pod") or {})
            add(group, Pod(name, Requests.of(_get(spec, "resources", "requests"))), spec.get("replicas", 1))
        elif kind == "Kafka":
            eo = Requests.of(
                _get(spec, "entityOperator", "topicOperator", "resources", "requests")
            ) + Requests.of(_get(spec, "entityOperator", "userOperator", "resources", "requests"))
            add("platform", Pod(f"{name}-entity-operator", eo))
            if "kafkaExporter" in spec:
                add(
                    "platform",
                    Pod(
                        f"{name}-kafka-exporter",
                        Requests.of(_get(spec, "kafkaExporter", "resources", "requests")),
                    ),
                )
        elif kind == "Deployment":
            pod = _get(spec, "template", "spec") or {}
            add(_group_of(pod), Pod(name, _containers(pod)), spec.get("replicas", 1))
        elif kind == "Job":
            pod = _get(spec, "template", "spec") or {}
            add(_group_of(pod), Pod(name, _containers(pod)))
        elif kind == "OpenTelemetryCollector":
            add(
                _group_of(spec),
                Pod(name, Requests.of(_get(spec, "resources", "requests"))),
                spec.get("replicas", 1),
            )
        elif r.type == "kubernetes:helm.sh/v3:Release" and str(i.get("chart", "")).endswith("scylla-manager"):
            for rack in _get(i, "values", "scylla", "racks") or []:
                req = Requests.of(_get(rack, "resources", "requests")) + Requests.of(
                    _get(rack, "agentResources", "requests")
                )
                add(
                    _group_of(rack.get("placement") or {}),
                    Pod(f"scylla-manager-{rack['name']}", req),
                    rack.get("members", 1),
                )
    return out


def node_groups(resources: Iterable[Any]) -> dict[str, tuple[str, int]]:
    """group -> (instance type, minimum nodes) of the plan's EKS managed node groups: the data plane
    must fit the smallest size a group may be scaled to."""
    groups = {}
    for r in resources:
        if r.type == NODE_GROUP:
            group = (r.inputs.get("labels") or {})[WORKLOAD_KEY]
            groups[group] = (r.inputs["instanceTypes"][0], r.inputs["scalingConfig"]["minSize"])
    return groups


def scheduling_problems(resources: Iterable[Any], zones: Sequence[str]) -> list[str]:
    """Pods that cannot be scheduled: each node group's pods packed onto its minimum nodes, spread
    over `zones` as a managed node group balances them, after the DaemonSets of lib/kube/nodes.yaml."""
    from lib.capacity import spread
    from lib.kube.scheduling import daemonset_requests, place

    resources = list(resources)
    groups = node_groups(resources)
    problems = []
    for group, pods in sorted(data_plane_pods(resources).items()):
        if group not in groups:
            problems.append(
                f"{len(pods)} pods pinned to node group {group!r}, which the plan does not declare"
            )
            continue
        instance_type, count = groups[group]
        per_zone = dict(zip(zones, spread(count, len(zones)), strict=True))
        problems += [f"{group}: {p}" for p in place(pods, instance_type, per_zone, daemonset_requests())]
    return problems
