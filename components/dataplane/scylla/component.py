"""ScyllaDB on Kubernetes: a ScyllaCluster (Scylla Operator, v1) with one rack per AZ, Scylla Manager
backup/repair tasks, the agent's S3 access through IRSA, and the schema applied by a cqlsh Job. In a DR
pair, each rack's seed behind an internal NLB named in the pair's private Route 53 zone (SeedZone)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws.route53 as route53
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta

from components.dataplane.scylla import manifests
from components.dataplane.scylla.cql import schema_cql
from components.dataplane.scylla.settings import ScyllaSettings
from components.dataplane.scylla.webhook import webhook_errors
from lib.kube.resources import custom_resource, stateful
from lib.kube.script import script_and_job
from lib.kube.target import NAMESPACES, BackupTarget, KubeTarget


@dataclass(frozen=True)
class SeedExposure:
    """A DR pair's seeds: this datacenter's seeds behind internal NLBs that admit `peer_cidr`, named
    in the pair's private zone (`zone_id`, `zone_name`: associated with both sites' VPCs)."""

    zone_id: pulumi.Input[str]
    zone_name: str
    peer_cidr: str


@dataclass(frozen=True)
class ScyllaArgs:
    settings: ScyllaSettings
    kube: KubeTarget
    datacenter: str
    # Replication factor per datacenter of the keyspace (the DR site lists both DCs).
    schema_datacenters: dict[str, int]
    operators: Sequence[pulumi.Resource] = ()
    namespace_resources: Sequence[pulumi.Resource] = ()
    backups: BackupTarget | None = None
    # Seeds of the other datacenter (DR site joining the primary's cluster), or None.
    external_seeds: pulumi.Input[list[str]] | None = None
    # This datacenter's seeds published to the other site of a DR pair, or None (no peer).
    seed_exposure: SeedExposure | None = None
    # Scylla Manager tasks (backups, repairs): on the site that is primary only.
    manage_tasks: bool = True
    cluster_name: str = "scylla"
    namespace: str = field(default=NAMESPACES["scylla"])

    def __post_init__(self) -> None:
        if not self.kube.zones:
            raise ValueError("kube.zones: one rack per availability zone needs at least one zone")
        if self.datacenter not in self.schema_datacenters:
            raise ValueError(f"schema_datacenters must include this site's datacenter {self.datacenter!r}")


class ScyllaDb(pulumi.ComponentResource):
    def __init__(self, name: str, args: ScyllaArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-infra:dataplane:ScyllaDb", name, None, opts)
        kube, s, ns, cluster = args.kube, args.settings, args.namespace, args.cluster_name

        def child(*deps: pulumi.Resource) -> pulumi.ResourceOptions:
            return kube.options(self, *args.namespace_resources, *deps)

        location = None
        role_arn = None
        agent_secret = None
        if args.backups is not None:
            location = pulumi.Output.from_input(args.backups.bucket).apply(lambda b: f"s3:{b}")
            agent_secret = core.Secret(
                f"{name}-agent-config",
                metadata=meta.ObjectMetaArgs(name=f"{cluster}-agent-config", namespace=ns),
                type="Opaque",
                string_data=pulumi.Output.secret(
                    {"scylla-manager-agent.yaml": manifests.agent_config(args.backups.region)}
                ),
                opts=child(),
            )
            if args.backups.irsa_role is not None:
                role_arn = args.backups.irsa_role(
                    f"{name}-backup", ns, manifests.member_service_account(cluster), manifests.BACKUP_PREFIX
                )

        tolerations = KubeTarget.placement("scylla")["tolerations"]
        manifest = manifests.scylla_cluster(
            name=cluster,
            namespace=ns,
            settings=s,
            datacenter=args.datacenter,
            zones=tuple(kube.zones),
            storage_class=kube.storage_class,
            tolerations=tolerations,
            backup_location=location,
            manage_tasks=args.manage_tasks,
            external_seeds=args.external_seeds,
            agent_config_secret=f"{cluster}-agent-config" if agent_secret is not None else None,
        )
        # Fail the plan, not the deployment, on what the operator's admission webhook would refuse.
        problems = webhook_errors(_plain_view(manifest))
        if problems:
            raise ValueError(
                "ScyllaCluster would be refused by the operator's webhook: " + "; ".join(problems)
            )
        deps: list[pulumi.Resource] = [*args.operators]
        if agent_secret is not None:
            deps.append(agent_secret)
        self.member_service_account: core.ServiceAccount | None = None
        if role_arn is not None:
            # The agent (a sidecar in the ScyllaDB pods) reads the bucket with the role of the pods'
            # service account (IRSA), and EKS injects the credentials only into pods created after the
            # annotation: so the account exists, annotated, before the ScyllaCluster creates any pod.
            # The operator then claims it (resourceapply ForceOwnership) and keeps the annotation
            # (MergeMetadataInPlace), scylla-operator v1.21.1 pkg/resourceapply/helpers.go.
            self.member_service_account = core.ServiceAccount(
                f"{name}-member-service-account",
                metadata=meta.ObjectMetaArgs(
                    name=manifests.member_service_account(cluster),
                    namespace=ns,
                    annotations={manifests.IRSA_ANNOTATION: role_arn},
                ),
                opts=child(),
            )
            deps.append(self.member_service_account)
        self.cluster = custom_resource(f"{name}-cluster", manifest, stateful(child(*deps)))

        cql = schema_cql(s, args.schema_datacenters)
        self.schema, self.schema_job = script_and_job(
            f"{name}-schema",
            job_name=f"{name}-schema-job",
            configmap=f"{cluster}-schema",
            namespace=ns,
            files={"schema.cql": cql},
            job=lambda configmap, digest: manifests.schema_job(
                cluster=cluster,
                namespace=ns,
                configmap=configmap,
                placement=KubeTarget.placement("platform"),
                digest=digest,
            ),
            opts=child,
            after=[self.cluster],
        )
        self.cluster_name = cluster
        self.datacenter = args.datacenter
        self.contact_points = f"{manifests.client_service(cluster, ns)}:{manifests.CQL_PORT}"
        self.seeds = manifests.seed_addresses(cluster, args.datacenter, tuple(kube.zones), ns)
        if args.seed_exposure is not None:
            self.seeds = self._expose_seeds(name, args, child)
        self.register_outputs(
            {
                "cluster": cluster,
                "datacenter": args.datacenter,
                "contact_points": self.contact_points,
                "seeds": self.seeds,
            }
        )

    def _expose_seeds(self, name: str, args: ScyllaArgs, child) -> list[str]:
        """One internal NLB per rack's first member and its CNAME in the pair's private zone; the
        names (known at preview) are the seeds the other site joins through."""
        exposure = args.seed_exposure
        assert exposure is not None
        zones = tuple(args.kube.zones)
        names = manifests.seed_names(zones, exposure.zone_name)
        for zone, record in zip(zones, names, strict=True):
            doc = manifests.seed_service(
                cluster=args.cluster_name,
                datacenter=args.datacenter,
                zone=zone,
                namespace=args.namespace,
                peer_cidr=exposure.peer_cidr,
            )
            rack = manifests.rack_name(zone)
            svc = core.Service(
                f"{name}-seed-{rack}", metadata=doc["metadata"], spec=doc["spec"], opts=child(self.cluster)
            )
            route53.Record(
                f"{name}-seed-{rack}",
                zone_id=exposure.zone_id,
                name=record,
                type="CNAME",
                ttl=60,
                # pulumi-kubernetes waits until the load balancer has its address (status.loadBalancer)
                records=[svc.status.apply(lambda st, s=doc["metadata"]["name"]: _lb_host(st, s))],
                opts=pulumi.ResourceOptions(parent=self),
            )
        return names


def _lb_host(status: object, service: str) -> str:
    """The NLB DNS name of a seed Service; no in-cluster fallback (the other site cannot resolve it)."""
    ingress = getattr(getattr(status, "load_balancer", None), "ingress", None) or []
    for item in ingress:
        host = getattr(item, "hostname", None) or getattr(item, "ip", None)
        if host:
            return str(host)
    raise ValueError(f"Service {service} has no load balancer address: its seed record cannot point at it")


def _plain_view(manifest: dict) -> dict:
    """The manifest with unresolved values (Outputs) replaced by placeholders, for the webhook check."""
    if isinstance(manifest, dict):
        return {k: _plain_view(v) for k, v in manifest.items()}
    if isinstance(manifest, list):
        return [_plain_view(v) for v in manifest]
    if isinstance(manifest, pulumi.Output):
        return "<output>"
    return manifest


@dataclass(frozen=True)
class SeedZoneArgs:
    """The private Route 53 zone of a DR pair's seed names. The primary site creates it with its VPC
    (`zone_id` None); the DR site associates its own VPC with the primary's zone (`zone_id`, read
    from the primary's outputs), so the primary reads nothing from the DR site."""

    environment: str
    zone_name: str
    vpc_id: pulumi.Input[str]
    zone_id: pulumi.Input[str] | None = None


class SeedZone(pulumi.ComponentResource):
    def __init__(self, name: str, args: SeedZoneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-infra:dataplane:SeedZone", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.zone_id is None:
            zone = route53.Zone(
                f"{name}-zone",
                name=args.zone_name,
                comment=f"ScyllaDB seeds of the DR pair of {args.environment} (private)",
                vpcs=[route53.ZoneVpcArgs(vpc_id=args.vpc_id)],
                tags={"Environment": args.environment, "Name": args.zone_name},
                # The DR site adds its VPC with a ZoneAssociation: the zone keeps it (AWS provider
                # docs, aws_route53_zone_association: ignore changes to the zone's vpc blocks).
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["vpcs"]),
            )
            self.zone_id: pulumi.Output[str] = zone.zone_id
        else:
            association = route53.ZoneAssociation(
                f"{name}-association", zone_id=args.zone_id, vpc_id=args.vpc_id, opts=child
            )
            self.zone_id = association.zone_id
        self.register_outputs({"zone_id": self.zone_id, "zone_name": args.zone_name})
