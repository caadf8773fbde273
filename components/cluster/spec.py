"""Pure pieces of the EKS cluster: node-group placement, kubeconfig, IRSA trust. No Pulumi."""

from __future__ import annotations

import json
from typing import Any

WORKLOAD_KEY = "pipeline-infra/workload"
# Node groups that carry only a label: the platform group runs everything without a toleration
# (operators, Prometheus, Grafana, the OTLP collector, the EBS CSI controller, CoreDNS).
UNTAINTED_GROUPS = frozenset({"platform"})
CONTROL_PLANE_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")
EBS_CSI_SERVICE_ACCOUNT = ("kube-system", "ebs-csi-controller-sa")
STORAGE_CLASS = "gp3-encrypted"


def node_group_labels(group: str) -> dict[str, str]:
    return {WORKLOAD_KEY: group}


def node_group_taints(group: str) -> list[dict[str, str]]:
    """EKS API taints (effect NO_SCHEDULE) matching KubeTarget.placement(group)'s toleration."""
    if group in UNTAINTED_GROUPS:
        return []
    return [{"key": WORKLOAD_KEY, "value": group, "effect": "NO_SCHEDULE"}]


def kubeconfig(*, cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig whose user runs `aws eks get-token` (short-lived tokens, nothing stored)."""
    user = f"aws-{cluster_name}"
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}
        ],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": cluster_name,
        "users": [
            {
                "name": user,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": [
                            "eks",
                            "get-token",
                            "--cluster-name",
                            cluster_name,
                            "--region",
                            region,
                            "--output",
                            "json",
                        ],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
    }
    return json.dumps(doc, sort_keys=True)


# --- access: who may use the cluster's API (EKS access entries, authentication mode API) ----------
EKS_ACCESS_POLICY = "arn:aws:eks::aws:cluster-access-policy/"
# The Kubernetes group of the CI preview role's access entry (bound to PREVIEW_RULES below).
PREVIEW_GROUP = "pipeline-infra-preview"
PREVIEW_CLUSTER_ROLE = "pipeline-infra-preview-dry-run"
# API groups of the custom resources the stacks declare (the operators' CRDs).
CUSTOM_RESOURCE_GROUPS = (
    "barmancloud.cnpg.io",
    "kafka.strimzi.io",
    "monitoring.coreos.com",
    "opentelemetry.io",
    "postgresql.cnpg.io",
    "scylla.scylladb.com",
)
# pulumi-kubernetes previews with server-side-apply dry runs (PATCH ?dryRun=All), which the API server
# authorises exactly like the write itself: read verbs are not enough.
DRY_RUN_VERBS = ("get", "list", "watch", "create", "patch", "update")


def role_arn(account_id: str, name: str, partition: str = "aws") -> str:
    """The ARN of IAM role `name` (which may carry a path, `ci/preview`) in the account."""
    return f"arn:{partition}:iam::{account_id}:role/{name}"


def access_policies(
    *, deployer_arn: str, preview_arn: str | None, namespaces: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The access policy associations, least each role needs:
    - the deployer (runs `pulumi up`: CRDs, cluster roles of the charts, every namespace): cluster admin
      at cluster scope;
    - the CI preview role: AmazonEKSEditPolicy on the managed namespaces only (dry runs of their
      ConfigMaps, Secrets, Services, Jobs, Deployments, ...; Helm reads its release Secrets there) and
      AmazonEKSViewPolicy at cluster scope; the cluster-scoped objects and custom resources it must
      dry-run come from PREVIEW_RULES through its Kubernetes group."""
    out = [
        {
            "principal": deployer_arn,
            "policy": EKS_ACCESS_POLICY + "AmazonEKSClusterAdminPolicy",
            "scope": {"type": "cluster"},
        }
    ]
    if preview_arn is not None:
        out += [
            {
                "principal": preview_arn,
                "policy": EKS_ACCESS_POLICY + "AmazonEKSEditPolicy",
                "scope": {"type": "namespace", "namespaces": sorted(namespaces)},
            },
            {
                "principal": preview_arn,
                "policy": EKS_ACCESS_POLICY + "AmazonEKSViewPolicy",
                "scope": {"type": "cluster"},
            },
        ]
    return out


def preview_rules() -> list[dict[str, Any]]:
    """RBAC rules of the preview group beyond the access policies: dry runs of the cluster-scoped
    objects the stack declares (Namespaces, the StorageClass) and of the operators' custom resources,
    reading the CRDs. No RBAC objects, no escalate or bind: the charts' roles are rendered by Helm's
    own dry run, not applied."""
    return [
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": list(DRY_RUN_VERBS)},
        {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": list(DRY_RUN_VERBS)},
        {"apiGroups": list(CUSTOM_RESOURCE_GROUPS), "resources": ["*"], "verbs": list(DRY_RUN_VERBS)},
        {
            "apiGroups": ["apiextensions.k8s.io"],
            "resources": ["customresourcedefinitions"],
            "verbs": ["get", "list", "watch"],
        },
        # Its own role and binding (declared by the stack, so also dry-run): only these two objects,
        # and only permissions it already holds (RBAC's escalation check holds for dry runs too).
        {
            "apiGroups": ["rbac.authorization.k8s.io"],
            "resources": ["clusterroles", "clusterrolebindings"],
            "resourceNames": [PREVIEW_CLUSTER_ROLE],
            "verbs": ["get", "patch", "update"],
        },
    ]


# API groups whose namespaced resources Kubernetes' `edit` role (AmazonEKSEditPolicy) may write.
EDIT_GROUPS = frozenset({"", "apps", "batch", "autoscaling", "networking.k8s.io", "policy"})
_CLUSTER_SCOPED = frozenset({"Namespace", "StorageClass", "ClusterRole", "ClusterRoleBinding"})


def plural(kind: str) -> str:
    """The API resource of a kind (NetworkPolicy -> networkpolicies, StorageClass -> storageclasses)."""
    low = kind.lower()
    if low.endswith("y"):
        return low[:-1] + "ies"
    if low.endswith("s"):
        return low + "es"
    return low + "s"


def preview_may_patch(
    api_version: str, kind: str, *, namespace: str | None, name: str, namespaces: tuple[str, ...]
) -> bool:
    """Whether the preview role may PATCH (a server-side-apply dry run) this object: through the edit
    policy in a managed namespace, or through preview_rules(). Pure."""
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    if kind not in _CLUSTER_SCOPED and namespace in namespaces and group in EDIT_GROUPS:
        return True
    for rule in preview_rules():
        if group not in rule["apiGroups"] or "patch" not in rule["verbs"]:
            continue
        if plural(kind) not in rule["resources"] and "*" not in rule["resources"]:
            continue
        if "resourceNames" in rule and name not in rule["resourceNames"]:
            continue
        return True
    return False
