"""The observability stack on Kubernetes: kube-prometheus-stack, the pipeline's PrometheusRule,
monitors of the data plane, dashboards, Alertmanager keys and Grafana admin from Pulumi secrets, EC2
service discovery of the fleets (IRSA, ec2:DescribeInstances only), and tracing (OpenTelemetry
operator + a Jaeger v2 collector behind an internal NLB)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes.apiextensions as apiextensions
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as networking
import pulumi_random as random
from pydantic import SecretStr

from components.observability import manifests, network
from components.observability.alertmanager import SECRET_FILES
from components.observability.settings import ObservabilitySettings
from lib import versions
from lib.kube.helm import helm_release
from lib.kube.resources import custom_resource
from lib.kube.target import NAMESPACES, KubeTarget


@dataclass(frozen=True)
class ObservabilityArgs:
    settings: ObservabilitySettings
    kube: KubeTarget
    environment: str
    # Alertmanager receiver secrets by file name (alertmanager.SECRET_FILES): Pulumi secrets from the
    # stack's config (SecretStr) or secret Outputs (read from AWS Secrets Manager at deploy time).
    receiver_secrets: dict[str, SecretStr | pulumi.Output[str]]
    metrics_port: int = 9100
    # The modules' own /metrics (their health/admin port) and the fleets' traffic state (the
    # `traffic` label the fleet alerts select): the colours receiving traffic, or a DR standby.
    module_metrics_port: int = 8080
    active_colours: tuple[str, ...] = ("blue", "green")
    standby: bool = False
    namespace: str = field(default=NAMESPACES["observability"])
    # The site's network (network.cidr): the NetworkPolicies admit the Kubernetes API, the nodes and
    # the fleets from it. Empty: no NetworkPolicies.
    vpc_cidrs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        missing = sorted(set(SECRET_FILES) - set(self.receiver_secrets))
        if missing:
            raise ValueError(f"receiver_secrets: missing {missing}")
        if not 1024 <= self.metrics_port <= 65535:
            raise ValueError("metrics_port must be from 1024 to 65535")


class Observability(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pipeline-infra:observability:Observability", name, None, opts)
        kube, s, ns = args.kube, args.settings, args.namespace

        def child(*deps: pulumi.Resource) -> pulumi.ResourceOptions:
            return kube.options(self, *deps)

        self.namespace = core.Namespace(
            f"{name}-ns", metadata=meta.ObjectMetaArgs(name=ns, labels=dict(manifests.PART_OF)), opts=child()
        )

        # --- secrets: Alertmanager keys and the Grafana admin, Pulumi secrets only -----------------------
        self.receivers = core.Secret(
            f"{name}-alertmanager-receivers",
            metadata=meta.ObjectMetaArgs(
                name=manifests.ALERTMANAGER_SECRET, namespace=ns, labels=dict(manifests.PART_OF)
            ),
            type="Opaque",
            string_data={
                key: pulumi.Output.secret(value.get_secret_value() if isinstance(value, SecretStr) else value)
                for key, value in args.receiver_secrets.items()
            },
            opts=child(self.namespace),
        )
        self.grafana_password = random.RandomPassword(
            f"{name}-grafana-admin", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        self.grafana_admin = core.Secret(
            f"{name}-grafana-admin",
            metadata=meta.ObjectMetaArgs(
                name=manifests.GRAFANA_ADMIN_SECRET, namespace=ns, labels=dict(manifests.PART_OF)
            ),
            type="Opaque",
            string_data={
                "admin-user": "pipeline-admin",
                "admin-password": pulumi.Output.secret(self.grafana_password.result),
            },
            opts=child(self.namespace),
        )

        # --- EC2 service discovery of the fleets: IRSA role allowed ec2:DescribeInstances only ------------
        self.prometheus_role_arn: pulumi.Output[str] | None = None
        if kube.irsa_role is not None:
            self.prometheus_role_arn = kube.irsa_role(
                "prometheus-ec2-sd", ns, manifests.PROMETHEUS_SA, manifests.ec2_discovery_policy()
            )

        values = manifests.kube_prometheus_stack_values(
            s,
            namespace=ns,
            environment=args.environment,
            region=kube.region,
            storage_class=kube.storage_class,
            metrics_port=args.metrics_port,
            prometheus_role_arn=self.prometheus_role_arn,
            module_port=args.module_metrics_port,
            active_colours=args.active_colours,
            standby=args.standby,
        )
        self.stack = helm_release(
            f"{name}-kube-prometheus-stack",
            versions.KUBE_PROMETHEUS_STACK,
            ns,
            values,
            child(self.namespace, self.receivers, self.grafana_admin),
            "kube-prometheus-stack",
        )

        # --- rules, monitors, dashboards ----------------------------------------------------------------
        def custom(
            resource_name: str, manifest: dict, *deps: pulumi.Resource
        ) -> apiextensions.CustomResource:
            return custom_resource(resource_name, manifest, child(*(deps or (self.stack,))))

        self.rules = custom(f"{name}-rules", manifests.prometheus_rule(name="pipeline-alerts", namespace=ns))
        self.monitors: list[apiextensions.CustomResource] = [
            custom(f"{name}-{m['metadata']['name']}", m)
            for m in [
                *manifests.strimzi_pod_monitors(namespace=ns, kafka_namespace=NAMESPACES["kafka"]),
                manifests.scylla_service_monitor(namespace=ns, scylla_namespace=NAMESPACES["scylla"]),
                manifests.schema_registry_service_monitor(
                    namespace=ns, registry_namespace=NAMESPACES["kafka"]
                ),
            ]
        ]
        dashboards = manifests.dashboards_configmap(ns)
        self.dashboards = core.ConfigMap(
            f"{name}-dashboards",
            metadata=dashboards["metadata"],
            data=dashboards["data"],
            opts=child(self.namespace),
        )

        # --- tracing --------------------------------------------------------------------------------------
        self.otlp_endpoint: pulumi.Output[str] = pulumi.Output.from_input("")
        if s.tracing:
            self.otel_operator = helm_release(
                f"{name}-opentelemetry-operator",
                versions.OPENTELEMETRY_OPERATOR,
                ns,
                manifests.opentelemetry_operator_values(),
                child(self.namespace),
                "opentelemetry-operator",
            )
            self.collector = custom(
                f"{name}-jaeger",
                manifests.jaeger_collector(namespace=ns, storage_class=kube.storage_class),
                self.otel_operator,
            )
            svc = manifests.otlp_service(namespace=ns)
            self.otlp_service = core.Service(
                f"{name}-otlp",
                metadata=svc["metadata"],
                spec=svc["spec"],
                opts=child(self.namespace, self.otel_operator),
            )
            self.otlp_endpoint = self.otlp_service.status.apply(_otlp_endpoint)

        # --- network policies: default deny and the monitoring stack's flows ---------------------------
        self.network_policies = [
            networking.NetworkPolicy(
                f"{name}-netpol-{m['metadata']['name']}",
                metadata=m["metadata"],
                spec=m["spec"],
                opts=child(self.namespace),
            )
            for m in (
                network.observability_policies(ns, vpc_cidrs=args.vpc_cidrs, tracing=s.tracing)
                if args.vpc_cidrs
                else []
            )
        ]

        self.register_outputs(
            {
                "otlp_endpoint": self.otlp_endpoint,
                "namespace": ns,
                "prometheus_role_arn": self.prometheus_role_arn,
            }
        )


def _otlp_endpoint(status: object) -> str:
    ingress = (
        ((status or {}).get("load_balancer") or (status or {}).get("loadBalancer") or {})
        if isinstance(status, dict)
        else getattr(getattr(status, "load_balancer", None), "ingress", None)
    )
    if isinstance(ingress, dict):
        ingress = ingress.get("ingress")
    first = (ingress or [None])[0]
    host = (
        (first.get("hostname") or first.get("ip"))
        if isinstance(first, dict)
        else (getattr(first, "hostname", None) or getattr(first, "ip", None))
    )
    return f"http://{host}:{manifests.OTLP_GRPC}" if host else ""
