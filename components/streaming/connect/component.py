"""Kafka Connect on Kubernetes with Strimzi: the Connect cluster built with the CDC plugins, and the
scylla-source and postgres-sink KafkaConnectors. Manifests and connector configs are pure
(`components.streaming.connect.manifests`, `components.streaming.connect.config`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta

from components.streaming.connect import manifests as cm
from components.streaming.connect.config import (
    SINK_NAME,
    SOURCE_NAME,
    sink_connector_config,
    source_connector_config,
)
from components.streaming.kafka.manifests import API as KAFKA_API
from components.streaming.spec import StreamingSpec
from lib.kube.resources import custom_resource
from lib.kube.target import KubeTarget


def ecr_push_policy(repository_arn: str) -> str:
    """What the image build pod may do: push to this one repository (and get a login token)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Resource": repository_arn,
                    "Action": [
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:BatchGetImage",
                        "ecr:CompleteLayerUpload",
                        "ecr:GetDownloadUrlForLayer",
                        "ecr:InitiateLayerUpload",
                        "ecr:PutImage",
                        "ecr:UploadLayerPart",
                    ],
                },
            ],
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class KafkaConnectArgs:
    settings: StreamingSpec
    kube: KubeTarget
    operator: pulumi.Resource  # the Strimzi Helm release
    namespace: str
    scylla_contact_points: str
    scylla_datacenter: str
    postgres_jdbc_url: str
    postgres_sink_user: str
    postgres_sink_password: pulumi.Input[str]
    schema_registry_url: str
    depends_on: tuple[pulumi.Resource, ...] = field(default_factory=tuple)  # Kafka, users, topics, ...
    # tags of the AWS resources the component creates (the image repository): at least Environment
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        c = self.settings.connect
        if c.image_repository is None and self.kube.irsa_role is None:
            raise ValueError(
                "connect.image_repository (and connect.push_secret) must be set on a cluster without IRSA: "
                "the Connect image build pushes to that registry"
            )


class KafkaConnect(pulumi.ComponentResource):
    """KafkaConnect with `build` (Scylla CDC source, Debezium JDBC sink, Avro converter) and the two
    KafkaConnectors; the sink's password reaches the workers as a mounted Secret read by the
    DirectoryConfigProvider, never as connector configuration."""

    def __init__(self, name: str, args: KafkaConnectArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-infra:streaming:KafkaConnect", name, None, opts)
        s, kube, ns = args.settings, args.kube, args.namespace

        def child(*deps: pulumi.Resource) -> pulumi.ResourceOptions:
            return kube.options(self, args.operator, *args.depends_on, *deps)

        sink_secret = core.Secret(
            f"{name}-sink-credentials",
            metadata=meta.ObjectMetaArgs(name=f"{SINK_NAME}-credentials", namespace=ns),
            type="Opaque",
            string_data={"password": pulumi.Output.secret(args.postgres_sink_password)},
            opts=child(),
        )
        build_deps: list[pulumi.Resource] = [sink_secret]

        # Where the build pushes the image: an ECR repository of this stack (IRSA for the build pod),
        # or the registry the settings name (with their push secret).
        push_secret: str | None = s.connect.push_secret
        role_arn: pulumi.Input[str] | None = None
        if s.connect.image_repository is not None:
            repository: pulumi.Input[str] = s.connect.image_repository
        else:
            import pulumi_aws.ecr as ecr

            assert kube.irsa_role is not None
            repo = ecr.Repository(
                f"{name}-image",
                image_tag_mutability="MUTABLE",  # Strimzi rebuilds the same tag when the spec changes
                image_scanning_configuration=ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS")],
                tags=dict(args.tags) or None,
                opts=pulumi.ResourceOptions(parent=self),
            )
            repository = repo.repository_url
            role_arn = kube.irsa_role(
                f"{name}-build", ns, cm.build_service_account(), repo.arn.apply(ecr_push_policy)
            )
            # The build (Kaniko) reads /kaniko/.docker/config.json from the push secret: no password in
            # it, only "use the ECR credential helper", which signs in with the pod's IAM role.
            push_secret = f"{cm.CONNECT_CLUSTER}-push"
            build_deps.append(
                core.Secret(
                    f"{name}-push",
                    metadata=meta.ObjectMetaArgs(name=push_secret, namespace=ns),
                    type="kubernetes.io/dockerconfigjson",
                    string_data={".dockerconfigjson": json.dumps({"credsStore": "ecr-login"})},
                    opts=child(),
                )
            )

        placement = KubeTarget.placement("platform")
        connect_manifest = pulumi.Output.all(repository, role_arn).apply(
            lambda a: cm.kafka_connect(
                s,
                namespace=ns,
                image_repository=a[0],
                push_secret=push_secret,
                sink_secret=f"{SINK_NAME}-credentials",
                placement=placement,
                build_role_arn=a[1],
            )
        )
        self.connect = custom_resource(
            f"{name}-connect",
            connect_manifest,
            child(*build_deps),
            api_version=KAFKA_API,
            kind="KafkaConnect",
        )

        state = cm.connector_state(s)
        source = source_connector_config(
            s, contact_points=args.scylla_contact_points, schema_registry_url=args.schema_registry_url
        )
        # Prefer this site's datacenter for the CDC log reads (the DR site is a second datacenter).
        source["scylla.local.dc"] = args.scylla_datacenter
        sink = sink_connector_config(
            s,
            jdbc_url=args.postgres_jdbc_url,
            username=args.postgres_sink_user,
            password=cm.SINK_PASSWORD_REF,
            schema_registry_url=args.schema_registry_url,
        )
        self.connectors: dict[str, Any] = {
            n: custom_resource(
                f"{name}-{n}",
                cm.kafka_connector(n, config=cfg, state=state, namespace=ns),
                child(self.connect),
            )
            for n, cfg in ((SOURCE_NAME, source), (SINK_NAME, sink))
        }
        self.register_outputs(
            {"connect_cluster": cm.CONNECT_CLUSTER, "connector_state": state, "image_repository": repository}
        )
