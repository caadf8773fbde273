"""The EKS cluster of an AWS environment: control plane (secrets envelope-encrypted with a KMS key,
control-plane logs), managed node groups per data service, IRSA (OIDC provider), the EBS CSI driver
add-on, the encrypted gp3 default StorageClass and the Kubernetes provider the data plane uses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws.cloudwatch as cloudwatch
import pulumi_aws.ec2 as ec2
import pulumi_aws.eks as eks
import pulumi_aws.iam as iam
import pulumi_kubernetes.rbac.v1 as rbac
import pulumi_kubernetes.storage.v1 as storage
from pulumi_kubernetes.provider import Provider as KubernetesProvider

from components.cluster.settings import ClusterSettings
from components.cluster.spec import (
    CONTROL_PLANE_LOGS,
    EBS_CSI_SERVICE_ACCOUNT,
    PREVIEW_CLUSTER_ROLE,
    PREVIEW_GROUP,
    STORAGE_CLASS,
    access_policies,
    kubeconfig,
    node_group_labels,
    node_group_taints,
    preview_rules,
    role_arn,
)
from lib.aws.iam import irsa_trust_policy, service_trust_policy
from lib.aws.key_policy import eks_secrets_key_policy
from lib.aws.kms import customer_key
from lib.versions import EBS_CSI_ADDON_VERSION, EKS_VERSION

_MANAGED = "arn:aws:iam::aws:policy/"
_NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
)


@dataclass(frozen=True)
class EksClusterArgs:
    settings: ClusterSettings
    environment: str
    region: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[Sequence[str]]
    data_plane_security_group_id: pulumi.Input[str]
    log_retention_days: int = 180  # seed 003 Log Retention, Security: warm 180 days
    log_kms_key_arn: pulumi.Input[str] | None = None  # encrypts the control-plane log group
    # The account of the deployer and preview roles (their access entries); the namespaces the
    # preview role may dry-run into.
    account_id: str = ""
    namespaces: tuple[str, ...] = ()
    # The environment's EBS key: the nodes' root volumes and the data plane's (StorageClass, EBS CSI).
    volumes_key_arn: pulumi.Input[str] = ""
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.settings.node_groups:
            raise ValueError("the cluster needs at least one node group")
        if self.log_retention_days < 1:
            raise ValueError("log_retention_days must be positive")
        if not self.account_id:
            raise ValueError("account_id: the account of the deployer's access entry")
        if not self.volumes_key_arn:
            raise ValueError("volumes_key_arn: the environment's EBS key")

    @property
    def cluster_name(self) -> str:
        return f"pipeline-{self.environment}"

    @property
    def version(self) -> str:
        return self.settings.version or EKS_VERSION


class EksCluster(pulumi.ComponentResource):
    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-infra:cluster:EksCluster", name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        tags = {"Environment": args.environment, **args.tags}
        self._tags = tags

        # Control plane.
        self.cluster_role = iam.Role(
            f"{name}-cluster",
            assume_role_policy=service_trust_policy("eks.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        # Envelope encryption of Kubernetes secrets: a key only EKS and the cluster role may use. The
        # volumes use the environment's EBS key (args.volumes_key_arn).
        self.secrets_key = customer_key(
            f"{name}-secrets",
            f"{args.cluster_name}: Kubernetes secrets envelope encryption",
            tags=tags,
            policy=self.cluster_role.arn.apply(
                lambda role: eks_secrets_key_policy(
                    account_id=args.account_id, region=args.region, cluster_role_arn=role
                )
            ),
            opts=child,
        )
        cluster_attach = iam.RolePolicyAttachment(
            f"{name}-cluster",
            role=self.cluster_role.name,
            policy_arn=_MANAGED + "AmazonEKSClusterPolicy",
            opts=child,
        )
        self.log_group = cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_kms_key_arn,
            tags=tags,
            opts=child,
        )
        self.cluster = eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            version=args.version,
            role_arn=self.cluster_role.arn,
            vpc_config={
                "subnet_ids": args.private_subnet_ids,
                "endpoint_private_access": True,
                "endpoint_public_access": args.settings.endpoint_public,
                **(
                    {"public_access_cidrs": args.settings.endpoint_public_cidrs}
                    if args.settings.endpoint_public
                    else {}
                ),
            },
            # Who may use the API is declared below (access entries); the creator gets nothing implicit,
            # so the deployer role's entry is in state and a second entry cannot collide with it.
            access_config={
                "authentication_mode": "API",
                "bootstrap_cluster_creator_admin_permissions": False,
            },
            encryption_config={"provider": {"key_arn": self.secrets_key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=list(CONTROL_PLANE_LOGS),
            tags=tags,
            # protected: a replacement or destroy would take the data plane and its volumes' claims
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[cluster_attach, self.log_group], protect=True
            ),
        )
        self.cluster_security_group_id = self.cluster.vpc_config.apply(_cluster_sg)

        # Nodes: one managed node group per data service, placed by label (and taint).
        self.node_role = iam.Role(
            f"{name}-node",
            assume_role_policy=service_trust_policy("ec2.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        node_attach = [
            iam.RolePolicyAttachment(
                f"{name}-node-{policy}", role=self.node_role.name, policy_arn=_MANAGED + policy, opts=child
            )
            for policy in _NODE_POLICIES
        ]
        self.node_groups: dict[str, eks.NodeGroup] = {}
        for group, ng in args.settings.node_groups.items():
            template = ec2.LaunchTemplate(
                f"{name}-{group}",
                description=f"{args.cluster_name} {group} nodes",
                block_device_mappings=[
                    {
                        "device_name": "/dev/xvda",
                        "ebs": {
                            "volume_size": ng.disk_gib,
                            "volume_type": "gp3",
                            "encrypted": "true",
                            "kms_key_id": args.volumes_key_arn,
                            "delete_on_termination": "true",
                        },
                    }
                ],
                # IMDSv2 only; hop limit 2 lets the EBS CSI node plugin read instance metadata.
                metadata_options={
                    "http_endpoint": "enabled",
                    "http_tokens": "required",
                    "http_put_response_hop_limit": 2,
                },
                vpc_security_group_ids=[self.cluster_security_group_id, args.data_plane_security_group_id],
                tag_specifications=[
                    {"resource_type": "instance", "tags": {**tags, "Name": f"{args.cluster_name}-{group}"}}
                ],
                update_default_version=True,
                tags=tags,
                opts=child,
            )
            self.node_groups[group] = eks.NodeGroup(
                f"{name}-{group}",
                cluster_name=self.cluster.name,
                node_role_arn=self.node_role.arn,
                subnet_ids=args.private_subnet_ids,
                instance_types=[ng.instance_type],
                ami_type="AL2023_x86_64_STANDARD",
                capacity_type="ON_DEMAND",
                scaling_config={"min_size": ng.min, "desired_size": ng.desired, "max_size": ng.max},
                update_config={"max_unavailable": 1},
                labels=node_group_labels(group),
                taints=node_group_taints(group),
                launch_template={"id": template.id, "version": template.latest_version.apply(str)},
                tags={**tags, "pipeline-infra/workload": group},
                opts=pulumi.ResourceOptions(parent=self, depends_on=node_attach, protect=True),
            )

        # IRSA: the cluster's OIDC issuer as an IAM identity provider.
        self.oidc_issuer = self.cluster.identities.apply(_issuer)
        self.oidc_provider = iam.OpenIdConnectProvider(
            f"{name}-oidc", url=self.oidc_issuer, client_id_lists=["sts.amazonaws.com"], tags=tags, opts=child
        )

        # EBS CSI driver (managed add-on) with its own role, allowed to use the volumes key.
        namespace, service_account = EBS_CSI_SERVICE_ACCOUNT
        self.ebs_csi_role = self._irsa_role(
            "ebs-csi",
            namespace,
            service_account,
            pulumi.Output.from_input(args.volumes_key_arn).apply(_kms_for_ebs_policy),
        )
        ebs_attach = iam.RolePolicyAttachment(
            f"{name}-ebs-csi",
            role=self.ebs_csi_role.name,
            policy_arn=_MANAGED + "service-role/AmazonEBSCSIDriverPolicy",
            opts=child,
        )
        self.ebs_csi = eks.Addon(
            f"{name}-ebs-csi",
            cluster_name=self.cluster.name,
            addon_name="aws-ebs-csi-driver",
            addon_version=EBS_CSI_ADDON_VERSION,
            service_account_role_arn=self.ebs_csi_role.arn,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ebs_attach, *self.node_groups.values()]),
        )

        # Access entries: the deployer (cluster admin) and the CI preview role (dry runs), each with the
        # least access policy it needs (spec.access_policies).
        deployer_arn = role_arn(args.account_id, args.settings.deployer_role)
        preview_arn = (
            role_arn(args.account_id, args.settings.preview_role) if args.settings.preview_role else None
        )
        self.access_entries: dict[str, eks.AccessEntry] = {}
        for who, arn in (("deployer", deployer_arn), ("preview", preview_arn)):
            if arn is None:
                continue
            self.access_entries[who] = eks.AccessEntry(
                f"{name}-{who}",
                cluster_name=self.cluster.name,
                principal_arn=arn,
                type="STANDARD",
                kubernetes_groups=[PREVIEW_GROUP] if who == "preview" else None,
                tags=tags,
                opts=child,
            )
        self.access_policies: dict[str, list[eks.AccessPolicyAssociation]] = {"deployer": [], "preview": []}
        for assoc in access_policies(
            deployer_arn=deployer_arn, preview_arn=preview_arn, namespaces=args.namespaces
        ):
            who = "deployer" if assoc["principal"] == deployer_arn else "preview"
            self.access_policies[who].append(
                eks.AccessPolicyAssociation(
                    f"{name}-{who}-{assoc['policy'].rsplit('/', 1)[-1]}",
                    cluster_name=self.cluster.name,
                    principal_arn=self.access_entries[who].principal_arn,
                    policy_arn=assoc["policy"],
                    access_scope=assoc["scope"],
                    opts=child,
                )
            )
        deployer_access = self.access_policies["deployer"]

        # Kubernetes provider from a generated kubeconfig (`aws eks get-token`: no stored credentials).
        self.kubeconfig = pulumi.Output.all(
            self.cluster.name,
            self.cluster.endpoint,
            self.cluster.certificate_authority,
        ).apply(lambda a: kubeconfig(cluster_name=a[0], endpoint=a[1], ca_data=_ca(a[2]), region=args.region))
        # Every Kubernetes resource waits, through its provider, for the deployer's cluster admin access.
        self.provider = KubernetesProvider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self, depends_on=deployer_access),
        )
        if preview_arn is not None:
            on_cluster = pulumi.ResourceOptions(parent=self, provider=self.provider)
            preview_role = rbac.ClusterRole(
                f"{name}-preview-dry-run",
                metadata={"name": PREVIEW_CLUSTER_ROLE},
                rules=preview_rules(),
                opts=on_cluster,
            )
            rbac.ClusterRoleBinding(
                f"{name}-preview-dry-run",
                metadata={"name": PREVIEW_CLUSTER_ROLE},
                role_ref={
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": preview_role.metadata.name,
                },
                subjects=[{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": PREVIEW_GROUP}],
                opts=on_cluster,
            )

        # Encrypted gp3 default StorageClass; volumes survive their claims (data plane).
        self.storage_class = storage.StorageClass(
            f"{name}-gp3",
            metadata={
                "name": STORAGE_CLASS,
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            provisioner="ebs.csi.aws.com",
            parameters={
                "type": "gp3",
                "encrypted": "true",
                "kmsKeyId": args.volumes_key_arn,
                "csi.storage.k8s.io/fstype": "xfs",
            },
            reclaim_policy="Retain",
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[self.ebs_csi]),
        )

        self.register_outputs(
            {
                "cluster_name": self.cluster.name,
                "endpoint": self.cluster.endpoint,
                "oidc_provider_arn": self.oidc_provider.arn,
                "storage_class": STORAGE_CLASS,
                "node_groups": {g: ng.id for g, ng in self.node_groups.items()},
            }
        )

    # --- IRSA ---------------------------------------------------------------------------------------
    def _irsa_role(
        self, role_name: str, namespace: str, service_account: str, policy_json: pulumi.Input[str]
    ) -> iam.Role:
        trust = pulumi.Output.all(self.oidc_provider.arn, self.oidc_issuer).apply(
            lambda a: irsa_trust_policy(
                provider_arn=a[0], issuer=a[1], namespace=namespace, service_account=service_account
            )
        )
        role = iam.Role(
            f"{self._name}-irsa-{role_name}",
            assume_role_policy=trust,
            description=f"IRSA: {namespace}/{service_account}",
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        iam.RolePolicy(
            f"{self._name}-irsa-{role_name}",
            role=role.id,
            policy=policy_json,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return role

    def irsa_role(
        self, role_name: str, namespace: str, service_account: str, policy_json: pulumi.Input[str]
    ) -> pulumi.Output[str]:
        """KubeTarget.irsa_role: a role only `namespace/service_account` can assume; returns its ARN."""
        return self._irsa_role(role_name, namespace, service_account, policy_json).arn


def _cluster_sg(vpc_config: object) -> str:
    value = (
        vpc_config.get("cluster_security_group_id")
        if isinstance(vpc_config, dict)
        else getattr(vpc_config, "cluster_security_group_id", None)
    )
    return value  # type: ignore[return-value]


def _issuer(identities: object) -> str:
    first = identities[0]  # type: ignore[index]
    oidcs = first["oidcs"] if isinstance(first, dict) else first.oidcs
    oidc = oidcs[0]
    return oidc["issuer"] if isinstance(oidc, dict) else oidc.issuer


def _ca(authority: object) -> str:
    return authority["data"] if isinstance(authority, dict) else authority.data  # type: ignore[union-attr]


def _kms_for_ebs_policy(key_arn: str) -> str:
    """What the EBS CSI driver needs of a customer managed key (AWS EBS CSI docs, KMS encryption)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                    "Resource": key_arn,
                    "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:DescribeKey",
                    ],
                    "Resource": key_arn,
                },
            ],
        }
    )
