"""ScyllaCluster (scylla.scylladb.com/v1) and its schema Job, as plain dicts (pure: no Pulumi)."""

from __future__ import annotations

from typing import Any

from components.dataplane.scylla.settings import ScyllaSettings
from lib import versions
from lib.kube.jobs import SCRIPT_DIR, script_job
from lib.kube.load_balancer import INTERNAL_NLB

WORKLOAD = "scylla"
WORKLOAD_LABEL = "pipeline-infra/workload"
ZONE_LABEL = "topology.kubernetes.io/zone"
CQL_PORT = 9042
# Inter-node ports: gossip and streaming (7000), and the same over TLS (7001, internode encryption).
INTER_NODE_PORTS = {"inter-node": 7000, "inter-node-tls": 7001}
# An internal NLB of the in-tree AWS cloud provider (as the PostgreSQL replication endpoint).
# The label the StatefulSet controller puts on each of its pods (the operator's own member Services
# select a node's pod by it).
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
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
    """One seed per rack: the first member's own Service (operator naming <cluster>-<dc>-<rack>-0).
    Names inside this cluster: for a datacenter no other site joins."""
    return [f"{seed_pod(cluster, datacenter, z)}.{namespace}.svc" for z in zones]


def seed_pod(cluster: str, datacenter: str, zone: str) -> str:
    """The first member of a rack (the operator's StatefulSet <cluster>-<dc>-<rack>, ordinal 0)."""
    return f"{cluster}-{datacenter}-{rack_name(zone)}-0"


def seed_zone_name(dns_zone: str) -> str:
    """The private Route 53 zone of a DR pair's seed names (associated with both sites' VPCs)."""
    return f"scylla.{dns_zone}"


def seed_names(zones: tuple[str, ...], seed_zone: str) -> list[str]:
    """The seeds of a datacenter as the other site of a DR pair resolves them: one stable name per
    rack in the pair's private zone, known before anything is deployed. Rack names carry the region
    (us-east-1a), so both datacenters' names share the zone without colliding."""
    if not zones:
        raise ValueError("zones: one seed per rack needs at least one zone")
    names = [f"seed-{rack_name(z)}.{seed_zone}" for z in zones]
    if any(len(n) > 253 or any(len(label) > 63 for label in n.split(".")) for n in names):
        raise ValueError(f"seed names {names} exceed DNS limits (253 characters, 63 per label)")
    return names


def seed_service_name(cluster: str, zone: str) -> str:
    return f"{cluster}-seed-{rack_name(zone)}"


def seed_service(
    *, cluster: str, datacenter: str, zone: str, namespace: str, peer_cidr: str
) -> dict[str, Any]:
    """The address the other site's nodes first contact: an internal NLB on one rack's first member,
    on the inter-node ports, reachable from the peer's network only. Nodes broadcast their pod IPs
    (exposeOptions), so only the first contact goes through it; gossip and streaming then run pod to
    pod over the peering. `externalTrafficPolicy: Local` keeps the client's address (the pods'
    NetworkPolicy admits the peer's network alone); not-ready addresses are published, as the
    operator's member Services do, so a restarting seed still answers gossip."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": seed_service_name(cluster, zone),
            "namespace": namespace,
            "annotations": dict(INTERNAL_NLB),
        },
        "spec": {
            "type": "LoadBalancer",
            "selector": {
                "app.kubernetes.io/name": "scylla",
                "scylla/cluster": cluster,
                POD_NAME_LABEL: seed_pod(cluster, datacenter, zone),
            },
            "ports": [
                {"name": name, "port": port, "targetPort": port, "protocol": "TCP"}
                for name, port in INTER_NODE_PORTS.items()
            ],
            "loadBalancerSourceRanges": [peer_cidr],
            "externalTrafficPolicy": "Local",
            "publishNotReadyAddresses": True,
        },
    }


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
