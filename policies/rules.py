"""Policy rules over declared resources. Pure: each rule takes a resource (type, name, inputs as the
engine sees them, camelCase) and yields violation messages. The offline plan runs them over the mock
run's resources; the CrossGuard pack runs the same functions at preview time."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

WORLD = ("0.0.0.0/0", "::/0")
PUBLIC_INGEST_MARK = "public ingest"
_SECRETISH = re.compile(r"(password|passwd|secret|token|api[_-]?key|service[_-]?key|webhook)", re.I)


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Callable[[str, dict[str, Any]], Iterable[str]]
    enforcement: str = "mandatory"


def _imdsv2(typ: str, inputs: dict[str, Any]) -> Iterator[str]:
    if typ == "aws:ec2/launchTemplate:LaunchTemplate":
        tokens = (inputs.get("metadataOptions") or {}).get("httpTokens")
        if tokens != "required":
            yield f"metadataOptions.httpTokens must be 'required' (IMDSv2), got {tokens!r}"


def _ebs_encrypted(typ: str, inputs: dict[str, Any]) -> Iterator[str]:
    if typ == "aws:ec2/launchTemplate:LaunchTemplate":
        for bdm in inputs.get("blockDeviceMappings") or []:
            ebs = bdm.get("ebs") or {}
            if str(ebs.get("encrypted")).lower() != "true":
                yield f"block device {bdm.get('deviceName')} is not encrypted"
    if typ == "aws:ebs/volume:Volume" and not inputs.get("encrypted"):
        yield "EBS volume is not encrypted"


def _cidrs(rule: dict[str, Any]) -> list[str]:
    out = list(rule.get("cidrBlocks") or []) + list(rule.get("ipv6CidrBlocks") or [])
    for key in ("cidrIpv4", "cidrIpv6"):
        if rule.get(key):
            out.append(rule[key])
    return out


def _no_world_ingress(typ: str, inputs: dict[str, Any]) -> Iterator[str]:
    rules: list[dict[str, Any]] = []
    if typ == "aws:ec2/securityGroup:SecurityGroup":
        rules = list(inputs.get("ingress") or [])
    elif (
        typ == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
        or typ == "aws:ec2/securityGroupRule:SecurityGroupRule"
        and inputs.get("type") == "ingress"
    ):
        rules = [inputs]
    for rule in rules:
        if any(c in WORLD for c in _cidrs(rule)):
            if str(rule.get("description", "")).lower().startswith(PUBLIC_INGEST_MARK):
                continue
            yield (
                f"ingress from the internet on port {rule.get('fromPort')}-{rule.get('toPort')}; "
                f"only the optional public ingest listener may be open to the world"
            )


def _k8s_secret_values(typ: str, inputs: dict[str, Any]) -> Iterator[str]:
    if typ == "kubernetes:core/v1:Secret":
        for field in ("data", "stringData"):
            value = inputs.get(field)
            if value in (None, "[secret]"):
                continue
            if isinstance(value, dict):
                for key, v in value.items():
                    if v != "[secret]":
                        yield f"Secret {field}.{key} is not a Pulumi secret (would be plain text in state)"
    if typ == "kubernetes:core/v1:ConfigMap":
        for key in inputs.get("data") or {}:
            if _SECRETISH.search(key):
                yield f"ConfigMap key {key!r} looks like a credential; use a Secret"


def _fleet_tags(typ: str, inputs: dict[str, Any]) -> Iterator[str]:
    if typ == "aws:autoscaling/group:Group":
        keys = {t.get("key") for t in inputs.get("tags") or []}
        for needed in ("Environment", "Module", "Colour"):
            if needed not in keys:
                yield f"Auto Scaling group lacks the {needed} tag (seed 003 fleets are tagged per module)"


def _bucket_public_access(typ: str, inputs: dict[str, Any]) -> Iterator[str]:
    if typ == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
        for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
            if inputs.get(flag) is not True:
                yield f"{flag} must be true"


RULES: tuple[Rule, ...] = (
    Rule("imdsv2-required", "Launch templates require IMDSv2 tokens.", _imdsv2),
    Rule("ebs-encrypted", "Every EBS volume is encrypted.", _ebs_encrypted),
    Rule(
        "no-world-ingress",
        "No security group ingress from 0.0.0.0/0 except the public ingest listener.",
        _no_world_ingress,
    ),
    Rule(
        "k8s-secrets-are-secret",
        "Kubernetes Secret values come from Pulumi secrets; no credentials in ConfigMaps.",
        _k8s_secret_values,
    ),
    Rule("fleet-tags", "Fleet Auto Scaling groups carry Environment, Module and Colour tags.", _fleet_tags),
    Rule("s3-public-access-blocked", "Bucket public access blocks block everything.", _bucket_public_access),
)


def evaluate(resources: Iterable[Any]) -> list[dict[str, str]]:
    """Violations of every rule over resources with .type, .name, .urn and .inputs."""
    violations = []
    for res in resources:
        for rule in RULES:
            for message in rule.check(res.type, res.inputs):
                violations.append(
                    {"policy": rule.name, "enforcement": rule.enforcement, "urn": res.urn, "message": message}
                )
    return violations


def bucket_coverage(resources: Iterable[Any]) -> list[dict[str, str]]:
    """Every S3 bucket has server-side encryption and a public access block (stack-level rule)."""
    resources = list(resources)
    buckets = {r.id: r for r in resources if r.type in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")}
    covered: dict[str, set[str]] = {bid: set() for bid in buckets}
    sse = "BucketServerSideEncryptionConfiguration"
    kinds = {
        f"aws:s3/b{sse[1:]}:{sse}": "encryption",
        f"aws:s3/b{sse[1:]}V2:{sse}V2": "encryption",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "public-access-block",
    }
    for r in resources:
        kind = kinds.get(r.type)
        if kind and r.inputs.get("bucket") in covered:
            covered[r.inputs["bucket"]].add(kind)
    violations = []
    for bid, kinds_found in covered.items():
        for needed in ("encryption", "public-access-block"):
            if needed not in kinds_found:
                violations.append(
                    {
                        "policy": f"s3-{needed}",
                        "enforcement": "mandatory",
                        "urn": buckets[bid].urn,
                        "message": f"bucket {bid} has no {needed.replace('-', ' ')} resource",
                    }
                )
    return violations


def check_all(resources: Iterable[Any]) -> list[dict[str, str]]:
    resources = list(resources)
    return evaluate(resources) + bucket_coverage(resources)
