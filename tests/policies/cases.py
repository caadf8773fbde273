"""One passing resource per rule, and violating variants that each change one field of it (policy
figures pinned to the seeds through policies/baseline.json). `computed` names the inputs a preview of
a new stack cannot know (ids and names of resources still to be created): the preview mode sends them
unknown, and the rule must still decide on the field it checks."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

DELETE = object()
PROJECT = "pipeline-infra"


def urn(stack: str, typ: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{typ}::{name}"


def mutate(props: dict, path: str | tuple, value: Any) -> dict:
    """A copy of props with one field set (or deleted); a tuple path keeps dotted keys whole."""
    out = copy.deepcopy(props)
    parts = (
        list(path)
        if isinstance(path, tuple)
        else [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]
    )
    node = out
    for p in parts[:-1]:
        node = node[p]
    if value is DELETE:
        del node[parts[-1]]
    else:
        node[parts[-1]] = value
    return out


@dataclass
class Case:
    rule: str
    type: str
    name: str
    props: dict
    bad: list[tuple[str, Any]]
    computed: tuple[str, ...] = ()
    stack: str = "prod"
    options: dict = field(default_factory=dict)
    bad_options: list[dict] = field(default_factory=list)

    @property
    def urn(self) -> str:
        return urn(self.stack, self.type, self.name)


LT = "aws:ec2/launchTemplate:LaunchTemplate"
ASG = "aws:autoscaling/group:Group"
DEPLOY = "kubernetes:apps/v1:Deployment"
SECURE_CONTAINER = {
    "name": "app",
    "image": "docker.io/library/app@sha256:" + "a" * 64,
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "128Mi"}},
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    },
    "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
}
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "app", "namespace": "kafka"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "x"}},
        "template": {
            "metadata": {"labels": {"app": "x"}},
            "spec": {
                "containers": [SECURE_CONTAINER],
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 10001,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
            },
        },
    },
}
C = "spec.template.spec.containers[0]"
TLS_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
)
ASG_PROPS = {
    "minSize": 3,
    "desiredCapacity": 4,
    "maxSize": 9,  # seed 003 alpha production: 3 reserved, 4, 12-month 9
    "defaultInstanceWarmup": 300,
    "healthCheckGracePeriod": 300,
    "initialLifecycleHooks": [
        {
            "name": "drain",
            "lifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
            "heartbeatTimeout": 60,
            "defaultResult": "CONTINUE",
        }
    ],
    "instanceRefresh": {
        "strategy": "Rolling",
        "preferences": {"instanceWarmup": "300", "checkpointDelay": "300", "minHealthyPercentage": 100},
    },
    "launchTemplate": {"id": "lt-1", "version": "1"},
    "vpcZoneIdentifiers": ["subnet-1"],
    "tags": [
        {"key": "Environment", "value": "prod", "propagateAtLaunch": True},
        {"key": "Module", "value": "alpha", "propagateAtLaunch": True},
        {"key": "Colour", "value": "blue", "propagateAtLaunch": True},
    ],
}

CASES: list[Case] = [
    Case(
        "ebs-encrypted",
        LT,
        "alpha-blue-lt",
        {
            "blockDeviceMappings": [
                {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": "k"}}
            ],
            "metadataOptions": {"httpTokens": "required"},
            "userData": "x",
            "vpcSecurityGroupIds": ["sg"],
        },
        [("blockDeviceMappings[0].ebs.encrypted", "false"), ("blockDeviceMappings[0].ebs.encrypted", DELETE)],
        computed=("userData", "vpcSecurityGroupIds"),
    ),
    Case(
        "s3-encrypted-with-kms",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "prod-backups-backups",
        {
            "bucket": "b",
            "rules": [
                {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:k"}}
            ],
        },
        [
            ("rules[0].applyServerSideEncryptionByDefault.sseAlgorithm", "AES256"),
            ("rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId", DELETE),
            ("rules", []),
        ],
        computed=("bucket",),
    ),
    Case(
        "eks-secrets-encrypted",
        "aws:eks/cluster:Cluster",
        "prod-cluster-eks",
        {
            "name": "pipeline-prod",
            "roleArn": "r",
            "encryptionConfig": {"provider": {"keyArn": "k"}, "resources": ["secrets"]},
            "enabledClusterLogTypes": ["audit"],
        },
        [
            ("encryptionConfig", DELETE),
            ("encryptionConfig.resources", []),
            ("encryptionConfig.provider.keyArn", ""),
        ],
        computed=("roleArn",),
    ),
    Case(
        "log-group-encrypted",
        "aws:cloudwatch/logGroup:LogGroup",
        "prod-cluster-control-plane",
        {"name": "/aws/eks/x", "kmsKeyId": "arn:k", "retentionInDays": 90, "tags": {"Environment": "prod"}},
        [("kmsKeyId", DELETE)],
    ),
    Case(
        "kms-key-rotation",
        "aws:kms/key:Key",
        "prod-backups-key",
        {"enableKeyRotation": True, "deletionWindowInDays": 30, "tags": {"Environment": "prod"}},
        [("enableKeyRotation", False), ("enableKeyRotation", DELETE)],
    ),
    Case(
        "ecr-scan-and-kms",
        "aws:ecr/repository:Repository",
        "kafka-connect-image",
        {
            "imageScanningConfiguration": {"scanOnPush": True},
            "encryptionConfigurations": [{"encryptionType": "KMS"}],
            "imageTagMutability": "IMMUTABLE",
            "tags": {"Environment": "prod"},
        },
        [
            ("imageScanningConfiguration.scanOnPush", False),
            ("encryptionConfigurations", DELETE),
            ("encryptionConfigurations[0].encryptionType", "AES256"),
        ],
    ),
    Case(
        "ecr-tags-immutable",
        "aws:ecr/repository:Repository",
        "kafka-connect-image",
        {
            "imageScanningConfiguration": {"scanOnPush": True},
            "encryptionConfigurations": [{"encryptionType": "KMS"}],
            "imageTagMutability": "IMMUTABLE",
            "tags": {"Environment": "prod"},
        },
        [("imageTagMutability", "MUTABLE")],
    ),
    Case(
        "imdsv2-required",
        LT,
        "alpha-blue-lt",
        {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2}, "userData": "x"},
        [("metadataOptions.httpTokens", "optional"), ("metadataOptions.httpPutResponseHopLimit", 3)],
        computed=("userData",),
    ),
    Case(
        "no-public-ip",
        LT,
        "alpha-blue-lt",
        {
            "networkInterfaces": [{"associatePublicIpAddress": "false", "securityGroups": ["sg"]}],
            "metadataOptions": {"httpTokens": "required"},
            "userData": "x",
        },
        [("networkInterfaces[0].associatePublicIpAddress", "true")],
        computed=("userData",),
    ),
    Case(
        "no-world-ingress",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "prod-network-ingest-lb-in-0-0-0-0-0-8443",
        {
            "cidrIpv4": "0.0.0.0/0",
            "fromPort": 8443,
            "toPort": 8443,
            "ipProtocol": "tcp",
            "description": "public ingest listener for sources on the internet",
            "securityGroupId": "sg-1",
        },
        [("fromPort", 22), ("description", "ssh"), ("ipProtocol", "-1")],
        computed=("securityGroupId",),
    ),
    Case(
        "s3-public-access-blocked",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "prod-backups-audit",
        {
            "bucket": "b",
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        },
        [("blockPublicAcls", False), ("restrictPublicBuckets", DELETE)],
        computed=("bucket",),
    ),
    Case(
        "s3-tls-only",
        "aws:s3/bucketPolicy:BucketPolicy",
        "prod-backups-audit",
        {"bucket": "b", "policy": TLS_POLICY},
        [
            ("policy", TLS_POLICY.replace('"false"', '"true"')),
            ("policy", TLS_POLICY.replace('"Deny"', '"Allow"')),
            ("policy", TLS_POLICY.replace('"arn:aws:s3:::b/*"', '"arn:aws:s3:::b"')),
        ],
        computed=("bucket",),
    ),
    Case(
        "s3-versioning",
        "aws:s3/bucketVersioning:BucketVersioning",
        "prod-backups-backups",
        {"bucket": "b", "versioningConfiguration": {"status": "Enabled"}},
        [("versioningConfiguration.status", "Suspended")],
        computed=("bucket",),
    ),
    Case(
        "s3-acls-disabled",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "prod-backups-backups",
        {"bucket": "b", "rule": {"objectOwnership": "BucketOwnerEnforced"}},
        [("rule.objectOwnership", "ObjectWriter")],
        computed=("bucket",),
    ),
    # seed 003 Backup Classifications: state 7 days, database full 30 days, incremental 7 days.
    Case(
        "s3-backup-retention",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "prod-backups-backups",
        {
            "bucket": "b",
            "rules": [
                {
                    "id": "module-state",
                    "status": "Enabled",
                    "filter": {"prefix": "state/"},
                    "expiration": {"days": 7},
                },
                {
                    "id": "database-full",
                    "status": "Enabled",
                    "filter": {"prefix": "database/full/"},
                    "expiration": {"days": 30},
                },
                {
                    "id": "database-incremental",
                    "status": "Enabled",
                    "filter": {"prefix": "database/incremental/"},
                    "expiration": {"days": 7},
                },
            ],
        },
        [
            ("rules[1].expiration.days", 14),
            ("rules[0].filter.prefix", "states/"),
            ("rules[2].status", "Disabled"),
        ],
        computed=("bucket",),
    ),
    # seed 003 Log Retention: audit logs 7 years, immutable.
    Case(
        "s3-audit-object-lock",
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "prod-backups-audit",
        {
            "bucket": "b",
            "objectLockEnabled": "Enabled",
            "rule": {"defaultRetention": {"mode": "COMPLIANCE", "years": 7}},
        },
        [("rule.defaultRetention.mode", "GOVERNANCE"), ("rule.defaultRetention.years", 1)],
        computed=("bucket",),
    ),
    Case(
        "stateful-protected",
        "aws:s3/bucket:Bucket",
        "prod-backups-audit",
        {
            "bucketPrefix": "prod-audit-",
            "objectLockEnabled": True,
            "tags": {"Environment": "prod", "Purpose": "audit-logs"},
        },
        [],
        options={"protect": True},
        bad_options=[{}, {"protect": False}],
    ),
    Case(
        "kafka-replication",
        "kubernetes:kafka.strimzi.io/v1:Kafka",
        "kafka-kafka",
        {
            "apiVersion": "kafka.strimzi.io/v1",
            "kind": "Kafka",
            "metadata": {"name": "pipeline", "namespace": "kafka"},
            "spec": {
                "kafka": {
                    "config": {
                        "default.replication.factor": 3,
                        "min.insync.replicas": 2,
                        "offsets.topic.replication.factor": 3,
                        "transaction.state.log.replication.factor": 3,
                        "transaction.state.log.min.isr": 2,
                    }
                }
            },
        },
        [
            (("spec", "kafka", "config", "default.replication.factor"), 1),
            (("spec", "kafka", "config", "min.insync.replicas"), 1),
            (("spec", "kafka", "config", "offsets.topic.replication.factor"), DELETE),
        ],
    ),
    Case(
        "scylla-replication",
        "kubernetes:core/v1:ConfigMap",
        "scylla-schema",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "scylla-schema", "namespace": "scylla"},
            "data": {
                "schema.cql": "CREATE KEYSPACE IF NOT EXISTS app_data WITH replication = "
                "{'class': 'NetworkTopologyStrategy', 'us-east-1': 3, 'us-west-2': 3};"
            },
        },
        [
            (
                ("data", "schema.cql"),
                "CREATE KEYSPACE a WITH replication = {'class': 'NetworkTopologyStrategy', 'us-east-1': 1};",
            ),
            (
                ("data", "schema.cql"),
                "CREATE KEYSPACE a WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3};",
            ),
        ],
    ),
    Case(
        "cnpg-instances",
        "kubernetes:postgresql.cnpg.io/v1:Cluster",
        "postgres-cluster",
        {
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "Cluster",
            "metadata": {"name": "warehouse", "namespace": "postgres"},
            "spec": {
                "instances": 3,
                "plugins": [{"name": "barman-cloud.cloudnative-pg.io"}],
                "imageName": "ghcr.io/cloudnative-pg/postgresql@sha256:" + "b" * 64,
                "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
            },
        },
        [("spec.instances", 1)],
    ),
    Case(
        "datastore-backup-schedule",
        "kubernetes:scylla.scylladb.com/v1:ScyllaCluster",
        "scylla-cluster",
        {
            "apiVersion": "scylla.scylladb.com/v1",
            "kind": "ScyllaCluster",
            "metadata": {"name": "scylla", "namespace": "scylla"},
            "spec": {
                "backups": [{"name": "daily-backup", "cron": "0 1 * * *", "location": ["s3:b"]}],
                "datacenter": {"name": "us-east-1", "racks": []},
            },
        },
        [("spec.backups", []), ("spec.backups[0].cron", DELETE), ("spec.backups[0].location", [])],
    ),
    Case(
        "fleet-capacity",
        ASG,
        "alpha-blue-asg",
        ASG_PROPS,
        [("minSize", 2), ("maxSize", 8), ("desiredCapacity", 3)],
        computed=("launchTemplate", "vpcZoneIdentifiers"),
    ),
    Case(
        "fleet-drain",
        ASG,
        "alpha-blue-asg",
        ASG_PROPS,
        [("initialLifecycleHooks[0].heartbeatTimeout", 30), ("initialLifecycleHooks", [])],
        computed=("launchTemplate", "vpcZoneIdentifiers"),
    ),
    Case(
        "fleet-stabilisation",
        ASG,
        "alpha-blue-asg",
        ASG_PROPS,
        [
            ("defaultInstanceWarmup", 60),
            ("instanceRefresh.preferences.checkpointDelay", "60"),
            ("instanceRefresh.preferences.minHealthyPercentage", 90),
        ],
        computed=("launchTemplate", "vpcZoneIdentifiers"),
    ),
    Case(
        "required-tags",
        "aws:ec2/vpc:Vpc",
        "prod-network-vpc",
        {"cidrBlock": "10.10.0.0/16", "tags": {"Environment": "prod", "Name": "prod-network-vpc"}},
        [("tags.Environment", DELETE), ("tags", DELETE)],
    ),
    Case(
        "fleet-tags",
        ASG,
        "alpha-blue-asg",
        ASG_PROPS,
        [("tags", ASG_PROPS["tags"][:2])],
        computed=("launchTemplate", "vpcZoneIdentifiers"),
    ),
    Case(
        "k8s-requests-limits",
        DEPLOY,
        "app",
        DEPLOYMENT,
        [(f"{C}.resources.limits", DELETE), (f"{C}.resources.requests.cpu", DELETE)],
    ),
    Case(
        "k8s-run-as-non-root",
        DEPLOY,
        "app",
        DEPLOYMENT,
        [(f"{C}.securityContext.runAsNonRoot", False), ("spec.template.spec.securityContext.runAsUser", 0)],
    ),
    Case(
        "k8s-no-privilege-escalation",
        DEPLOY,
        "app",
        DEPLOYMENT,
        [
            (f"{C}.securityContext.allowPrivilegeEscalation", True),
            (f"{C}.securityContext.allowPrivilegeEscalation", DELETE),
        ],
    ),
    Case(
        "k8s-drop-all-capabilities",
        DEPLOY,
        "app",
        DEPLOYMENT,
        [
            (f"{C}.securityContext.capabilities.drop", []),
            (f"{C}.securityContext.capabilities.add", ["SYS_ADMIN"]),
        ],
    ),
    Case(
        "k8s-seccomp",
        DEPLOY,
        "app",
        DEPLOYMENT,
        [
            ("spec.template.spec.securityContext.seccompProfile", DELETE),
            ("spec.template.spec.securityContext.seccompProfile.type", "Unconfined"),
        ],
    ),
    Case(
        "k8s-no-host-access",
        DEPLOY,
        "app",
        DEPLOYMENT,
        [
            ("spec.template.spec.hostNetwork", True),
            (f"{C}.securityContext.privileged", True),
            ("spec.template.spec.volumes", [{"name": "h", "hostPath": {"path": "/"}}]),
        ],
    ),
    Case(
        "k8s-read-only-root",
        DEPLOY,
        "app",
        DEPLOYMENT,
        [(f"{C}.securityContext.readOnlyRootFilesystem", False)],
    ),
    Case("images-pinned-by-digest", DEPLOY, "app", DEPLOYMENT, [(f"{C}.image", "docker.io/library/app:1.0")]),
    # A waived repository (policies/waivers.yaml) not pinned: advisory, with the waiver's reason.
    Case(
        "images-pinned-by-digest-waived",
        DEPLOY,
        "app",
        DEPLOYMENT,
        [(f"{C}.image", "docker.io/library/postgres:15.14-bookworm")],
    ),
    Case(
        "grafana-credentials",
        "kubernetes:helm.sh/v3:Release",
        "observability-kube-prometheus-stack",
        {
            "chart": "kube-prometheus-stack",
            "namespace": "observability",
            "values": {
                "grafana": {
                    "admin": {"existingSecret": "grafana-admin"},
                    "grafana.ini": {"auth.anonymous": {"enabled": False}},
                }
            },
        },
        [
            ("values.grafana.admin", DELETE),
            ("values.grafana.adminPassword", "prom-operator"),
            (("values", "grafana", "grafana.ini", "auth.anonymous", "enabled"), True),
        ],
    ),
    Case(
        "alert-runbooks",
        "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
        "observability-rules",
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": "pipeline-alerts", "namespace": "observability"},
            "spec": {
                "groups": [
                    {
                        "name": "g",
                        "rules": [
                            {
                                "alert": "alpha_ingestion_stopped",
                                "expr": "x",
                                "annotations": {"runbook": "runbook-alpha-ingestion-stopped"},
                            }
                        ],
                    }
                ]
            },
        },
        [
            ("spec.groups[0].rules[0].annotations.runbook", ""),
            ("spec.groups[0].rules[0].annotations.runbook", "runbook-something-else"),
        ],
    ),
    Case(
        "no-plaintext-credentials",
        DEPLOY,
        "app",
        DEPLOYMENT,
        [
            (f"{C}.env", [{"name": "DB_PASSWORD", "value": "hunter2"}]),
            (f"{C}.args", ["--url=postgres://app:hunter2@db:5432/app"]),
            ("metadata.annotations", {"api-token": "abc"}),
        ],
    ),
]
