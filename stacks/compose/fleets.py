"""The module fleets of one colour: gamma, then beta handing off to gamma's load balancer, then alpha
handing off to beta's and serving the ingest load balancer (staging and prod-dr build them in the
environment stack; prod-blue and prod-green through stacks/compose/fleet_colour.py)."""

from __future__ import annotations

from typing import Any

import pulumi

from components.network.settings import NetworkSettings
from lib.capacity import load_plan
from stacks.contract import FleetNetwork
from stacks.settings import StackSettings
from stacks.sizing import fleet_sizing


# Built last by build_fleets in this program run (the environment's traffic switch reads them).
def source_ports(settings: StackSettings) -> tuple[int, ...]:
    """The source adapter ports alpha listens on: the environment's network.source_ports, or the
    settings default for a colour stack (which has no network section)."""
    if settings.network is not None:
        return tuple(settings.network.source_ports)
    return tuple(NetworkSettings.model_fields["source_ports"].default_factory())  # type: ignore[misc]


def _module_input(value: Any, module: str) -> Any:
    """fleet_security_group_ids[module], from a dict or an Output of one; () when absent."""
    if value is None:
        return []
    if isinstance(value, dict):
        sg = value.get(module)
        return [sg] if sg is not None else []
    return pulumi.Output.from_input(value).apply(
        lambda d: [d[module]] if isinstance(d, dict) and d.get(module) else []
    )


def _optional_list(value: Any) -> Any:
    if value is None:
        return None
    return pulumi.Output.from_input(value).apply(lambda v: [v] if v else None)


def _logs_key(colour: str, region: pulumi.Input[str], environment: str) -> Any:
    """The customer managed key of this colour's fleet log groups (CloudWatch Logs of this account
    and region only, lib/aws/key_policy.py's logs policy)."""
    from pulumi_aws.get_caller_identity import get_caller_identity

    from lib.aws.key_policy import logs_key_policy
    from lib.aws.kms import customer_key

    account = get_caller_identity().account_id
    policy = pulumi.Output.from_input(region).apply(lambda r: logs_key_policy(account_id=account, region=r))
    return customer_key(
        f"fleets-{colour}-logs",
        f"pipeline-infra {environment} {colour}: fleet log groups",
        tags={"Environment": environment, "Colour": colour},
        policy=policy,
        opts=pulumi.ResourceOptions(),
    )


def fleet_image(ami_id: str) -> str:
    """The AMI id the fleets boot: fleets.ami_id itself, or the id a dated Debian public parameter holds
    in the stack's region (read at preview and `up` with ssm:GetParameter; the parameter of a dated
    release is never overwritten, so every run reads the same id until the setting is bumped). The
    parameter is a String: its value is read as plain (insecure_value), not as a secret in the diff."""
    from components.fleet.settings import AMI_ID

    if AMI_ID.match(ami_id):
        return ami_id
    import pulumi_aws.ssm as ssm

    return ssm.get_parameter(name=ami_id).insecure_value


def build_fleets(settings: StackSettings, network: FleetNetwork) -> dict[str, Any]:
    """The fleets reach Kafka and PostgreSQL through the environment's endpoints meant for them
    (network.kafka_fleet_bootstrap, network.postgres_fleet_endpoint): never an in-cluster name."""
    from components.fleet.component import Fleet, FleetArgs

    assert settings.fleets is not None
    fleets = settings.fleets
    colour = fleets.colour
    sized = fleet_sizing(settings)
    plan = load_plan()
    sgs = network.fleet_security_group_ids
    ingest_sg = _optional_list(network.ingest_lb_security_group_id)
    # Security groups of the internal handoff load balancers ({"beta": sg, "gamma": sg}), when the
    # environment exports them; without, those load balancers have none (client IPs preserved).
    handoff_sgs = network.handoff_lb_security_group_ids
    logs_key = _logs_key(colour, network.region, settings.environment)
    image = fleet_image(str(fleets.ami_id))  # load_settings: required on AWS
    built: dict[str, Fleet] = {}
    for module in ("gamma", "beta", "alpha"):
        if module not in fleets.modules:
            continue
        downstream = {"alpha": "beta", "beta": "gamma"}.get(module)
        handoff = built[downstream].endpoint if downstream in built else None
        ports = source_ports(settings) if module == "alpha" else (fleets.handoff_port,)
        built[module] = Fleet(
            f"{module}-{colour}",
            FleetArgs(
                module=module,
                colour=colour,
                environment=settings.environment,
                sizing=sized[module],
                data_volume=plan.modules[module].data_volume,
                params=getattr(fleets.params, module).model_dump(),
                artifact_version=fleets.artifact_version,
                artifact_sha256=fleets.artifact_sha256.get(module),
                ami_id=image,
                listen_ports=ports,
                health_port=fleets.health_port,
                metrics_port=fleets.metrics_port,
                region=network.region,
                vpc_id=network.vpc_id,
                subnet_ids=network.private_subnet_ids,
                public_subnet_ids=network.public_subnet_ids,
                internet_facing=network.public_ingest if module == "alpha" else False,
                artifact_bucket=network.artifact_bucket,
                backup_bucket=network.backup_bucket,
                kms_key_arn=network.kms_key_arn,
                ebs_kms_key_arn=network.ebs_kms_key_arn,
                otlp_endpoint=network.otlp_endpoint,
                security_group_ids=_module_input(sgs, module),
                lb_security_group_ids=ingest_sg
                if module == "alpha"
                else (_module_input(handoff_sgs, module) if handoff_sgs is not None else None),
                handoff_target=handoff,
                kafka_bootstrap_servers=network.kafka_fleet_bootstrap,
                database_endpoint=network.postgres_fleet_endpoint,
                log_kms_key_arn=logs_key.arn,
                log_archive_streams=network.log_archive_streams,
                log_subscription_role_arn=network.log_subscription_role_arn,
            ),
        )
    outputs: dict[str, Any] = {
        "colour": colour,
        "fleet_sizes": {
            m: {"min": s.min, "desired": s.desired, "max": s.max, "instance_type": s.instance_type}
            for m, s in sized.items()
        },
    }
    alpha = built.get("alpha")
    if alpha is not None:
        outputs["ingest_lb_dns_name"] = alpha.load_balancer.dns_name
        outputs["ingest_lb_zone_id"] = alpha.load_balancer.zone_id
        outputs["ingest_lb_arn_suffix"] = alpha.load_balancer.arn_suffix
        outputs["ingest_target_group_arn_suffix"] = alpha.target_groups[0].arn_suffix
    else:
        outputs |= {
            "ingest_lb_dns_name": "",
            "ingest_lb_zone_id": "",
            "ingest_lb_arn_suffix": "",
            "ingest_target_group_arn_suffix": "",
        }
    for module, fleet in built.items():
        outputs[f"{module}_group_name"] = fleet.group.name
        outputs[f"{module}_endpoint"] = fleet.endpoint
    return outputs
