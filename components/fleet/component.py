"""Fleet: one module's instances of one colour (seed 003 Module Alpha/Beta/Gamma Deployment).

Launch template (module shape, the Debian 12 AMI pinned in fleets.ami_id, IMDSv2 required,
encrypted root and data volumes with the environment's KMS key, least-privilege instance profile,
cloud-init user data), an Auto Scaling group over the private subnets sized from capacity-plan.yaml
(min = reserved baseline, desired = sized, max = 12-month projection), target tracking on CPU, ELB
health checks, an instance refresh paced by the seed's stabilisation, a termination lifecycle hook
for draining, and the module's network load balancer: alpha's is the ingest load balancer (a listener
per source port), beta's and gamma's are internal handoff load balancers on the handoff port, so that
alpha reaches beta and beta reaches gamma through a stable name.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws.autoscaling as autoscaling
import pulumi_aws.cloudwatch as cloudwatch
import pulumi_aws.ec2 as ec2
import pulumi_aws.iam as iam
import pulumi_aws.lb as lb
from pulumi_aws.get_caller_identity import get_caller_identity_output

from components.fleet import credentials
from components.fleet.cloud_init import DATA_DEVICE, CloudInitSpec, agent_key, node_exporter_key
from components.fleet.cloud_init import user_data as render_user_data
from components.fleet.profile import (
    HEALTH_PATH,
    MODULES,
    drain_seconds,
    profile,
    refresh_checkpoints,
    refresh_max_healthy,
)
from components.fleet.settings import AMI_ID
from lib import logs, versions
from lib.aws.iam import service_trust_policy
from lib.capacity import DataVolume, ModuleSizing, load_plan

# The root device name of Debian's AMIs (the image is fleets.ami_id: Debian 12, x86_64; every shape of
# capacity-plan.yaml is an Intel instance type).
ROOT_DEVICE = "/dev/xvda"
ROOT_VOLUME_GIB = 30
MANAGED_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
)


@dataclass(frozen=True)
class FleetArgs:
    module: str
    colour: str
    environment: str
    sizing: ModuleSizing
    data_volume: DataVolume
    params: dict[str, int | float | bool | str]
    artifact_version: str
    artifact_sha256: str | None
    ami_id: str
    listen_ports: tuple[int, ...]  # alpha: the source ports; beta, gamma: the handoff port
    health_port: int
    metrics_port: int
    region: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]
    artifact_bucket: pulumi.Input[str]
    backup_bucket: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    otlp_endpoint: pulumi.Input[str]
    # The environment's EBS key (its policy lets Auto Scaling use it): both volumes of the template.
    ebs_kms_key_arn: pulumi.Input[str] | None = None
    security_group_ids: pulumi.Input[Sequence[str]] = ()
    # Alpha only: an internet-facing ingest load balancer in these subnets (network.public_ingest).
    public_subnet_ids: pulumi.Input[Sequence[str]] = ()
    internet_facing: pulumi.Input[bool] = False
    lb_security_group_ids: pulumi.Input[Sequence[str]] | None = None
    handoff_target: pulumi.Input[str] | None = None
    kafka_bootstrap_servers: pulumi.Input[str] | None = None
    # host:port of the environment's PostgreSQL endpoint for the fleets (the Pooler's load balancer)
    database_endpoint: pulumi.Input[str] | None = None
    # the customer managed key of the fleet's log groups (None: CloudWatch's own encryption)
    log_kms_key_arn: pulumi.Input[str] | None = None
    # the environment's log archive (seed 003 Log Retention, cold tier): {log class: Firehose stream
    # ARN} and the role CloudWatch Logs delivers as; None: the groups are not archived
    log_archive_streams: pulumi.Input[dict[str, str]] | None = None
    log_subscription_role_arn: pulumi.Input[str] | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.module not in MODULES:
            raise ValueError(f"unknown module {self.module!r}; allowed: {', '.join(MODULES)}")
        if self.colour not in ("blue", "green"):
            raise ValueError(f"colour must be blue or green (got {self.colour!r})")
        s = self.sizing
        if s.module != self.module:
            raise ValueError(f"sizing is of {s.module}, not {self.module}")
        if not 0 <= s.min <= s.desired <= s.max or s.max < 1:
            raise ValueError(f"needs 0 <= min <= desired <= max, max >= 1 (got {s.min}/{s.desired}/{s.max})")
        if not self.listen_ports or any(not 1 <= p <= 65535 for p in self.listen_ports):
            raise ValueError(f"listen_ports must be TCP ports (got {self.listen_ports})")
        if self.health_port in self.listen_ports:
            raise ValueError("the health port must differ from the traffic ports")
        if not AMI_ID.match(self.ami_id):
            raise ValueError(f"ami_id must match ami-[0-9a-f]{{8,17}} (got {self.ami_id!r})")
        if self.data_volume.type == "io2" and not self.data_volume.iops:
            raise ValueError("an io2 data volume needs provisioned iops")

    @property
    def drain(self) -> int:
        return drain_seconds(
            self.module,
            int(self.params["ACK_WAIT_TIMEOUT_MS"]) if "ACK_WAIT_TIMEOUT_MS" in self.params else None,
        )


class Fleet(pulumi.ComponentResource):
    def __init__(self, name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pipeline-infra:fleet:Fleet", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        p = profile(args.module)
        s = args.sizing
        drain = args.drain
        tags = {**args.tags, "Environment": args.environment, "Module": args.module, "Colour": args.colour}

        # --- instance profile: read its artifacts, write its state backups, SSM, CloudWatch -------
        assume = service_trust_policy("ec2.amazonaws.com")
        self.role = iam.Role(f"{name}-role", assume_role_policy=assume, tags=tags, opts=child)
        account = get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self)).account_id
        policy = pulumi.Output.all(
            args.artifact_bucket, args.backup_bucket, args.kms_key_arn, args.region, account
        ).apply(
            lambda v: instance_policy(
                args.module,
                artifact_bucket=v[0],
                backup_bucket=v[1],
                kms_key_arn=v[2],
                credentials_arns=credentials_arns(args.environment, args.module, region=v[3], account=v[4]),
            )
        )
        iam.RolePolicy(f"{name}-access", role=self.role.id, policy=policy, opts=child)
        for i, arn in enumerate(MANAGED_POLICIES):
            iam.RolePolicyAttachment(f"{name}-managed-{i}", role=self.role.name, policy_arn=arn, opts=child)
        self.instance_profile = iam.InstanceProfile(
            f"{name}-profile", role=self.role.name, tags=tags, opts=child
        )

        # --- load balancer: ingest (alpha) or handoff (beta, gamma) -------------------------------
        kind = "ingest" if args.module == "alpha" else "handoff"
        facing = pulumi.Output.from_input(args.internet_facing if args.module == "alpha" else False)
        self.load_balancer = lb.LoadBalancer(
            f"{name}-nlb",
            load_balancer_type="network",
            internal=facing.apply(lambda public: not public),
            subnets=pulumi.Output.all(facing, args.public_subnet_ids, args.subnet_ids).apply(
                lambda a: list(a[1]) if a[0] else list(a[2])
            ),
            security_groups=args.lb_security_group_ids,
            enable_cross_zone_load_balancing=True,
            tags={**tags, "Role": kind},
            opts=child,
        )
        self.target_groups: list[lb.TargetGroup] = []
        for port in args.listen_ports:
            tg = lb.TargetGroup(
                f"{name}-tg-{port}",
                port=port,
                protocol="TCP",
                target_type="instance",
                vpc_id=args.vpc_id,
                deregistration_delay=drain,
                connection_termination=True,
                health_check=lb.TargetGroupHealthCheckArgs(
                    protocol="HTTP",
                    port=str(args.health_port),
                    path=HEALTH_PATH,
                    matcher="200",
                    interval=10,
                    timeout=5,
                    healthy_threshold=3,
                    unhealthy_threshold=3,
                ),
                tags=tags,
                opts=child,
            )
            lb.Listener(
                f"{name}-listener-{port}",
                load_balancer_arn=self.load_balancer.arn,
                port=port,
                protocol="TCP",
                default_actions=[lb.ListenerDefaultActionArgs(type="forward", target_group_arn=tg.arn)],
                tags=tags,
                opts=child,
            )
            self.target_groups.append(tg)
        self.endpoint = pulumi.Output.concat(self.load_balancer.dns_name, f":{args.listen_ports[0]}")

        # --- launch template ----------------------------------------------------------------------
        user_data = pulumi.Output.all(
            args.region,
            args.artifact_bucket,
            args.backup_bucket,
            args.otlp_endpoint,
            args.handoff_target,
            args.kafka_bootstrap_servers,
            args.database_endpoint,
        ).apply(
            lambda v: base64.b64encode(
                render_user_data(
                    CloudInitSpec(
                        module=args.module,
                        environment=args.environment,
                        colour=args.colour,
                        region=v[0],
                        params=dict(args.params),
                        artifact_bucket=v[1],
                        artifact_version=args.artifact_version,
                        artifact_sha256=args.artifact_sha256,
                        backup_bucket=v[2],
                        otlp_endpoint=v[3],
                        handoff_target=v[4],
                        kafka_bootstrap_servers=v[5],
                        database_endpoint=v[6],
                        listen_ports=args.listen_ports,
                        health_port=args.health_port,
                        metrics_port=args.metrics_port,
                        drain_seconds=drain,
                        node_exporter_version=versions.NODE_EXPORTER_VERSION,
                        node_exporter_sha256=versions.NODE_EXPORTER_SHA256,
                        agent_version=versions.CLOUDWATCH_AGENT_VERSION,
                        agent_sha256=versions.CLOUDWATCH_AGENT_SHA256,
                    )
                )
            ).decode()
        )
        vol = args.data_volume
        self.launch_template = ec2.LaunchTemplate(
            f"{name}-lt",
            description=f"pipeline {args.module} ({p.role}) {args.environment} {args.colour}",
            image_id=args.ami_id,
            instance_type=s.instance_type,
            iam_instance_profile=ec2.LaunchTemplateIamInstanceProfileArgs(arn=self.instance_profile.arn),
            vpc_security_group_ids=args.security_group_ids,
            metadata_options=ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
                instance_metadata_tags="enabled",
            ),
            block_device_mappings=[
                ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ROOT_DEVICE,
                    ebs=ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=ROOT_VOLUME_GIB,
                        volume_type="gp3",
                        encrypted="true",
                        kms_key_id=args.ebs_kms_key_arn,
                        delete_on_termination="true",
                    ),
                ),
                ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=DATA_DEVICE,
                    ebs=ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=vol.size_gib,
                        volume_type=vol.type,
                        iops=vol.iops,
                        encrypted="true",
                        kms_key_id=args.ebs_kms_key_arn,
                        delete_on_termination="true",
                    ),
                ),
            ],
            monitoring=ec2.LaunchTemplateMonitoringArgs(enabled=True),
            user_data=user_data,
            update_default_version=True,
            tag_specifications=[
                ec2.LaunchTemplateTagSpecificationArgs(resource_type=rt, tags={**tags, "Name": name})
                for rt in ("instance", "volume")
            ],
            tags=tags,
            opts=child,
        )

        # --- Auto Scaling group -------------------------------------------------------------------
        self.group = autoscaling.Group(
            f"{name}-asg",
            vpc_zone_identifiers=args.subnet_ids,
            min_size=s.min,
            desired_capacity=s.desired,
            max_size=s.max,
            launch_template=autoscaling.GroupLaunchTemplateArgs(
                id=self.launch_template.id,
                version=self.launch_template.latest_version.apply(str),
            ),
            target_group_arns=[tg.arn for tg in self.target_groups],
            health_check_type="ELB",
            health_check_grace_period=p.health_grace_seconds,
            default_instance_warmup=p.stabilisation_seconds,
            instance_refresh=autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=autoscaling.GroupInstanceRefreshPreferencesArgs(
                    instance_warmup=str(p.stabilisation_seconds),
                    checkpoint_percentages=refresh_checkpoints(s.desired),
                    checkpoint_delay=str(p.stabilisation_seconds),
                    min_healthy_percentage=100,
                    max_healthy_percentage=refresh_max_healthy(s.desired),
                    skip_matching=True,
                    auto_rollback=True,
                ),
            ),
            initial_lifecycle_hooks=[
                autoscaling.GroupInitialLifecycleHookArgs(
                    name="drain",
                    lifecycle_transition="autoscaling:EC2_INSTANCE_TERMINATING",
                    heartbeat_timeout=drain,
                    default_result="CONTINUE",
                )
            ],
            enabled_metrics=[
                "GroupDesiredCapacity",
                "GroupInServiceInstances",
                "GroupMinSize",
                "GroupMaxSize",
                "GroupPendingInstances",
                "GroupTerminatingInstances",
            ],
            tags=[
                autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=True)
                for k, v in sorted({**tags, "Name": name}.items())
            ],
            # Target tracking moves desired capacity between deployments; an `up` must not reset it.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desired_capacity"]),
        )
        target = round(load_plan().target_utilisation * 100, 1)
        self.scaling_policy = autoscaling.Policy(
            f"{name}-cpu",
            autoscaling_group_name=self.group.name,
            policy_type="TargetTrackingScaling",
            estimated_instance_warmup=p.stabilisation_seconds,
            target_tracking_configuration=autoscaling.PolicyTargetTrackingConfigurationArgs(
                predefined_metric_specification=autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ASGAverageCPUUtilization"
                ),
                target_value=target,
            ),
            opts=child,
        )
        # --- logs: the groups the instances' CloudWatch agent ships to (seed 003 Log Retention) --------
        self.log_groups = {
            kind: cloudwatch.LogGroup(
                f"{name}-logs-{kind}",
                name=logs.fleet_log_group(args.environment, args.colour, args.module, kind),
                retention_in_days=logs.cloudwatch_days(logs.FLEET_CLASS[kind]),
                kms_key_id=args.log_kms_key_arn,
                tags=tags,
                opts=child,
            )
            for kind in logs.FLEET_LOGS
        }
        # the cold tier: every event of a group whose class is archived to the class's stream
        self.log_archive: dict[str, cloudwatch.LogSubscriptionFilter] = {}
        if args.log_archive_streams is not None and args.log_subscription_role_arn is not None:
            streams = pulumi.Output.from_input(args.log_archive_streams)
            for kind, group in self.log_groups.items():
                log_class = logs.FLEET_CLASS[kind]
                if log_class not in logs.archived_classes():
                    continue
                self.log_archive[kind] = cloudwatch.LogSubscriptionFilter(
                    f"{name}-logs-{kind}-archive",
                    name="log-archive",
                    log_group=group.name,
                    filter_pattern="",
                    destination_arn=streams.apply(lambda d, c=log_class: d[c]),
                    role_arn=args.log_subscription_role_arn,
                    opts=child,
                )

        self.register_outputs(
            {
                "group_name": self.group.name,
                "load_balancer_dns_name": self.load_balancer.dns_name,
                "load_balancer_zone_id": self.load_balancer.zone_id,
                "endpoint": self.endpoint,
            }
        )


def credentials_arns(environment: str, module: str, *, region: str, account: str) -> list[str]:
    """The SSM parameters the module's credentials_ref names (components/fleet/credentials.py)."""
    return [
        credentials.parameter_arn(
            region=region, account=account, name=credentials.parameter(environment, module, service)
        )
        for service in credentials.services(module)
    ]


def instance_policy(
    module: str,
    *,
    artifact_bucket: str,
    backup_bucket: str,
    kms_key_arn: str,
    credentials_arns: Sequence[str] = (),
) -> str:
    """Least privilege: its own artifacts (read), its own state-backup prefix (write; read for the
    `-latest` copy and the seed's State Recovery on the instance), the key, and exactly the SSM
    parameters its credentials_ref names (SecureStrings under the account's aws/ssm key, which SSM
    decrypts for the account's principals allowed to read the parameter)."""
    import json

    doc: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadModuleArtifacts",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [
                    f"arn:aws:s3:::{artifact_bucket}/artifacts/{module}/*",
                    f"arn:aws:s3:::{artifact_bucket}/{node_exporter_key(versions.NODE_EXPORTER_VERSION)}",
                    f"arn:aws:s3:::{artifact_bucket}/{agent_key(versions.CLOUDWATCH_AGENT_VERSION)}",
                ],
            },
            {
                "Sid": "WriteModuleState",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{backup_bucket}/state/{module}/*",
            },
            {
                "Sid": "ReadModuleState",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{backup_bucket}/state/{module}/*",
            },
            # Decrypt: the encrypted volumes and artifacts; GenerateDataKey: SSE-KMS uploads.
            {
                "Sid": "UseEnvironmentKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": kms_key_arn,
            },
        ],
    }
    if credentials_arns:
        doc["Statement"].append(
            {
                "Sid": "ReadModuleCredentials",
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": sorted(credentials_arns),
            }
        )
    return json.dumps(doc, sort_keys=True)
