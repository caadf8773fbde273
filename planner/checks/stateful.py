"""Stateful safety: every stateful resource is protected or retained on delete (a rename, a replace
or a `pulumi destroy` must not delete data), and capacity an autoscaler owns is left to it
(`ignore_changes`), so that an unrelated `pulumi up` does not reset it."""

from __future__ import annotations

from planner.checks import Check, Finding
from planner.checks.model import get, label, resources, stacks

# Types whose deletion or replacement loses data or a running platform (review B4).
STATEFUL_TYPES = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:kms/key:Key": "KMS key",
    "aws:eks/cluster:Cluster": "EKS cluster",
    "aws:eks/nodeGroup:NodeGroup": "node group",
    "aws:ebs/volume:Volume": "volume",
    "docker:index/volume:Volume": "volume",
    "kubernetes:core/v1:PersistentVolumeClaim": "volume",
    "kubernetes:postgresql.cnpg.io/v1:Cluster": "database",
    "kubernetes:scylla.scylladb.com/v1:ScyllaCluster": "database",
    "kubernetes:kafka.strimzi.io/v1:Kafka": "Kafka cluster",
    "kubernetes:kafka.strimzi.io/v1beta2:Kafka": "Kafka cluster",
    "kubernetes:kafka.strimzi.io/v1:KafkaNodePool": "Kafka node pool",
    "kubernetes:kafka.strimzi.io/v1beta2:KafkaNodePool": "Kafka node pool",
}

# Autoscaled capacity: the property the autoscaler changes, per type, and the resources whose presence
# means an autoscaler owns it.
AUTOSCALED = {
    "aws:autoscaling/group:Group": ("desiredCapacity", ("aws:autoscaling/policy:Policy",)),
    "aws:eks/nodeGroup:NodeGroup": ("scalingConfig.desiredSize", ("cluster-autoscaler", "karpenter")),
}


def _protected(r: dict) -> bool:
    options = r.get("options") or {}
    return bool(options.get("protect") or options.get("retainOnDelete"))


def _autoscaled(r: dict, stack: dict) -> bool:
    if r["type"] == "aws:autoscaling/group:Group":
        return any(
            r["urn"] in p.get("dependencies", []) and get(p, "inputs", "policyType") != "SimpleScaling"
            for p in resources(stack, "aws:autoscaling/policy:Policy")
        )
    charts = {
        str(get(x, "inputs", "chart", default="")) for x in resources(stack, "kubernetes:helm.sh/v3:Release")
    }
    return any(name in chart for chart in charts for name in AUTOSCALED[r["type"]][1])


def run(estate: dict) -> list[Finding]:
    findings = []
    for name, stack in stacks(estate):
        for r in stack.get("resources", []):
            what = STATEFUL_TYPES.get(r["type"])
            if what and r.get("custom", True) and not get(r, "options", "read") and not _protected(r):
                findings.append(
                    Finding(
                        "stateful-safety",
                        name,
                        label(r),
                        f"{what} is neither protected nor retained on delete (protect / retain_on_delete): "
                        "a rename, replacement or destroy deletes it",
                    )
                )
            if r["type"] in AUTOSCALED:
                prop = AUTOSCALED[r["type"]][0]
                ignored = get(r, "options", "ignoreChanges", default=[]) or []
                if _autoscaled(r, stack) and prop not in ignored:
                    findings.append(
                        Finding(
                            "stateful-safety",
                            name,
                            label(r),
                            f"{prop} is owned by the autoscaler but not in ignore_changes: every "
                            "`pulumi up` resets it",
                        )
                    )
    return findings


CHECK = Check(
    "stateful-safety",
    "high",
    "mandatory",
    "stateful resources protected or retained; autoscaled capacity in ignore_changes",
    run,
)
