"""Resource rules: pure functions over one resource (policies.props.Res), each with a severity, an
enforcement level and the baseline it comes from. The offline plan (planner.report) and the tests call
them directly; the CrossGuard pack (policies/__main__.py) wraps each in a ResourceValidationPolicy.

Each check reads properties through policies.props, so it works on the analyzer's proxies (Mappings,
unknown values raising) and on the offline plan's dicts alike. An unknown value is unknown for that
field only: the rule skips what it cannot see and still checks the rest (pulumi preview of a new
resource leaves every computed input unknown).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .baseline import baseline, environment_of, is_production
from .props import (
    SECRET_MARKER,
    Res,
    dotted,
    each,
    get,
    is_unknown,
    items,
    number,
    truthy,
    walk,
)
from .waivers import image_reason

SEVERITIES = ("low", "medium", "high", "critical")
ENFORCEMENTS = ("advisory", "mandatory")

WORLD = ("0.0.0.0/0", "::/0")

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EBS_VOLUME = "aws:ebs/volume:Volume"
INSTANCE = "aws:ec2/instance:Instance"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
ASG = "aws:autoscaling/group:Group"
SCALING_POLICY = "aws:autoscaling/policy:Policy"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
SSE_V2 = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
VERSIONING_V2 = "aws:s3/bucketVersioningV2:BucketVersioningV2"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LIFECYCLE_V2 = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
OBJECT_LOCK_V2 = "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
KMS_KEY = "aws:kms/key:Key"
EKS = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ECR = "aws:ecr/repository:Repository"
SUBNET = "aws:ec2/subnet:Subnet"

K_SECRET = "kubernetes:core/v1:Secret"
K_CONFIGMAP = "kubernetes:core/v1:ConfigMap"
K_HELM = "kubernetes:helm.sh/v3:Release"
K_HELM_V4 = "kubernetes:helm.sh/v4:Chart"
K_PROM_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
KAFKA = ("kubernetes:kafka.strimzi.io/v1:Kafka", "kubernetes:kafka.strimzi.io/v1beta2:Kafka")
KAFKA_POOL = (
    "kubernetes:kafka.strimzi.io/v1:KafkaNodePool",
    "kubernetes:kafka.strimzi.io/v1beta2:KafkaNodePool",
)
KAFKA_TOPIC = ("kubernetes:kafka.strimzi.io/v1:KafkaTopic", "kubernetes:kafka.strimzi.io/v1beta2:KafkaTopic")
KAFKA_CONNECT = (
    "kubernetes:kafka.strimzi.io/v1:KafkaConnect",
    "kubernetes:kafka.strimzi.io/v1beta2:KafkaConnect",
)
KAFKA_MM2 = (
    "kubernetes:kafka.strimzi.io/v1:KafkaMirrorMaker2",
    "kubernetes:kafka.strimzi.io/v1beta2:KafkaMirrorMaker2",
)
SCYLLA = "kubernetes:scylla.scylladb.com/v1:ScyllaCluster"
CNPG = "kubernetes:postgresql.cnpg.io/v1:Cluster"
CNPG_SCHEDULED = "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup"
OTEL = "kubernetes:opentelemetry.io/v1beta1:OpenTelemetryCollector"
DOCKER_REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"

# Pod templates: where the pod spec sits in each workload kind.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
WORKLOADS = frozenset(POD_SPEC_PATHS)

# Stateful resources: deleting or replacing one loses data (review B12; seed 003 Backup and Recovery).
STATEFUL = frozenset(
    {
        BUCKET,
        BUCKET_V2,
        KMS_KEY,
        EKS,
        EBS_VOLUME,
        "docker:index/volume:Volume",
        "kubernetes:core/v1:PersistentVolumeClaim",
        SCYLLA,
        CNPG,
        *KAFKA,
        *KAFKA_POOL,
    }
)


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    severity: str
    enforcement: str
    source: str
    check: Callable[[Res], Iterable[str]]
    # resource type tokens the rule reads (None: every type)
    types: frozenset[str] | None = None
    kind: str = "resource"

    def applies(self, typ: str) -> bool:
        return self.types is None or typ in self.types

    def run(self, r: Res) -> list[str]:
        return list(self.check(r)) if self.applies(r.type) else []


# --- helpers --------------------------------------------------------------------------------------
def _env(r: Res) -> str:
    tags = get(r.props, "tags")
    env = get(tags, "Environment") if not is_unknown(tags) else None
    if env is None:
        for t in each(r.props, "tags"):
            if get(t, "key") == "Environment":
                env = get(t, "value")
    return environment_of(r.stack, env if isinstance(env, str) else None)


def _production(r: Res) -> bool:
    return is_production(_env(r))


def _tag_map(r: Res) -> dict[str, Any] | None:
    """Tags as a mapping (ASG tags are a list of {key, value}); None when unknown."""
    tags = get(r.props, "tags")
    if is_unknown(tags):
        return None
    if r.type == ASG:
        return {get(t, "key"): get(t, "value") for t in each(r.props, "tags")}
    return dict(items(tags)) if tags is not None else {}


def _is_number_at_least(value: Any, floor: float) -> bool | None:
    n = number(value)
    return None if n is None else n >= floor


def _bucket_kind(name: str) -> str | None:
    """The Backups component names every resource of a bucket <component>-<kind>
    (components/backups/component.py): backups, audit, artifacts, and their -replica copies."""
    for kind in ("backups", "audit", "artifacts"):
        if name.endswith(f"-{kind}") or name.endswith(f"-{kind}-replica"):
            return kind
    return None


def pod_spec(r: Res) -> Any:
    path = POD_SPEC_PATHS.get(r.type)
    return get(r.props, *path) if path else None


def containers(r: Res) -> list[tuple[str, Any]]:
    """(kind, container) of a workload's pod spec: containers and init containers."""
    spec = pod_spec(r)
    if spec is None or is_unknown(spec):
        return []
    out = []
    for field in ("containers", "initContainers"):
        out += [(field, c) for c in each(spec, field) if not is_unknown(c)]
    return out


def _cname(c: Any) -> str:
    name = get(c, "name")
    return name if isinstance(name, str) else "?"


# --- AWS: encryption at rest ----------------------------------------------------------------------
def _ebs_encrypted(r: Res) -> Iterator[str]:
    if r.type == LAUNCH_TEMPLATE:
        for bdm in each(r.props, "blockDeviceMappings"):
            ebs = get(bdm, "ebs")
            if ebs is None or is_unknown(ebs):
                continue
            if truthy(get(ebs, "encrypted")) is False or get(ebs, "encrypted") is None:
                yield f"block device {get(bdm, 'deviceName')} is not encrypted"
    elif (
        r.type == EBS_VOLUME
        and truthy(get(r.props, "encrypted")) is not True
        and not is_unknown(get(r.props, "encrypted"))
    ):
        yield "EBS volume is not encrypted"


def _s3_sse_kms(r: Res) -> Iterator[str]:
    rules = each(r.props, "rules")
    if not rules and not is_unknown(get(r.props, "rules")):
        yield "no server-side encryption rule"
    for rule in rules:
        default = get(rule, "applyServerSideEncryptionByDefault")
        algo = get(default, "sseAlgorithm")
        if is_unknown(algo):
            continue
        if algo not in ("aws:kms", "aws:kms:dsse"):
            yield f"sseAlgorithm is {algo!r}; buckets are encrypted with a customer-managed KMS key"
        elif get(default, "kmsMasterKeyId") in (None, ""):
            yield "aws:kms without kmsMasterKeyId uses the AWS-managed key; name the environment's CMK"


def _eks_secrets_encrypted(r: Res) -> Iterator[str]:
    config = get(r.props, "encryptionConfig")
    if is_unknown(config):
        return
    resources = get(config, "resources")
    if config is None or (not is_unknown(resources) and "secrets" not in list(each(config, "resources"))):
        yield "encryptionConfig does not envelope-encrypt Kubernetes secrets with a KMS key"
    elif get(config, "provider", "keyArn") in (None, ""):
        yield "encryptionConfig has no provider.keyArn"


def _log_group_encrypted(r: Res) -> Iterator[str]:
    if get(r.props, "kmsKeyId") in (None, ""):
        yield "log group is not encrypted with a KMS key (kmsKeyId)"


def _kms_rotation(r: Res) -> Iterator[str]:
    spec = get(r.props, "customerMasterKeySpec") or get(r.props, "keySpec")
    if isinstance(spec, str) and spec != "SYMMETRIC_DEFAULT":
        return  # rotation applies to symmetric keys only
    value = truthy(get(r.props, "enableKeyRotation"))
    if value is not True and not is_unknown(get(r.props, "enableKeyRotation")):
        yield "enableKeyRotation must be true"


def _ecr_scan(r: Res) -> Iterator[str]:
    value = truthy(get(r.props, "imageScanningConfiguration", "scanOnPush"))
    if value is not True and not is_unknown(get(r.props, "imageScanningConfiguration", "scanOnPush")):
        yield "imageScanningConfiguration.scanOnPush must be true"
    for enc in each(r.props, "encryptionConfigurations"):
        if get(enc, "encryptionType") not in ("KMS", "KMS_DSSE") and not is_unknown(
            get(enc, "encryptionType")
        ):
            yield "repository is not encrypted with KMS"
    if not each(r.props, "encryptionConfigurations") and not is_unknown(
        get(r.props, "encryptionConfigurations")
    ):
        yield "repository is not encrypted with KMS (encryptionConfigurations)"


def _ecr_immutable(r: Res) -> Iterator[str]:
    value = get(r.props, "imageTagMutability")
    if not is_unknown(value) and value not in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"):
        yield f"imageTagMutability is {value or 'MUTABLE'!r}; a pushed tag must not be overwritten"


# --- AWS: instances and network -------------------------------------------------------------------
def _imdsv2(r: Res) -> Iterator[str]:
    tokens = get(r.props, "metadataOptions", "httpTokens")
    if is_unknown(tokens):
        return
    if tokens != "required":
        yield f"metadataOptions.httpTokens must be 'required' (IMDSv2), got {tokens!r}"
    hops = number(get(r.props, "metadataOptions", "httpPutResponseHopLimit"))
    if hops is not None and hops > 2:
        yield f"metadataOptions.httpPutResponseHopLimit {int(hops)} lets containers past the node reach IMDS"


def _no_public_ip(r: Res) -> Iterator[str]:
    if r.type == LAUNCH_TEMPLATE:
        for i, nic in enumerate(each(r.props, "networkInterfaces")):
            if truthy(get(nic, "associatePublicIpAddress")) is True:
                yield f"networkInterfaces[{i}].associatePublicIpAddress is true; fleet instances stay private"
    elif r.type == INSTANCE:
        if truthy(get(r.props, "associatePublicIpAddress")) is True:
            yield "associatePublicIpAddress is true; instances stay private"
    elif r.type == SUBNET:
        tags = _tag_map(r) or {}
        tier = str(tags.get("Tier") or tags.get("Name") or "")
        if truthy(get(r.props, "mapPublicIpOnLaunch")) is True and "public" not in tier:
            yield "mapPublicIpOnLaunch is true on a subnet that is not a public tier"


def _cidrs(rule: Any) -> list[str]:
    out = [c for c in each(rule, "cidrBlocks") + each(rule, "ipv6CidrBlocks") if isinstance(c, str)]
    for key in ("cidrIpv4", "cidrIpv6"):
        value = get(rule, key)
        if isinstance(value, str) and not is_unknown(value):
            out.append(value)
    return out


def _public_ingest(r: Res, rule: Any) -> bool:
    """The configured public ingest listener (components/network/flows.py): the ingest load
    balancer's group, TCP, on one of the stacks' source ports, described as the public listener."""
    description = get(rule, "description")
    lo, hi = number(get(rule, "fromPort")), number(get(rule, "toPort"))
    return (
        "-ingest-lb-in-" in r.name
        and isinstance(description, str)
        and description.lower().startswith("public ingest listener")
        and get(rule, "ipProtocol", default=get(rule, "protocol")) in ("tcp", "6")
        and lo is not None
        and lo == hi
        and int(lo) in baseline()["public_ingest_ports"]
    )


def _no_world_ingress(r: Res) -> Iterator[str]:
    rules: list[Any] = []
    if r.type == SG:
        rules = each(r.props, "ingress")
    elif r.type == SG_INGRESS or (r.type == SG_RULE and get(r.props, "type") == "ingress"):
        rules = [r.props]
    for rule in rules:
        if is_unknown(rule) or not any(c in WORLD for c in _cidrs(rule)):
            continue
        if _public_ingest(r, rule):
            continue
        lo, hi = number(get(rule, "fromPort")), number(get(rule, "toPort"))
        ports = (
            "all ports" if lo is None else f"port {int(lo)}" + (f"-{int(hi)}" if hi not in (None, lo) else "")
        )
        yield (
            f"ingress from the internet on {ports}; only the configured public ingest listener "
            f"(ports {baseline()['public_ingest_ports']}) may be open to the world"
        )


# --- S3 -------------------------------------------------------------------------------------------
def _s3_public_access(r: Res) -> Iterator[str]:
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        value = get(r.props, flag)
        if not is_unknown(value) and truthy(value) is not True:
            yield f"{flag} must be true"


def _statements(policy: Any) -> list[Any] | None:
    if is_unknown(policy) or policy is None:
        return None
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return []
    stmts = get(policy, "Statement")
    if isinstance(stmts, Mapping):
        return [stmts]
    return each(policy, "Statement")


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [value]
    return list(each(value)) if value is not None else []


def _s3_tls_only(r: Res) -> Iterator[str]:
    stmts = _statements(get(r.props, "policy"))
    if stmts is None:
        return
    for s in stmts:
        cond = get(s, "Condition", "Bool", "aws:SecureTransport")
        actions = _as_list(get(s, "Action"))
        resources = [x for x in _as_list(get(s, "Resource")) if isinstance(x, str)]
        if (
            get(s, "Effect") == "Deny"
            and str(cond).lower() == "false"
            and ("s3:*" in actions or "*" in actions)
            and any(x.endswith("/*") for x in resources)
            and any(not x.endswith("/*") for x in resources)
        ):
            return
    yield ("bucket policy does not deny s3:* without TLS (aws:SecureTransport false) on bucket and objects")


def _s3_versioning(r: Res) -> Iterator[str]:
    status = get(r.props, "versioningConfiguration", "status")
    if not is_unknown(status) and status != "Enabled":
        yield f"versioning status is {status!r}; backups and audit logs keep versions"


def _s3_ownership(r: Res) -> Iterator[str]:
    value = get(r.props, "rule", "objectOwnership")
    if not is_unknown(value) and value != "BucketOwnerEnforced":
        yield f"objectOwnership is {value!r}; ACLs stay disabled (BucketOwnerEnforced)"


def _s3_backup_retention(r: Res) -> Iterator[str]:
    if _bucket_kind(r.name) != "backups":
        return
    wanted = {k: v for k, v in baseline()["backup_retention_days"].items() if k != "source"}
    rules = get(r.props, "rules")
    if is_unknown(rules):
        return
    found: dict[str, Any] = {}
    for rule in each(r.props, "rules"):
        prefix = get(rule, "filter", "prefix")
        if prefix is None:
            prefix = get(rule, "prefix")
        if isinstance(prefix, str) and get(rule, "status") != "Disabled":
            found[prefix] = get(rule, "expiration", "days")
    for prefix, days in wanted.items():
        got = found.get(prefix)
        if is_unknown(got):
            continue
        if got is None:
            yield f"no lifecycle rule expires {prefix} (seed retention {days} days)"
        elif number(got) != days:
            yield f"{prefix} expires after {got} days; the seed keeps it {days} days"


def _s3_audit_lock(r: Res) -> Iterator[str]:
    if r.type in (BUCKET, BUCKET_V2):
        tags = _tag_map(r) or {}
        purpose = str(tags.get("Purpose") or "")
        if (
            (purpose.startswith("audit") or _bucket_kind(r.name) == "audit")
            and truthy(get(r.props, "objectLockEnabled")) is not True
            and not is_unknown(get(r.props, "objectLockEnabled"))
        ):
            yield "audit log bucket is created without objectLockEnabled"
        return
    if _bucket_kind(r.name) != "audit":
        return
    mode = get(r.props, "rule", "defaultRetention", "mode")
    years = get(r.props, "rule", "defaultRetention", "years")
    days = number(get(r.props, "rule", "defaultRetention", "days"))
    need = baseline()["audit_lock_years"]
    if not is_unknown(mode) and mode != "COMPLIANCE":
        yield f"audit logs are locked in mode {mode!r}; the seed's retention needs COMPLIANCE"
    held = number(years) if number(years) is not None else (days / 365 if days is not None else None)
    if not is_unknown(years) and (held is None or held < need):
        yield f"audit logs are locked for {years or days} (years/days); the seed keeps them {need} years"


# --- protection of stateful resources -------------------------------------------------------------
def _protected(r: Res) -> Iterator[str]:
    if r.type == "kubernetes:core/v1:PersistentVolumeClaim" and get(r.props, "metadata", "namespace") is None:
        return
    opts = r.options
    if not (opts.get("protect") or opts.get("retainOnDelete")):
        yield (
            "stateful resource is not protected or retained on delete: a rename, replace or destroy loses it"
        )


# --- replication of production data stores --------------------------------------------------------
def _kafka_replication(r: Res) -> Iterator[str]:
    if not _production(r):
        return
    if r.type in KAFKA:
        config = get(r.props, "spec", "kafka", "config")
        if is_unknown(config):
            return
        floors = {
            "default.replication.factor": 3,
            "offsets.topic.replication.factor": 3,
            "transaction.state.log.replication.factor": 3,
            "min.insync.replicas": 2,
            "transaction.state.log.min.isr": 2,
        }
        for key, floor in floors.items():
            value = get(config, key)
            if is_unknown(value):
                continue
            if number(value) is None or number(value) < floor:
                yield f"spec.kafka.config.{key} is {value!r}; production needs at least {floor}"
    elif r.type in KAFKA_POOL:
        roles = [x for x in each(r.props, "spec", "roles") if isinstance(x, str)]
        replicas = get(r.props, "spec", "replicas")
        if "broker" in roles and _is_number_at_least(replicas, 3) is False:
            yield f"broker pool has {replicas} replicas; replication factor 3 needs at least 3 brokers"
    elif r.type in KAFKA_TOPIC:
        replicas = get(r.props, "spec", "replicas")
        if _is_number_at_least(replicas, 3) is False:
            yield f"topic has {replicas} replicas; production topics keep 3"
        isr = get(r.props, "spec", "config", "min.insync.replicas")
        if isr is not None and _is_number_at_least(isr, 2) is False:
            yield f"topic min.insync.replicas is {isr}; production needs at least 2"


_NTS = re.compile(r"replication\s*=\s*\{([^}]*)\}", re.I)


def _scylla_replication(r: Res) -> Iterator[str]:
    if not _production(r):
        return
    if r.type == SCYLLA:
        racks = each(r.props, "spec", "datacenter", "racks")
        if is_unknown(get(r.props, "spec", "datacenter", "racks")):
            return
        members = [number(get(rack, "members")) for rack in racks]
        if all(m is not None for m in members) and sum(members) < 3:  # type: ignore[misc]
            yield f"datacenter has {int(sum(members))} members; RF 3 per datacenter needs 3"  # type: ignore[arg-type]
    elif r.type == K_CONFIGMAP:
        for key, text in items(get(r.props, "data")):
            if not isinstance(text, str) or not str(key).endswith(".cql"):
                continue
            for m in _NTS.finditer(text):
                body = m.group(1)
                if "NetworkTopologyStrategy" not in body:
                    yield f"{key}: keyspace replication is not NetworkTopologyStrategy ({body.strip()})"
                    continue
                for dc, rf in re.findall(r"'([^']+)'\s*:\s*'?(\d+)'?", body):
                    if dc != "class" and int(rf) != 3:
                        yield f"{key}: keyspace RF {rf} in datacenter {dc}; production keeps 3 per datacenter"


def _cnpg_instances(r: Res) -> Iterator[str]:
    if not _production(r):
        return
    instances = get(r.props, "spec", "instances")
    if _is_number_at_least(instances, 3) is False:
        yield f"spec.instances is {instances}; production PostgreSQL runs a primary and two replicas (3)"


def _backup_schedule(r: Res) -> Iterator[str]:
    if r.type == SCYLLA:
        backups = get(r.props, "spec", "backups")
        if is_unknown(backups):
            return
        tasks = [b for b in each(r.props, "spec", "backups") if not is_unknown(b)]
        seeds = get(r.props, "spec", "externalSeeds")
        joined = is_unknown(seeds) or bool(each(r.props, "spec", "externalSeeds"))
        if not tasks and not joined:
            # A datacenter that joins another's cluster (externalSeeds: the DR standby) is backed up by
            # the primary datacenter's task until it is promoted.
            yield "ScyllaCluster has no backup task (spec.backups)"
        for b in tasks:
            if get(b, "cron") in (None, "") and get(b, "interval") in (None, ""):
                yield f"backup task {get(b, 'name')} has no schedule (cron)"
            if not each(b, "location") and not is_unknown(get(b, "location")):
                yield f"backup task {get(b, 'name')} has no location"
    elif r.type == CNPG:
        spec = get(r.props, "spec")
        if is_unknown(spec):
            return
        plugins = [p for p in each(spec, "plugins") if "barman" in str(get(p, "name"))]
        if get(spec, "backup") is None and not plugins:
            yield "PostgreSQL cluster has no backup target (spec.backup or the barman-cloud plugin)"
    elif r.type == CNPG_SCHEDULED:
        schedule = get(r.props, "spec", "schedule")
        if not is_unknown(schedule) and not schedule:
            yield "ScheduledBackup has no schedule"


# --- fleets (seed 003) ----------------------------------------------------------------------------
def _fleet_module(r: Res) -> str | None:
    tags = _tag_map(r) or {}
    module = tags.get("Module")
    return module if isinstance(module, str) else None


def _fleet_capacity(r: Res) -> Iterator[str]:
    module = _fleet_module(r)
    if module is None:
        return
    env = _env(r)
    profile = (baseline()["environments"].get(env) or {}).get("profile")
    plan = baseline()["fleets"].get(profile or "", {}).get(module)
    if plan is None:
        yield f"environment {env!r} has no capacity plan for module {module!r}"
        return
    for field, key, what in (
        ("minSize", "min", "the reserved baseline"),
        ("maxSize", "max", "the 12-month projection" if profile != "staging" else "the staging plan"),
        ("desiredCapacity", "desired", "the seed's fleet" if profile == "production" else "the plan"),
    ):
        value = get(r.props, field)
        if _is_number_at_least(value, plan[key]) is False:
            yield f"{field} {value} is below {what} ({plan[key]}, {profile} plan of {module})"


def _fleet_timing(module: str | None) -> dict[str, int] | None:
    return baseline()["fleet_timing"].get(module) if module else None


def _fleet_drain(r: Res) -> Iterator[str]:
    timing = _fleet_timing(_fleet_module(r))
    if timing is None:
        return
    drain = timing["drain_seconds"]
    if r.type == ASG:
        hooks = [
            h
            for h in each(r.props, "initialLifecycleHooks")
            if get(h, "lifecycleTransition") == "autoscaling:EC2_INSTANCE_TERMINATING"
        ]
        if not hooks and not is_unknown(get(r.props, "initialLifecycleHooks")):
            yield "no termination lifecycle hook: instances are not drained before they stop"
        for h in hooks:
            if _is_number_at_least(get(h, "heartbeatTimeout"), drain) is False:
                beat = get(h, "heartbeatTimeout")
                yield f"termination hook heartbeat {beat} s is shorter than the drain ({drain} s)"
    elif r.type == TARGET_GROUP:
        delay = get(r.props, "deregistrationDelay")
        if delay is None:
            delay = 300  # the provider's default
        if _is_number_at_least(delay, drain) is False:
            yield f"deregistrationDelay {delay} s is shorter than the drain ({drain} s)"


def _fleet_stabilisation(r: Res) -> Iterator[str]:
    timing = _fleet_timing(_fleet_module(r))
    if timing is None:
        return
    need = timing["stabilisation_seconds"]
    checks = (
        ("defaultInstanceWarmup", get(r.props, "defaultInstanceWarmup")),
        (
            "instanceRefresh.preferences.instanceWarmup",
            get(r.props, "instanceRefresh", "preferences", "instanceWarmup"),
        ),
        (
            "instanceRefresh.preferences.checkpointDelay",
            get(r.props, "instanceRefresh", "preferences", "checkpointDelay"),
        ),
    )
    for field, value in checks:
        if value is None:
            yield f"{field} is not set; an updated instance is observed {need} s before the next"
        elif _is_number_at_least(value, need) is False:
            yield f"{field} {value} s is shorter than the seed's stabilisation ({need} s)"
    if get(r.props, "instanceRefresh") is None:
        return
    healthy = number(get(r.props, "instanceRefresh", "preferences", "minHealthyPercentage"))
    if healthy is not None and healthy < 100:
        yield f"instance refresh lets healthy capacity drop to {int(healthy)}%; rolling updates keep 100%"


# --- tags -----------------------------------------------------------------------------------------
# AWS types whose `tags` reach the resource (every type of the platform that takes tags).
TAGGABLE = frozenset(
    {
        LAUNCH_TEMPLATE,
        EBS_VOLUME,
        INSTANCE,
        SG,
        SUBNET,
        ASG,
        TARGET_GROUP,
        BUCKET,
        BUCKET_V2,
        KMS_KEY,
        EKS,
        NODE_GROUP,
        LOG_GROUP,
        ECR,
        "aws:ec2/vpc:Vpc",
        "aws:ec2/eip:Eip",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "aws:ec2/flowLog:FlowLog",
        "aws:eks/addon:Addon",
        "aws:iam/role:Role",
        "aws:iam/instanceProfile:InstanceProfile",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:lb/loadBalancer:LoadBalancer",
        "aws:lb/listener:Listener",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
        "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter",
        "aws:route53/healthCheck:HealthCheck",
    }
)
FLEET_TYPES = frozenset(
    {
        ASG,
        TARGET_GROUP,
        "aws:lb/loadBalancer:LoadBalancer",
        "aws:lb/listener:Listener",
        "aws:iam/instanceProfile:InstanceProfile",
    }
)


def _required_tags(r: Res) -> Iterator[str]:
    tags = _tag_map(r)
    if tags is None:
        return
    if not isinstance(tags.get("Environment"), str) and not is_unknown(tags.get("Environment")):
        yield "no Environment tag (every AWS resource is tagged with its environment)"


def _fleet_tags(r: Res) -> Iterator[str]:
    tags = _tag_map(r)
    if tags is None:
        return
    if r.type != ASG and "Module" not in tags:
        return  # load balancers and profiles of the platform that are not a module's
    for needed in ("Environment", "Module", "Colour"):
        if needed not in tags:
            yield f"fleet resource lacks the {needed} tag (seed 003 fleets are tagged per module and colour)"


# --- Kubernetes workloads (Pod Security Standards, restricted) ------------------------------------
def _pod_context(r: Res, key: str) -> Any:
    return get(pod_spec(r), "securityContext", key)


def _k8s_resources(r: Res) -> Iterator[str]:
    for field, c in containers(r):
        res = get(c, "resources")
        if is_unknown(res):
            continue
        for part in ("requests", "limits"):
            for what in ("cpu", "memory"):
                if part == "limits" and what == "cpu":
                    continue  # CPU limits throttle; requests size the node, the memory limit bounds it
                if get(res, part, what) is None:
                    yield f"{field} {_cname(c)}: resources.{part}.{what} is not set"
    for path in _CR_RESOURCES.get(r.type, ()):
        for where, res in _paths(r.props, path):
            if is_unknown(res):
                continue
            if res is None:
                yield f"{where}: no resources"
                continue
            for part in ("requests", "limits"):
                if get(res, part, "memory") is None:
                    yield f"{where}.{part}.memory is not set"
            if get(res, "requests", "cpu") is None:
                yield f"{where}.requests.cpu is not set"


# Where the operators' custom resources take each pod's resources.
_CR_RESOURCES: dict[str, tuple[tuple[Any, ...], ...]] = {
    SCYLLA: (
        ("spec", "datacenter", "racks", "*", "resources"),
        ("spec", "datacenter", "racks", "*", "agentResources"),
    ),
    CNPG: (("spec", "resources"),),
    **{t: (("spec", "resources"),) for t in KAFKA_POOL},
    **{t: (("spec", "resources"),) for t in KAFKA_CONNECT},
    **{t: (("spec", "resources"),) for t in KAFKA_MM2},
    **{
        t: (
            ("spec", "entityOperator", "topicOperator", "resources"),
            ("spec", "entityOperator", "userOperator", "resources"),
        )
        for t in KAFKA
    },
    OTEL: (("spec", "resources"),),
}


def _paths(node: Any, path: tuple[Any, ...], prefix: str = "") -> list[tuple[str, Any]]:
    if not path:
        return [(prefix, node)]
    head, rest = path[0], path[1:]
    if head == "*":
        return [hit for i, el in enumerate(each(node)) for hit in _paths(el, rest, f"{prefix}[{i}]")]
    child = get(node, head)
    if child is None and rest and rest[0] == "*":
        return []
    if child is None and head not in ("resources", "agentResources"):
        return []  # an optional part (entityOperator) that is not deployed
    return _paths(child, rest, f"{prefix}.{head}" if prefix else head)


def _k8s_non_root(r: Res) -> Iterator[str]:
    pod = _pod_context(r, "runAsNonRoot")
    pod_uid = number(_pod_context(r, "runAsUser"))
    for field, c in containers(r):
        mine = get(c, "securityContext", "runAsNonRoot")
        uid = number(get(c, "securityContext", "runAsUser"))
        if is_unknown(mine) or is_unknown(pod):
            continue
        effective = mine if mine is not None else pod
        if truthy(effective) is not True:
            yield f"{field} {_cname(c)}: runAsNonRoot is not true"
        if (uid if uid is not None else pod_uid) == 0:
            yield f"{field} {_cname(c)}: runs as UID 0"


def _k8s_no_escalation(r: Res) -> Iterator[str]:
    for field, c in containers(r):
        value = get(c, "securityContext", "allowPrivilegeEscalation")
        if not is_unknown(value) and truthy(value) is not False:
            yield f"{field} {_cname(c)}: allowPrivilegeEscalation is not false"


def _k8s_capabilities(r: Res) -> Iterator[str]:
    for field, c in containers(r):
        drop = get(c, "securityContext", "capabilities", "drop")
        if is_unknown(drop):
            continue
        if "ALL" not in each(c, "securityContext", "capabilities", "drop"):
            yield f"{field} {_cname(c)}: capabilities.drop does not include ALL"
        added = [a for a in each(c, "securityContext", "capabilities", "add") if a != "NET_BIND_SERVICE"]
        if added:
            yield f"{field} {_cname(c)}: adds capabilities {added}"


def _k8s_seccomp(r: Res) -> Iterator[str]:
    pod = _pod_context(r, "seccompProfile")
    for field, c in containers(r):
        mine = get(c, "securityContext", "seccompProfile")
        if is_unknown(mine) or is_unknown(pod):
            continue
        kind = get(mine if mine is not None else pod, "type")
        if kind not in ("RuntimeDefault", "Localhost"):
            yield f"{field} {_cname(c)}: seccompProfile.type is {kind!r}; RuntimeDefault or Localhost"


def _k8s_no_privileged(r: Res) -> Iterator[str]:
    spec = pod_spec(r)
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if truthy(get(spec, key)) is True:
            yield f"pod sets {key}"
    for v in each(spec, "volumes"):
        if get(v, "hostPath") is not None and not is_unknown(get(v, "hostPath")):
            yield f"volume {get(v, 'name')} is a hostPath"
    for field, c in containers(r):
        if truthy(get(c, "securityContext", "privileged")) is True:
            yield f"{field} {_cname(c)}: privileged"


# Images whose process writes under its root filesystem and that this platform cannot redirect to a
# mounted volume. Empty: every workload declared here runs read-only (emptyDir for scratch paths).
WRITABLE_ROOT_IMAGES: dict[str, str] = {}


def _k8s_read_only_root(r: Res) -> Iterator[str]:
    for field, c in containers(r):
        image = get(c, "image")
        if isinstance(image, str) and image.split("@")[0].rsplit(":", 1)[0] in WRITABLE_ROOT_IMAGES:
            continue
        value = get(c, "securityContext", "readOnlyRootFilesystem")
        if not is_unknown(value) and truthy(value) is not True:
            yield f"{field} {_cname(c)}: readOnlyRootFilesystem is not true"


_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _images(r: Res) -> list[tuple[str, Any]]:
    out = [(f"{f} {_cname(c)}", get(c, "image")) for f, c in containers(r)]
    if r.type == CNPG:
        out.append(("spec.imageName", get(r.props, "spec", "imageName")))
    elif r.type == OTEL or r.type in KAFKA_CONNECT or r.type in KAFKA_MM2:
        if get(r.props, "spec", "image") is not None:
            out.append(("spec.image", get(r.props, "spec", "image")))
    elif r.type == DOCKER_REMOTE_IMAGE:
        out.append(("name", get(r.props, "name")))
    return out


def _unpinned(r: Res) -> Iterator[tuple[str, str, str | None]]:
    """(where, image, waiver reason or None) of every image not pinned by digest."""
    for where, image in _images(r):
        if not isinstance(image, str) or is_unknown(image):
            continue
        if not _DIGEST.search(image):
            yield where, image, image_reason(image)


def _images_pinned(r: Res) -> Iterator[str]:
    for where, image, reason in _unpinned(r):
        if reason is None:
            yield f"{where}: image {image} is not pinned by digest (@sha256:...)"


def _images_waived(r: Res) -> Iterator[str]:
    for where, image, reason in _unpinned(r):
        if reason is not None:
            yield f"{where}: image {image} is not pinned by digest; waived (policies/waivers.yaml): {reason}"


# --- observability --------------------------------------------------------------------------------
_GRAFANA_DEFAULTS = ("prom-operator", "admin")


def _grafana_credentials(r: Res) -> Iterator[str]:
    chart = str(get(r.props, "chart") or "")
    values = get(r.props, "values")
    if is_unknown(values):
        return
    if "kube-prometheus-stack" in chart:
        grafana = get(values, "grafana")
        if grafana is None or truthy(get(grafana, "enabled")) is False:
            return
    elif chart.rstrip("/").endswith("grafana"):
        grafana = values
    else:
        return
    password = get(grafana, "adminPassword")
    existing = get(grafana, "admin", "existingSecret")
    if isinstance(password, str) and password in _GRAFANA_DEFAULTS:
        yield f"Grafana adminPassword is the chart default {password!r}"
    elif existing in (None, "") and not is_unknown(existing) and password in (None, ""):
        yield "Grafana admin credentials are the chart's default (set admin.existingSecret)"
    if truthy(get(grafana, "grafana.ini", "auth.anonymous", "enabled")) is True:
        yield "Grafana allows anonymous access"


def _alert_runbooks(r: Res) -> Iterator[str]:
    for g in each(r.props, "spec", "groups"):
        for rule in each(g, "rules"):
            alert = get(rule, "alert")
            if not isinstance(alert, str):
                continue
            runbook = get(rule, "annotations", "runbook")
            if runbook is None:
                runbook = get(rule, "annotations", "runbook_url")
            if not is_unknown(runbook) and not runbook:
                yield f"alert {alert} has no runbook annotation"
            want = baseline()["alerts"].get(alert)
            if want and isinstance(runbook, str) and runbook and not runbook.endswith(want):
                yield f"alert {alert} points at runbook {runbook}; the seed's is {want}"


# --- secrets --------------------------------------------------------------------------------------
_CREDENTIAL_KEY = re.compile(
    r"(^|[._\-\s])(password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|"
    r"secret[_-]?key|credentials?|webhook[_-]?url)$",
    re.I,
)
_SHAPES = (
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@${}]+:[^/\s@${}]+@"), "a URL with a password"),
    (re.compile(r"\bxox[abprs]-[0-9A-Za-z-]{10,}"), "a Slack token"),
)
_SECRET_REFERENCE = re.compile(r"(secret|Secret)(Ref|KeyRef|Name)?$|^valueFrom$")
_REFERENCE = re.compile(r"^\$\{[^}]+\}$|^\$\([^)]+\)$")


def _literal(value: Any) -> bool:
    if value == SECRET_MARKER:
        return True  # a value, only hidden from the offline plan
    return isinstance(value, str) and value != "" and not is_unknown(value) and not _REFERENCE.match(value)


def _plaintext_credentials(r: Res) -> Iterator[str]:
    if r.type.startswith("random:") or r.type.startswith("pulumi:providers:"):
        return
    skip_top = {"data", "stringData"} if r.type == K_SECRET else set()
    for path, value in walk(r.props):
        if not path or path[0] in skip_top or is_unknown(value):
            continue
        key = next((p for p in reversed(path) if isinstance(p, str)), "")
        where = dotted(path)
        if any(isinstance(p, str) and _SECRET_REFERENCE.search(p) for p in path[:-1]):
            continue  # inside a reference to a Secret (secretKeyRef, passwordSecret, existingSecret, ...)
        if isinstance(value, str) and value != SECRET_MARKER:
            for shape, what in _SHAPES:
                if shape.search(value):
                    yield f"{where} holds {what} in plain text"
                    break
            # container env entries: {name: DB_PASSWORD, value: ...}; docker envs: "NAME=value"
            if "=" in value and key in ("envs", "env") or (len(path) > 1 and path[-2] in ("envs",)):
                name, _, rest = value.partition("=")
                if _CREDENTIAL_KEY.search(name) and _literal(rest):
                    yield f"{where}: environment variable {name} holds a literal credential"
        if key == "value" and len(path) >= 2:
            parent = get(r.props, *path[:-1])
            name = get(parent, "name")
            if isinstance(name, str) and _CREDENTIAL_KEY.search(name) and _literal(value):
                where = dotted(path[:-1])
                yield f"{where}: environment variable {name} holds a literal credential (use valueFrom)"
            continue
        if _CREDENTIAL_KEY.search(key) and _literal(value):
            yield f"{where} looks like a credential held in plain text; keep it in a Secret and reference it"


# --- the catalogue --------------------------------------------------------------------------------
M, A = "mandatory", "advisory"
IMAGE_TYPES = frozenset({*WORKLOADS, CNPG, OTEL, *KAFKA_CONNECT, *KAFKA_MM2, DOCKER_REMOTE_IMAGE})
S3_POLICY_TYPES = frozenset({BUCKET_POLICY})
RULES: tuple[Rule, ...] = (
    Rule(
        "ebs-encrypted",
        "Every EBS volume and launch-template block device is encrypted.",
        "high",
        M,
        "CIS AWS Foundations v3.0 2.2.1; AWS FSBP EC2.7",
        _ebs_encrypted,
        frozenset({LAUNCH_TEMPLATE, EBS_VOLUME}),
    ),
    Rule(
        "s3-encrypted-with-kms",
        "Bucket default encryption uses a customer-managed KMS key.",
        "high",
        M,
        "AWS FSBP S3.17",
        _s3_sse_kms,
        frozenset({SSE, SSE_V2}),
    ),
    Rule(
        "eks-secrets-encrypted",
        "EKS envelope-encrypts Kubernetes secrets with a KMS key.",
        "high",
        M,
        "AWS FSBP EKS.3; CIS Amazon EKS 5.3.1",
        _eks_secrets_encrypted,
        frozenset({EKS}),
    ),
    Rule(
        "log-group-encrypted",
        "CloudWatch log groups are encrypted with a KMS key.",
        "medium",
        M,
        "issue 14 (encryption at rest of logs); seed 003 Log Aggregation",
        _log_group_encrypted,
        frozenset({LOG_GROUP}),
    ),
    Rule(
        "kms-key-rotation",
        "Symmetric KMS keys rotate yearly.",
        "medium",
        M,
        "CIS AWS Foundations 3.6; AWS FSBP KMS.4",
        _kms_rotation,
        frozenset({KMS_KEY}),
    ),
    Rule(
        "ecr-scan-and-kms",
        "ECR repositories scan on push and encrypt with KMS.",
        "medium",
        M,
        "AWS FSBP ECR.1",
        _ecr_scan,
        frozenset({ECR}),
    ),
    Rule(
        "ecr-tags-immutable",
        "ECR image tags cannot be overwritten.",
        "medium",
        A,
        "AWS FSBP ECR.2",
        _ecr_immutable,
        frozenset({ECR}),
    ),
    Rule(
        "imdsv2-required",
        "Launch templates require IMDSv2 tokens with a hop limit of at most 2.",
        "high",
        M,
        "AWS FSBP EC2.8, EC2.170; CIS AWS Foundations 5.6",
        _imdsv2,
        frozenset({LAUNCH_TEMPLATE}),
    ),
    Rule(
        "no-public-ip",
        "Fleet instances get no public IP; only public-tier subnets map public IPs.",
        "high",
        M,
        "AWS FSBP EC2.9, EC2.25, EC2.15",
        _no_public_ip,
        frozenset({LAUNCH_TEMPLATE, INSTANCE, SUBNET}),
    ),
    Rule(
        "no-world-ingress",
        "No ingress from 0.0.0.0/0 or ::/0 except the configured public ingest listener.",
        "critical",
        M,
        "CIS AWS Foundations 5.2, 5.3; AWS FSBP EC2.18, EC2.19, EC2.53",
        _no_world_ingress,
        frozenset({SG, SG_INGRESS, SG_RULE}),
    ),
    Rule(
        "s3-public-access-blocked",
        "Bucket public access blocks block everything.",
        "critical",
        M,
        "CIS AWS Foundations 2.1.4; AWS FSBP S3.8",
        _s3_public_access,
        frozenset({PAB}),
    ),
    Rule(
        "s3-tls-only",
        "Bucket policies deny every request without TLS.",
        "high",
        M,
        "CIS AWS Foundations 2.1.1; AWS FSBP S3.5",
        _s3_tls_only,
        S3_POLICY_TYPES,
    ),
    Rule(
        "s3-versioning",
        "Buckets keep object versions.",
        "medium",
        M,
        "AWS FSBP S3.14; seed 003 Backup and Recovery",
        _s3_versioning,
        frozenset({VERSIONING, VERSIONING_V2}),
    ),
    Rule(
        "s3-acls-disabled",
        "Buckets disable ACLs (BucketOwnerEnforced).",
        "medium",
        M,
        "AWS FSBP S3.12",
        _s3_ownership,
        frozenset({OWNERSHIP}),
    ),
    Rule(
        "s3-backup-retention",
        "The backup bucket expires every seed backup prefix after the seed's retention.",
        "high",
        M,
        "seed 003 Backup and Recovery > Backup Classifications; AWS FSBP S3.13",
        _s3_backup_retention,
        frozenset({LIFECYCLE, LIFECYCLE_V2}),
    ),
    Rule(
        "s3-audit-object-lock",
        "Audit log buckets are created with Object Lock, COMPLIANCE mode, the seed's years.",
        "high",
        M,
        "seed 003 Log Aggregation > Log Retention (audit 7 years); AWS FSBP S3.15",
        _s3_audit_lock,
        frozenset({BUCKET, BUCKET_V2, OBJECT_LOCK, OBJECT_LOCK_V2}),
    ),
    Rule(
        "stateful-protected",
        "Stateful resources are protected (or retained on delete).",
        "high",
        M,
        "seed 003 Backup and Recovery, Disaster Recovery; review B12",
        _protected,
        STATEFUL,
    ),
    Rule(
        "kafka-replication",
        "Production Kafka: RF >= 3, min.insync.replicas >= 2, 3 brokers, topics RF 3.",
        "critical",
        M,
        "DESIGN.md kafka (RF 3, min.insync.replicas 2); seed 003 Disaster Recovery",
        _kafka_replication,
        frozenset({*KAFKA, *KAFKA_POOL, *KAFKA_TOPIC}),
    ),
    Rule(
        "scylla-replication",
        "Production ScyllaDB: 3 nodes and keyspace RF 3 per datacenter.",
        "critical",
        M,
        "DESIGN.md scylla (NetworkTopologyStrategy, RF 3 per DC); seed 003 Disaster Recovery",
        _scylla_replication,
        frozenset({SCYLLA, K_CONFIGMAP}),
    ),
    Rule(
        "cnpg-instances",
        "Production PostgreSQL runs at least 3 instances.",
        "critical",
        M,
        "issue 14 (CNPG instances >= 3: a primary and two replicas); seed 003 Disaster Recovery",
        _cnpg_instances,
        frozenset({CNPG}),
    ),
    Rule(
        "datastore-backup-schedule",
        "Every datastore has a scheduled backup to a location.",
        "high",
        M,
        "seed 003 Backup and Recovery > Backup Schedules (DB full daily, incremental hourly)",
        _backup_schedule,
        frozenset({SCYLLA, CNPG, CNPG_SCHEDULED}),
    ),
    Rule(
        "fleet-capacity",
        "Fleets stay within the capacity plan: min >= baseline, max >= 12-month projection, "
        "production desired >= the seed's fleet.",
        "high",
        M,
        "seed 003 Capacity Planning (capacity-plan.yaml)",
        _fleet_capacity,
        frozenset({ASG}),
    ),
    Rule(
        "fleet-drain",
        "Fleets drain an instance for the seed's drain time before it stops.",
        "medium",
        M,
        "seed 003 Rolling Update Procedure (drain timeout)",
        _fleet_drain,
        frozenset({ASG, TARGET_GROUP}),
    ),
    Rule(
        "fleet-stabilisation",
        "Instance refreshes observe each instance for the seed's stabilisation time.",
        "medium",
        M,
        "seed 003 Rolling Update Procedure (stability monitoring)",
        _fleet_stabilisation,
        frozenset({ASG}),
    ),
    Rule(
        "required-tags",
        "Every taggable AWS resource carries its Environment tag.",
        "medium",
        M,
        "AWS tagging best practice; seed 003 (environments)",
        _required_tags,
        TAGGABLE,
    ),
    Rule(
        "fleet-tags",
        "Fleet resources carry Environment, Module and Colour tags.",
        "medium",
        M,
        "seed 003 Module Deployment (fleets per module, blue/green)",
        _fleet_tags,
        FLEET_TYPES,
    ),
    Rule(
        "k8s-requests-limits",
        "Pods and operator-managed pods set CPU/memory requests and a memory limit.",
        "medium",
        M,
        "CIS Kubernetes 5.x / checkov CKV_K8S_10, 11, 12, 13",
        _k8s_resources,
        frozenset({*WORKLOADS, *_CR_RESOURCES}),
    ),
    Rule(
        "k8s-run-as-non-root",
        "Containers run as non-root.",
        "high",
        M,
        "Kubernetes Pod Security Standards, restricted: Running as Non-root",
        _k8s_non_root,
        WORKLOADS,
    ),
    Rule(
        "k8s-no-privilege-escalation",
        "Containers set allowPrivilegeEscalation: false.",
        "high",
        M,
        "Kubernetes Pod Security Standards, restricted: Privilege Escalation",
        _k8s_no_escalation,
        WORKLOADS,
    ),
    Rule(
        "k8s-drop-all-capabilities",
        "Containers drop ALL capabilities (NET_BIND_SERVICE may be added).",
        "high",
        M,
        "Kubernetes Pod Security Standards, restricted: Capabilities",
        _k8s_capabilities,
        WORKLOADS,
    ),
    Rule(
        "k8s-seccomp",
        "Pods use the RuntimeDefault (or Localhost) seccomp profile.",
        "medium",
        M,
        "Kubernetes Pod Security Standards, restricted: Seccomp",
        _k8s_seccomp,
        WORKLOADS,
    ),
    Rule(
        "k8s-no-host-access",
        "No privileged containers, host namespaces or hostPath volumes.",
        "critical",
        M,
        "Kubernetes Pod Security Standards, baseline: Privileged, Host Namespaces, HostPath",
        _k8s_no_privileged,
        WORKLOADS,
    ),
    Rule(
        "k8s-read-only-root",
        "Containers run with a read-only root filesystem where the image allows.",
        "medium",
        M,
        "checkov CKV_K8S_22; NSA/CISA Kubernetes Hardening Guide",
        _k8s_read_only_root,
        WORKLOADS,
    ),
    Rule(
        "images-pinned-by-digest",
        "Container images are pinned by digest.",
        "medium",
        M,
        "checkov CKV_K8S_43; SLSA (immutable references)",
        _images_pinned,
        IMAGE_TYPES,
    ),
    Rule(
        "images-pinned-by-digest-waived",
        "Images not pinned by digest under a checked-in waiver (policies/waivers.yaml), with its reason.",
        "low",
        A,
        "checkov CKV_K8S_43; policies/waivers.yaml",
        _images_waived,
        IMAGE_TYPES,
    ),
    Rule(
        "grafana-credentials",
        "Grafana runs off the chart's default admin credentials, without anonymous access.",
        "critical",
        M,
        "CIS Controls 4.7 (default accounts); seed 003 Monitoring",
        _grafana_credentials,
        frozenset({K_HELM, K_HELM_V4}),
    ),
    Rule(
        "alert-runbooks",
        "Every alert carries its runbook annotation, the seed's runbook where the seed names one.",
        "medium",
        M,
        "seed 003 Alert Definitions; seed 004 runbook habits",
        _alert_runbooks,
        frozenset({K_PROM_RULE}),
    ),
    Rule(
        "no-plaintext-credentials",
        "No credential-looking value in plain text in any input outside a Secret.",
        "critical",
        M,
        "CWE-798; CIS Kubernetes 5.4.1; AWS FSBP ECS.8 (no secrets in environment variables)",
        _plaintext_credentials,
    ),
)

RULES_BY_NAME = {r.name: r for r in RULES}


def evaluate(resources: Iterable[Res]) -> list[dict[str, str]]:
    """Violations of every resource rule over resources (policies.props.Res)."""
    out = []
    for res in resources:
        for rule in RULES:
            for message in rule.run(res):
                out.append(
                    {
                        "policy": rule.name,
                        "kind": rule.kind,
                        "enforcement": rule.enforcement,
                        "severity": rule.severity,
                        "urn": res.urn,
                        "message": message,
                    }
                )
    return out


def check_all(resources: Iterable[Any]) -> list[dict[str, str]]:
    """Resource rules and stack policies over a stack's resources (policies.check_all)."""
    from . import check_all as _check_all

    return _check_all(resources)
