"""ScyllaCluster (scylla.scylladb.com/v1) and its schema Job, as plain dicts (pure: no Pulumi)."""

from __future__ import annotations

from typing import Any

from components.dataplane.scylla.settings import ScyllaSettings
from lib import versions
from lib.kube.jobs import SCRIPT_DIR, script_job

WORKLOAD = "scylla"
WORKLOAD_LABEL = "pipeline-infra/workload"
ZONE_LABEL = "topology.kubernetes.io/zone"
CQL_PORT = 9042
# The Scylla Manager agent's sidecar: small and Guaranteed like the ScyllaDB container.
AGENT_RESOURCES = {"cpu": "100m", "memory": "256Mi"}
# The prefix Scylla Manager writes backups under in the bucket (backup/meta, backup/sst, ...).
BACKUP_PREFIX = "backup"
# The service-account annotation naming the IAM role its pods assume (IRSA).
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


def rack_name(zone: str) -> str:
    return zone


def member_service_account(cluster: str) -> str:
    """The service account the operator creates for the ScyllaDB pods (the agent runs in them)."""
    return f"{cluster}-member"


def client_service(cluster: str, namespace: str) -> str:
    return f"{cluster}-client.{namespace}.svc"


def seed_addresses(cluster: str, datacenter: str, zones: tuple[str, ...], namespace: str) -> list[str]:
    """One seed per rack: the first member's own Service (operator naming <cluster>-<dc>-<rack>-0)."""
    return [f"{cluster}-{datacenter}-{rack_name(z)}-0.{namespace}.svc" for z in zones]


def _placement(zone: str, tolerations: list[dict[str, Any]], cluster: str) -> dict[str, Any]:
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": WORKLOAD_LABEL, "operator": "In", "values": [WORKLOAD]},
                            {"key": ZONE_LABEL, "operator": "In", "values": [zone]},
                        ]
                    }
                ]
            }
        },
        # One ScyllaDB node per Kubernetes node (local NVMe, all cores).
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "topologyKey": "kubernetes.io/hostname",
                    "labelSelector": {"matchLabels": {"scylla/cluster": cluster}},
                }
            ]
        },
        "tolerations": tolerations,
    }


def scylla_cluster(
    *,
    name: str,
    namespace: str,
    settings: ScyllaSettings,
    datacenter: str,
    zones: tuple[str, ...],
    storage_class: str,
    tolerations: list[dict[str, Any]],
    backup_location: Any | None,
    manage_tasks: bool,
    external_seeds: Any | None = None,
    agent_config_secret: str | None = None,
) -> dict[str, Any]:
    """The ScyllaCluster: one rack per zone, limits equal to requests (the operator's webhook wants
    cpu and memory limits), Scylla Manager backup and repair tasks when `manage_tasks`."""
    if not zones:
        raise ValueError("zones: one rack per availability zone needs at least one zone")
    resources = {"cpu": settings.resources.cpu, "memory": settings.resources.memory}
    racks = []
    for zone in zones:
        rack: dict[str, Any] = {
            "name": rack_name(zone),
            "members": settings.members_per_rack,
            "storage": {"capacity": f"{settings.storage_gib}Gi", "storageClassName": storage_class},
            "resources": {"requests": dict(resources), "limits": dict(resources)},
            "agentResources": {"requests": dict(AGENT_RESOURCES), "limits": dict(AGENT_RESOURCES)},
            "placement": _placement(zone, tolerations, name),
        }
        if agent_config_secret:
            rack["scyllaAgentConfig"] = agent_config_secret
        racks.append(rack)
    spec: dict[str, Any] = {
        "version": versions.SCYLLA_VERSION,
        "agentVersion": versions.SCYLLA_AGENT_VERSION,
        "developerMode": False,
        "automaticOrphanedNodeCleanup": True,
        # Nodes broadcast their pod IPs (VPC-routable with the EKS VPC CNI, also across the peering
        # to the DR site); immutable, so it is the same on every site from the start.
        "exposeOptions": {
            "nodeService": {"type": "Headless"},
            "broadcastOptions": {"clients": {"type": "PodIP"}, "nodes": {"type": "PodIP"}},
        },
        "datacenter": {"name": datacenter, "racks": racks},
    }
    if external_seeds is not None:
        spec["externalSeeds"] = external_seeds
    if manage_tasks:
        if backup_location is not None:
            spec["backups"] = [
                {
                    "name": "daily-backup",
                    "cron": settings.backup_cron,
                    "location": [backup_location],
                    "retention": settings.backup_retention,
                    "keyspace": ["*"],
                }
            ]
        spec["repairs"] = [
            {
                "name": "weekly-repair",
                "cron": settings.repair_cron,
                "intensity": "1",
                "keyspace": ["*"],
            }
        ]
    return {
        "apiVersion": "scylla.scylladb.com/v1",
        "kind": "ScyllaCluster",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def agent_config(region: str) -> str:
    """scylla-manager-agent.yaml: the S3 region of the backup bucket; credentials come from IRSA."""
    return f"s3:\n  region: {region}\n"


def schema_job(
    *, cluster: str, namespace: str, configmap: str, placement: dict[str, Any], digest: str
) -> dict[str, Any]:
    """The Job that applies the schema with cqlsh -f (retried until the cluster answers), once per
    schema: `digest` (lib/kube/jobs.py script_digest of the CQL) names it."""
    host = client_service(cluster, namespace)
    return script_job(
        app=f"{cluster}-schema",
        namespace=namespace,
        container="cqlsh",
        image=versions.IMAGES["scylla"],
        command=["cqlsh", host, str(CQL_PORT), "--request-timeout=60", "-f", f"{SCRIPT_DIR}/schema.cql"],
        configmap=configmap,
        placement=placement,
        memory="256Mi",
        digest=digest,
    )
