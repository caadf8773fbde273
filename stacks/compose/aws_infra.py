"""The foundation of an AWS environment stack (staging, prod, prod-dr): network, EKS cluster (or an
existing cluster from a secret kubeconfig), backup and artifact buckets, and the DR peering."""

from __future__ import annotations

import pulumi
from pulumi_aws.get_availability_zones import get_availability_zones
from pulumi_aws.get_caller_identity import get_caller_identity

from components.backups.archive import LogArchive, LogArchiveArgs
from components.backups.component import Backups, BackupsArgs
from components.fleet.settings import FleetSettings
from components.network.component import Network, NetworkArgs
from components.network.flows import FLEET_MODULES, HANDOFF_LBS, FleetPorts
from lib.kube.target import NAMESPACES, BackupTarget, KubeTarget
from stacks.contract import AwsInfra, FleetNetwork
from stacks.references import stack_reference
from stacks.settings import PROJECT, SettingsError, StackSettings


def fleet_ports(fleets: FleetSettings | None) -> FleetPorts:
    """The fleets' ports: from the stack's fleets section, or FleetSettings' defaults where the fleets
    are separate colour stacks (prod). One place, so that the security groups and the fleets agree."""
    if fleets is not None:
        return FleetPorts(fleets.handoff_port, fleets.health_port, fleets.metrics_port)
    fields = FleetSettings.model_fields
    return FleetPorts(
        int(fields["handoff_port"].default),
        int(fields["health_port"].default),
        int(fields["metrics_port"].default),
    )

def _zones(settings: StackSettings) -> tuple[str, ...]:
    """The first az_count availability zones of the region (zones that need no opt-in)."""
    assert settings.network is not None
    found = get_availability_zones(
        state="available", filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}]
    ).names
    wanted = settings.network.az_count
    if len(found) < wanted:
        raise SettingsError(
            f"Pulumi.{pulumi.get_stack()}.yaml",
            f"{PROJECT}:network.az_count",
            f"region {settings.region} offers {len(found)} availability zones ({', '.join(found)}); "
            f"az_count must be at most {len(found)} (got {wanted})",
        )
    return tuple(sorted(found)[:wanted])


def build_aws_infra(settings: StackSettings) -> AwsInfra:
    net_settings, cluster_settings, backup_settings = settings.network, settings.cluster, settings.backups
    if net_settings is None or cluster_settings is None or backup_settings is None or settings.region is None:
        raise ValueError("an AWS environment needs region, network, cluster and backups settings")
    env, region = settings.environment, settings.region
    zones = _zones(settings)
    dr = settings.dr
    account_id = get_caller_identity().account_id

    network = Network(
        f"{env}-network",
        NetworkArgs(
            settings=net_settings,
            environment=env,
            region=region,
            zones=zones,
            ports=fleet_ports(settings.fleets),
            peer_cidr=dr.peer_cidr if dr is not None else None,
            account_id=account_id,
        ),
    )
    data_plane_sg = network.security_group_ids["data-plane"]
    assert network.ebs_key is not None  # with an account id, the network declares the EBS key
    ebs_key_arn = network.ebs_key.arn

    # log groups of the security class (seed 003 Log Retention: VPC flow logs, EKS audit)
    security_groups: list[tuple[str, pulumi.Input[str]]] = [("flow-logs", network.flow_log_group.name)]
    existing = settings.kubernetes.kubeconfig if settings.kubernetes is not None else None
    if existing is not None:
        # An existing cluster: only a provider from the secret kubeconfig; no IRSA.
        from pulumi_kubernetes.provider import Provider as KubernetesProvider

        assert settings.kubernetes is not None
        provider = KubernetesProvider(
            f"{env}-k8s", kubeconfig=pulumi.Output.secret(existing.get_secret_value())
        )
        kube = KubeTarget(
            provider=provider, storage_class=settings.kubernetes.storage_class, zones=zones, region=region
        )
    else:
        from components.cluster.component import EksCluster, EksClusterArgs
        from components.cluster.spec import STORAGE_CLASS

        cluster = EksCluster(
            f"{env}-cluster",
            EksClusterArgs(
                settings=cluster_settings,
                environment=env,
                region=region,
                vpc_id=network.vpc.id,
                private_subnet_ids=network.private_subnet_ids,
                data_plane_security_group_id=data_plane_sg,
                log_retention_days=net_settings.flow_logs_retention_days,
                log_kms_key_arn=network.logs_key.arn if network.logs_key is not None else None,
                account_id=account_id,
                namespaces=tuple(NAMESPACES.values()),
                volumes_key_arn=ebs_key_arn,
            ),
        )
        kube = KubeTarget(
            provider=cluster.provider,
            storage_class=STORAGE_CLASS,
            zones=zones,
            region=region,
            depends_on=(*cluster.node_groups.values(), cluster.ebs_csi, cluster.storage_class),
            irsa_role=cluster.irsa_role,
        )
        pulumi.export("cluster_name", cluster.cluster.name)
        security_groups.append(("eks", cluster.log_group.name))

    backups = Backups(
        f"{env}-backups",
        BackupsArgs(settings=backup_settings, environment=env, region=region, account_id=account_id),
    )
    backup_target = BackupTarget(
        bucket=backups.backup_bucket,
        region=region,
        irsa_role=backups.prefix_role_factory(kube.irsa_role),
        audit_bucket=backups.audit_bucket,
        audit_writer=backups.audit_writer_factory(kube.irsa_role),
    )
    # the cold tier of the logs: security groups here, the fleets' groups in the fleet components
    archive = LogArchive(
        f"{env}-log-archive",
        LogArchiveArgs(environment=env, region=region, account_id=account_id, key=backups.key),
    )
    for source, group in security_groups:
        archive.subscribe(f"{env}-{source}-archive", group, "security")
    pulumi.export("log_archive_bucket", archive.bucket_name)

    if dr is not None and dr.site == "dr":
        from components.network.peering import VpcPeering, VpcPeeringArgs

        peer = stack_reference(dr.peer_stack)
        peering = VpcPeering(
            f"{env}-peering",
            VpcPeeringArgs(
                environment=env,
                vpc_id=network.vpc.id,
                vpc_cidr=net_settings.cidr,
                route_table_ids=[t.id for t in network.private_route_tables],
                peer_stack=dr.peer_stack,
                peer_vpc_id=peer.require_output("vpc_id"),
                peer_vpc_cidr=peer.require_output("vpc_cidr"),
                peer_route_table_ids=peer.require_output("private_route_table_ids"),
                peer_region=dr.peer_region,
                peer_cidr=dr.peer_cidr,
                account_id=account_id,
            ),
        )
        pulumi.export("vpc_peering_connection_id", peering.connection.id)

    # Beside the contract's ENVIRONMENT_OUTPUTS (exported by the composition from FleetNetwork).
    pulumi.export("private_route_table_ids", network.private_route_table_ids)
    pulumi.export("backup_bucket_region", region)
    pulumi.export("audit_bucket", backups.audit_bucket)
    if backups.replica_region is not None:
        pulumi.export("backup_replica_region", backups.replica_region)
        pulumi.export("backup_replica_bucket", backups.replicas["backups"].bucket.bucket)
        pulumi.export("backup_replica_kms_key_arn", backups.replica_key.arn)

    fleet_network = FleetNetwork(
        environment=env,
        region=region,
        vpc_id=network.vpc.id,
        vpc_cidr=network.vpc.cidr_block,
        private_subnet_ids=network.private_subnet_ids,
        public_subnet_ids=network.public_subnet_ids,
        artifact_bucket=backups.artifact_bucket,
        backup_bucket=backups.backup_bucket,
        kms_key_arn=backups.key.arn,
        ebs_kms_key_arn=ebs_key_arn,
        data_plane_security_group_id=data_plane_sg,
        otlp_endpoint="",  # the observability composition fills it in
        fleet_security_group_ids={m: network.security_group_ids[m] for m in FLEET_MODULES},
        ingest_lb_security_group_id=network.security_group_ids["ingest-lb"],
        handoff_lb_security_group_ids={m: network.security_group_ids[lb] for m, lb in HANDOFF_LBS.items()},
        public_ingest=settings.network.public_ingest,
        log_archive_streams=archive.stream_arns,
        log_subscription_role_arn=archive.subscription_role.arn,
    )
    return AwsInfra(network=fleet_network, kube=kube, backups=backup_target)
