"""Stack policies: pure functions over one stack's resources (a list of policies.props.Res: type, urn,
name, props, options, dependencies, parent). They are the whole-platform checks that can run on one
stack's graph. The CrossGuard pack wraps each in a StackValidationPolicy; the offline plan and the
estate (planner/checks) call them directly on their own resources (policies.props.from_plan,
from_json)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .baseline import baseline
from .props import Res, each, get, is_unknown, items, number, plain, walk
from .rules import (
    ASG,
    BUCKET,
    BUCKET_POLICY,
    BUCKET_V2,
    CNPG,
    CNPG_SCHEDULED,
    K_HELM,
    K_PROM_RULE,
    KAFKA,
    KAFKA_CONNECT,
    KMS_KEY,
    LAUNCH_TEMPLATE,
    NODE_GROUP,
    OWNERSHIP,
    PAB,
    POD_SPEC_PATHS,
    SCALING_POLICY,
    SCYLLA,
    SSE,
    SSE_V2,
    TARGET_GROUP,
    VERSIONING,
    VERSIONING_V2,
)

LISTENER = "aws:lb/listener:Listener"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
MONITORS = (
    "kubernetes:monitoring.coreos.com/v1:PodMonitor",
    "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
)
KMS_GRANT = "aws:kms/grant:Grant"
AUTOSCALING_ROLE = "AWSServiceRoleForAutoScaling"

# API group of a custom resource -> the chart that installs its CRDs and operator.
OPERATOR_CHARTS = {
    "kafka.strimzi.io": "strimzi-kafka-operator",
    "scylla.scylladb.com": "scylla-operator",
    "postgresql.cnpg.io": "cloudnative-pg",
    "barmancloud.cnpg.io": "plugin-barman-cloud",
    "monitoring.coreos.com": "kube-prometheus-stack",
    "opentelemetry.io": "opentelemetry-operator",
    "cert-manager.io": "cert-manager",
}


@dataclass(frozen=True)
class StackRule:
    name: str
    description: str
    severity: str
    enforcement: str
    source: str
    # (resources) -> (urn or "", message)
    check: Callable[[list[Res]], Iterable[tuple[str, str]]]
    kind: str = "stack"

    def run(self, resources: Iterable[Res]) -> list[tuple[str, str]]:
        return list(self.check(list(resources)))


def _of(resources: list[Res], *types: str) -> list[Res]:
    return [r for r in resources if r.type in types]


def _closure(resources: list[Res]) -> Callable[[str], set[str]]:
    """urn -> every URN it waits for, through dependencies and its parents' dependencies."""
    by_urn = {r.urn: r for r in resources}
    memo: dict[str, set[str]] = {}

    def deps(urn: str, seen: frozenset[str] = frozenset()) -> set[str]:
        if urn in memo:
            return memo[urn]
        r = by_urn.get(urn)
        if r is None or urn in seen:
            return set()
        direct = set(r.dependencies) | ({r.parent} if r.parent else set())
        out = set(direct)
        for d in direct:
            out |= deps(d, seen | {urn})
        memo[urn] = out
        return out

    return deps


# --- order ------------------------------------------------------------------------------------------
def _dependencies_resolve(resources: list[Res]) -> Iterator[tuple[str, str]]:
    urns = {r.urn for r in resources}
    stack_urns = {u for u in (r.parent for r in resources) if u and "::pulumi:pulumi:Stack::" in u}
    for r in resources:
        for d in r.dependencies:
            if d not in urns:
                yield r.urn, f"depends on {d.split('::')[-1]}, which this stack does not declare"
        if r.parent and r.parent not in urns and r.parent not in stack_urns:
            yield r.urn, f"parent {r.parent.split('::')[-1]} is not declared in this stack"
    # A custom resource is applied after the operator release that installs its CRD.
    deps = _closure(resources)
    releases = {get(r.props, "chart"): r.urn for r in _of(resources, K_HELM)}
    for r in resources:
        if not r.type.startswith("kubernetes:") or r.type == K_HELM:
            continue
        group = r.type.split(":")[1].rsplit("/", 1)[0]
        chart = OPERATOR_CHARTS.get(group)
        if chart is None:
            continue
        release = next((u for c, u in releases.items() if isinstance(c, str) and c.endswith(chart)), None)
        if release is None:
            continue  # the operator is installed outside this stack
        if release not in deps(r.urn):
            yield r.urn, f"{r.kind or r.type} is not ordered after the {chart} release that installs its CRD"


def _stack_references(resources: list[Res]) -> Iterator[tuple[str, str]]:
    for r in _of(resources, STACK_REFERENCE):
        name = get(r.props, "name")
        if isinstance(name, str) and name.count("/") != 2:
            yield (
                r.urn,
                (
                    f"StackReference {name!r} is not fully qualified (org/project/stack); a short name "
                    "resolves "
                    f"to the caller's default organization"
                ),
            )


# --- reachability -----------------------------------------------------------------------------------
def _ingest_reachable(resources: list[Res]) -> Iterator[tuple[str, str]]:
    groups = _of(resources, TARGET_GROUP)
    asgs = _of(resources, ASG)
    for listener in _of(resources, LISTENER):
        if is_unknown(get(listener.props, "defaultActions")):
            continue
        arns = [get(a, "targetGroupArn") for a in each(listener.props, "defaultActions")]
        if not any(isinstance(a, str) for a in arns) and all(not is_unknown(a) for a in arns):
            yield listener.urn, "listener forwards to no target group"
    for tg in groups:
        attached = [
            a
            for a in asgs
            if tg.urn in a.dependencies
            or any(isinstance(x, str) and x.endswith(f"/{tg.name}") for x in each(a.props, "targetGroupArns"))
        ]
        used = [
            li
            for li in _of(resources, LISTENER)
            if tg.urn in li.dependencies
            or any(
                str(get(x, "targetGroupArn")).endswith(f"/{tg.name}")
                for x in each(li.props, "defaultActions")
            )
        ]
        if not attached:
            yield (
                tg.urn,
                "target group has no Auto Scaling group registering instances: the listener reaches nothing",
            )
        if not used:
            yield tg.urn, "target group is not the target of any listener"


# --- scheduling -------------------------------------------------------------------------------------
WORKLOAD_LABEL = "pipeline-infra/workload"


def _selected_workloads(r: Res) -> set[str]:
    """Values of the pipeline-infra/workload node label a resource's pods require."""
    out: set[str] = set()
    for path, value in walk(r.props):
        if (
            len(path) >= 2
            and path[-2] == "nodeSelector"
            and path[-1] == WORKLOAD_LABEL
            and isinstance(value, str)
        ):
            out.add(value)
    for path, value in walk(r.props):
        if (
            len(path) >= 3
            and path[-3] == "matchExpressions"
            and path[-1] == "key"
            and value == WORKLOAD_LABEL
        ):
            expr = get(r.props, *path[:-1])
            if get(expr, "operator") == "In":
                out |= {v for v in each(expr, "values") if isinstance(v, str)}
    return out


def _tolerated(r: Res) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for path, value in walk(r.props):
        if len(path) >= 3 and path[-3] == "tolerations" and path[-1] == "key" and isinstance(value, str):
            tol = get(r.props, *path[:-1])
            out.add((value, str(get(tol, "value") or "*")))
    return out


def _schedulable(resources: list[Res]) -> Iterator[tuple[str, str]]:
    pools: dict[str, list[tuple[str, str]]] = {}
    for ng in _of(resources, NODE_GROUP):
        workload = get(ng.props, "labels", WORKLOAD_LABEL)
        if isinstance(workload, str):
            pools[workload] = [(str(get(t, "key")), str(get(t, "value"))) for t in each(ng.props, "taints")]
    if not pools:
        return  # the cluster is not in this stack: nothing to match against
    for r in resources:
        if not r.type.startswith("kubernetes:"):
            continue
        tolerated = _tolerated(r)
        for workload in sorted(_selected_workloads(r)):
            if workload not in pools:
                yield r.urn, f"pods require nodes labelled {WORKLOAD_LABEL}={workload}; no node group has it"
                continue
            for key, value in pools[workload]:
                if (key, value) not in tolerated and (key, "*") not in tolerated:
                    yield (
                        r.urn,
                        f"pods select the {workload} nodes but do not tolerate their taint {key}={value}",
                    )


# --- key permissions --------------------------------------------------------------------------------
def _key_permissions(resources: list[Res]) -> Iterator[tuple[str, str]]:
    keys = {k.urn: k for k in _of(resources, KMS_KEY)}
    grants = _of(resources, KMS_GRANT)
    for lt in _of(resources, LAUNCH_TEMPLATE):
        uses_cmk = any(
            get(b, "ebs", "kmsKeyId") not in (None, "") for b in each(lt.props, "blockDeviceMappings")
        )
        if not uses_cmk:
            continue
        for key_urn in (d for d in lt.dependencies if d in keys):
            key = keys[key_urn]
            policy = get(key.props, "policy")
            if is_unknown(policy):
                continue
            text = policy if isinstance(policy, str) else json.dumps(plain(policy) or {})
            granted = any(
                key_urn in g.dependencies and AUTOSCALING_ROLE in str(get(g.props, "granteePrincipal"))
                for g in grants
            )
            if AUTOSCALING_ROLE not in text and not granted:
                yield (
                    key.urn,
                    (
                        f"launch template {lt.name} encrypts volumes with this key, but neither its key "
                        "policy "
                        f"nor a grant lets {AUTOSCALING_ROLE} use it: instances fail to launch"
                    ),
                )


# --- metric coverage --------------------------------------------------------------------------------
def _metric_coverage(resources: list[Res]) -> Iterator[tuple[str, str]]:
    if not any("kube-prometheus-stack" in str(get(r.props, "chart")) for r in _of(resources, K_HELM)):
        return
    monitored: set[str] = set()
    for m in _of(resources, *MONITORS):
        names = [n for n in each(m.props, "spec", "namespaceSelector", "matchNames") if isinstance(n, str)]
        monitored |= set(names) or {m.namespace}
    for r in _of(resources, SCYLLA, CNPG, *KAFKA, *KAFKA_CONNECT):
        if r.type in KAFKA and get(r.props, "spec", "kafka", "metricsConfig") is None:
            yield r.urn, "Kafka exports no metrics (spec.kafka.metricsConfig)"
        if r.type in KAFKA_CONNECT and get(r.props, "spec", "metricsConfig") is None:
            yield r.urn, "Kafka Connect exports no metrics (spec.metricsConfig)"
        if r.namespace and r.namespace not in monitored:
            yield r.urn, f"no PodMonitor or ServiceMonitor scrapes namespace {r.namespace}"
    present: dict[str, str] = {}
    for rule in _of(resources, K_PROM_RULE):
        for g in each(rule.props, "spec", "groups"):
            for a in each(g, "rules"):
                if isinstance(get(a, "alert"), str):
                    present[get(a, "alert")] = str(get(a, "annotations", "runbook") or "")
    wanted = {k: v for k, v in baseline()["alerts"].items() if k != "source"}
    for alert in sorted(set(wanted) - set(present)):
        yield "", f"seed alert {alert} (runbook {wanted[alert]}) is not deployed"


# --- protection -------------------------------------------------------------------------------------
def _autoscaler_owns_capacity(resources: list[Res]) -> Iterator[tuple[str, str]]:
    for asg in _of(resources, ASG):
        # The policy names its group (autoscalingGroupName); components declare both under one parent.
        scaled = any(
            asg.urn in p.dependencies or (p.parent is not None and p.parent == asg.parent)
            for p in _of(resources, SCALING_POLICY)
        )
        ignored = {str(x) for x in (asg.options.get("ignoreChanges") or ())}
        if scaled and get(asg.props, "desiredCapacity") is not None and "desiredCapacity" not in ignored:
            yield (
                asg.urn,
                "a scaling policy owns desiredCapacity but the group does not ignore_changes it: "
                "every up resets it",
            )


def _bucket_companions(resources: list[Res]) -> Iterator[tuple[str, str]]:
    needed = {
        "encryption": (SSE, SSE_V2),
        "public access block": (PAB,),
        "versioning": (VERSIONING, VERSIONING_V2),
        "TLS-only policy": (BUCKET_POLICY,),
        "ownership controls": (OWNERSHIP,),
    }
    for bucket in _of(resources, BUCKET, BUCKET_V2):
        for what, types in needed.items():
            companions = _of(resources, *types)
            if not any(
                bucket.urn in c.dependencies or (bucket.urn and get(c.props, "bucket") == _id(bucket))
                for c in companions
            ):
                yield bucket.urn, f"bucket has no {what} resource"


def _id(r: Res) -> str | None:
    return getattr(r, "id", None)


def _pdbs(resources: list[Res]) -> Iterator[tuple[str, str]]:
    budgets = [
        (p.namespace, dict(items(get(p.props, "spec", "selector", "matchLabels"))))
        for p in _of(resources, PDB)
    ]
    for r in resources:
        if r.type not in POD_SPEC_PATHS or "Job" in r.type:
            continue
        replicas = number(get(r.props, "spec", "replicas"))
        if replicas is None or replicas < 2:
            continue
        labels = dict(items(get(r.props, "spec", "template", "metadata", "labels")))
        if not any(ns == r.namespace and sel and sel.items() <= labels.items() for ns, sel in budgets):
            yield r.urn, f"{int(replicas)} replicas and no PodDisruptionBudget selects their pods"


def _backup_pairing(resources: list[Res]) -> Iterator[tuple[str, str]]:
    scheduled: dict[tuple[str, object], list[bool]] = {}
    for s in _of(resources, CNPG_SCHEDULED):
        key = (s.namespace, get(s.props, "spec", "cluster", "name"))
        scheduled.setdefault(key, []).append(get(s.props, "spec", "suspend") is True)
    for c in _of(resources, CNPG):
        name = get(c.props, "metadata", "name")
        if is_unknown(name):
            continue
        suspended = scheduled.get((c.namespace, name))
        # A replica cluster (the DR standby: spec.replica names another primary) resumes its backups
        # when it is promoted; the primary's backups reach the DR region through bucket replication.
        primary, me = get(c.props, "spec", "replica", "primary"), get(c.props, "spec", "replica", "self")
        standby = isinstance(primary, str) and primary != me
        if suspended is None:
            yield c.urn, f"PostgreSQL cluster {name} has no ScheduledBackup"
        elif all(suspended) and not standby and not is_unknown(primary):
            yield c.urn, f"every ScheduledBackup of PostgreSQL cluster {name} is suspended"


def _network_policies(resources: list[Res]) -> Iterator[tuple[str, str]]:
    covered = {p.namespace for p in _of(resources, NETWORK_POLICY)}
    for ns in _of(resources, NAMESPACE):
        name = get(ns.props, "metadata", "name")
        if isinstance(name, str) and name not in covered:
            yield ns.urn, f"namespace {name} has no NetworkPolicy: every pod in it accepts any connection"


M = "mandatory"
STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        "dependencies-resolve",
        "Every dependency and parent is declared in the stack, and custom "
        "resources are applied after the operator release that installs their CRD.",
        "high",
        M,
        "estate check `order`; Pulumi engine (registration order)",
        _dependencies_resolve,
    ),
    StackRule(
        "stack-references-qualified",
        "StackReferences name org/project/stack.",
        "high",
        M,
        "estate check `name-resolution`; review B13",
        _stack_references,
    ),
    StackRule(
        "ingest-reachable",
        "Every listener forwards to a target group that an Auto Scaling group registers instances in.",
        "high",
        M,
        "estate check `reachability`; seed 003 Load Balancer configuration",
        _ingest_reachable,
    ),
    StackRule(
        "workloads-schedulable",
        "Pods that select a node pool find a node group with that label and tolerate its taint.",
        "high",
        M,
        "estate check `scheduling`",
        _schedulable,
    ),
    StackRule(
        "kms-key-usable-by-autoscaling",
        "A KMS key that encrypts fleet volumes lets the Auto Scaling service-linked role use it.",
        "critical",
        M,
        "estate check `permissions`; review A3; AWS EBS "
        "encryption with Auto Scaling (required CMK key policy)",
        _key_permissions,
    ),
    StackRule(
        "metric-coverage",
        "Every datastore is scraped and every seed alert is deployed with its runbook.",
        "high",
        M,
        "estate check `observability`; seed 003 Monitoring and Alerting",
        _metric_coverage,
    ),
    StackRule(
        "autoscaler-owns-capacity",
        "Auto Scaling groups with a scaling policy ignore changes to desiredCapacity.",
        "medium",
        M,
        "estate check `stateful`; review B2",
        _autoscaler_owns_capacity,
    ),
    StackRule(
        "bucket-companions",
        "Every bucket has encryption, a public access block, versioning, a TLS-only "
        "policy and ownership controls.",
        "high",
        M,
        "AWS FSBP S3.5, S3.8, S3.12, S3.14, S3.17",
        _bucket_companions,
    ),
    StackRule(
        "replicated-services-pdb",
        "Workloads with 2 or more replicas have a PodDisruptionBudget.",
        "medium",
        M,
        "issue 14; Kubernetes disruption budgets (node drains during upgrades)",
        _pdbs,
    ),
    StackRule(
        "postgres-scheduled-backup",
        "Every PostgreSQL cluster has a ScheduledBackup.",
        "high",
        M,
        "seed 003 Backup Schedules (DB full daily 01:00)",
        _backup_pairing,
    ),
    StackRule(
        "namespace-network-policies",
        "Every namespace has a NetworkPolicy.",
        "medium",
        M,
        "CIS Kubernetes Benchmark 5.3.2",
        _network_policies,
    ),
)

STACK_RULES_BY_NAME = {r.name: r for r in STACK_RULES}


def evaluate_stack(resources: Iterable[Res]) -> list[dict[str, str]]:
    resources = list(resources)
    out = []
    for rule in STACK_RULES:
        for urn, message in rule.run(resources):
            out.append(
                {
                    "policy": rule.name,
                    "kind": rule.kind,
                    "enforcement": rule.enforcement,
                    "severity": rule.severity,
                    "urn": urn,
                    "message": message,
                }
            )
    return out
