"""Deterministic answers of the mock runtime: plausible ids, ARNs and endpoints for resources, and
provider functions (availability zones, AMIs, caller identity, policy documents, ...)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pulumi

ACCOUNT = "123456789012"

# id prefixes AWS gives resources of these types
_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": "pcx-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:kms/key:Key": "",
}


def _h(*parts: str, n: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def _service(typ: str) -> str:
    # aws:ec2/vpc:Vpc -> ec2
    return typ.split(":")[1].split("/")[0] if typ.startswith("aws:") else "mock"


def fake_stack_outputs(stack_name: str, region: str) -> dict[str, Any]:
    """What a referenced stack's outputs look like: every name of the stacks/contract.py contract."""
    from stacks.contract import (
        DR_GATE_OUTPUTS,
        ENVIRONMENT_OUTPUTS,
        FLEET_OUTPUTS,
        INGEST_OUTPUTS,
        PEERING_OUTPUTS,
        PRIMARY_SITE_OUTPUTS,
    )

    short = stack_name.rsplit("/", 1)[-1]
    h = _h(stack_name, n=8)
    values: dict[str, Any] = {
        "environment": short.split("-")[0],
        "region": region,
        "vpc_id": f"vpc-{h}",
        "vpc_cidr": "10.10.0.0/16",
        "private_subnet_ids": [f"subnet-{h}{i}" for i in range(3)],
        "public_subnet_ids": [f"subnet-{h}p{i}" for i in range(3)],
        "artifact_bucket": f"{short}-artifacts-{h}",
        "backup_bucket": f"{short}-backups-{h}",
        "kms_key_arn": f"arn:aws:kms:{region}:{ACCOUNT}:key/{h}-mock",
        "ebs_kms_key_arn": f"arn:aws:kms:{region}:{ACCOUNT}:key/{h}-ebs-mock",
        "data_plane_security_group_id": f"sg-{h}dp",
        "otlp_endpoint": f"http://otlp.{short}.internal:4317",
        "fleet_security_group_ids": {m: f"sg-{h}{m}" for m in ("alpha", "beta", "gamma")},
        "ingest_lb_security_group_id": f"sg-{h}lb",
        "handoff_lb_security_group_ids": {m: f"sg-{h}lb{m}" for m in ("beta", "gamma")},
        "public_ingest": False,
        "private_route_table_ids": [f"rtb-{h}{i}" for i in range(3)],
        "colour": "blue" if "blue" in short else "green",
        "ingest_lb_dns_name": f"{short}-ingest-{h}.elb.{region}.amazonaws.com",
        "ingest_lb_zone_id": "Z26RNL4JYFTOTI",
        "fleet_sizes": {"alpha": 4, "beta": 6, "gamma": 4},
        "scylla_external_seeds": [f"scylla-{short}-{i}.{short}.internal" for i in range(3)],
        "kafka_bootstrap_servers": f"kafka-bootstrap.{short}.internal:9093",
        "postgres_cluster_name": "warehouse",
        "backup_bucket_region": region,
    }
    values |= _dns_outputs(short)
    names = set(ENVIRONMENT_OUTPUTS) | set(FLEET_OUTPUTS) | set(PRIMARY_SITE_OUTPUTS) | set(PEERING_OUTPUTS)
    names |= set(INGEST_OUTPUTS) | set(DR_GATE_OUTPUTS)
    return {k: values.get(k, f"mock-{k}") for k in sorted(names)}


def _dns_outputs(stack: str) -> dict[str, Any]:
    """The ingest DNS outputs the referenced stack exports, from its committed stack file (the DR site
    checks its own `dns` against them, so a stand-in value would not do)."""
    from pathlib import Path

    from planner.runtime import read_stack_file
    from stacks.compose.traffic import dns_outputs
    from stacks.settings import load_settings

    path = Path(__file__).resolve().parent.parent / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        return {}
    settings = load_settings(read_stack_file(path, path.name), source=path.name, offline=True)
    return dns_outputs(settings)


def _policy_document(args: dict[str, Any]) -> dict[str, Any]:
    """aws.iam.get_policy_document, rendered the way the provider renders it."""
    statements = []
    for st in args.get("statements") or []:
        out: dict[str, Any] = {"Effect": st.get("effect", "Allow")}
        if st.get("sid"):
            out["Sid"] = st["sid"]
        for key, name in (
            ("actions", "Action"),
            ("notActions", "NotAction"),
            ("resources", "Resource"),
            ("notResources", "NotResource"),
        ):
            if st.get(key):
                vals = st[key]
                out[name] = vals[0] if len(vals) == 1 else vals
        for key, name in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            if st.get(key):
                out[name] = {
                    p["type"]: (p["identifiers"][0] if len(p["identifiers"]) == 1 else p["identifiers"])
                    for p in st[key]
                }
        if st.get("conditions"):
            cond: dict[str, dict[str, Any]] = {}
            for c in st["conditions"]:
                vals = c["values"]
                cond.setdefault(c["test"], {})[c["variable"]] = vals[0] if len(vals) == 1 else vals
            out["Condition"] = cond
        statements.append(out)
    doc = {"Version": "2012-10-17", "Statement": statements}
    return {
        "json": json.dumps(doc, sort_keys=True),
        "minifiedJson": json.dumps(doc, separators=(",", ":")),
        "id": _h(json.dumps(doc)),
    }


class PlanMocks(pulumi.runtime.Mocks):
    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region

    # --- resources --------------------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        rid = args.resource_id or f"{_ID_PREFIX.get(typ, '')}{_h(typ, name)}"
        state = dict(inputs)
        region = str(inputs.get("region") or self.region)  # pulumi-aws v7's per-resource region
        if typ == "pulumi:pulumi:StackReference":
            ref = inputs.get("name") or args.resource_id or name
            return ref, {"name": ref, "outputs": fake_stack_outputs(ref, region), "secretOutputNames": []}
        if typ.startswith("aws:"):
            state.setdefault(
                "arn", f"arn:aws:{_service(typ)}:{region}:{ACCOUNT}:{typ.split(':')[-1].lower()}/{name}"
            )
            state.setdefault("tagsAll", inputs.get("tags") or {})
        if typ == "aws:s3/bucket:Bucket" or typ == "aws:s3/bucketV2:BucketV2":
            bucket = inputs.get("bucket") or f"{name}-{_h(name, n=7)}"
            rid = bucket
            state.update(
                bucket=bucket,
                arn=f"arn:aws:s3:::{bucket}",
                bucketDomainName=f"{bucket}.s3.amazonaws.com",
                bucketRegionalDomainName=f"{bucket}.s3.{region}.amazonaws.com",
                region=region,
            )
        elif typ == "aws:kms/key:Key":
            state.update(keyId=rid, arn=f"arn:aws:kms:{region}:{ACCOUNT}:key/{rid}")
        elif typ == "aws:iam/role:Role":
            state.update(
                arn=f"arn:aws:iam::{ACCOUNT}:role/{inputs.get('name') or name}", uniqueId=f"AROA{_h(name)}"
            )
            state.setdefault("name", name)
        elif typ == "aws:iam/instanceProfile:InstanceProfile":
            state.update(arn=f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}")
            state.setdefault("name", name)
        elif typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            url = str(inputs.get("url", "")).removeprefix("https://")
            state.update(arn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/{url}")
        elif typ == "aws:eks/cluster:Cluster":
            cid = _h(name, n=32).upper()
            state.update(
                name=inputs.get("name") or name,
                endpoint=f"https://{cid}.gr7.{region}.eks.amazonaws.com",
                certificateAuthority={"data": base64.b64encode(b"mock-cluster-ca").decode()},
                identities=[{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{cid}"}]}],
                version=inputs.get("version"),
                vpcConfig={
                    **(inputs.get("vpcConfig") or {}),
                    "clusterSecurityGroupId": f"sg-{_h(name, 'cluster')}",
                },
            )
        elif typ in ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"):
            state.update(
                dnsName=f"{name}-{_h(name, n=10)}.elb.{region}.amazonaws.com",
                zoneId="Z26RNL4JYFTOTI",
                arnSuffix=f"net/{name}/{_h(name, n=16)}",
            )
        elif typ in ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup"):
            state.update(arnSuffix=f"targetgroup/{name}/{_h(name, n=16)}")
        elif typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
            if inputs.get("vpcEndpointType") == "Gateway":
                state.setdefault("prefixListId", f"pl-{_h(name, n=8)}")
        elif typ == "aws:eks/nodeGroup:NodeGroup":
            state.setdefault("nodeGroupName", inputs.get("nodeGroupName") or name)
        elif typ == "aws:ec2/launchTemplate:LaunchTemplate":
            state.update(latestVersion=1, defaultVersion=1)
        elif typ == "aws:route53/healthCheck:HealthCheck":
            rid = _h(name, n=8) + "-" + _h(name, "hc", n=4)
        elif typ == "aws:cloudwatch/logGroup:LogGroup":
            state.update(arn=f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{inputs.get('name') or name}")
        elif typ == "aws:ecr/repository:Repository":
            repo = inputs.get("name") or name
            state.update(
                repositoryUrl=f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{repo}",
                registryId=ACCOUNT,
                arn=f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{repo}",
            )
        elif typ.startswith("random:"):
            length = int(inputs.get("length", 24) or 24)
            state.update(result=("m" + _h(name, n=63))[:length], bcryptHash="$2a$10$" + _h(name, n=53))
        elif typ.startswith("kubernetes:"):
            meta = dict(inputs.get("metadata") or {})
            meta.setdefault("name", name)
            state["metadata"] = meta
            if typ == "kubernetes:helm.sh/v3:Release":
                state["status"] = {
                    "name": inputs.get("name") or name,
                    "namespace": inputs.get("namespace"),
                    "status": "deployed",
                    "version": 1,
                }
            if typ == "kubernetes:core/v1:Service":
                state["status"] = {
                    "loadBalancer": {
                        "ingress": [
                            {"hostname": f"{meta['name']}-{_h(name, n=10)}.elb.{region}.amazonaws.com"}
                        ]
                    }
                }
        elif typ.startswith("docker:"):
            state.setdefault("name", inputs.get("name") or name)
            if typ == "docker:index/remoteImage:RemoteImage":
                state["imageId"] = "sha256:" + _h(str(inputs.get("name")), n=64)
                state["repoDigest"] = f"{inputs.get('name')}@sha256:{_h(str(inputs.get('name')), n=64)}"
            if typ == "docker:index/image:Image":
                # a local build (skip_push): the provider's repoDigest is the built image's id
                build = json.dumps(inputs.get("build"), sort_keys=True, default=str)
                state["repoDigest"] = "sha256:" + _h(str(inputs.get("imageName")), build, n=64)
        return rid, state

    # --- provider functions -----------------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        tok, a = args.token, dict(args.args)
        region = self.region
        if tok == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{region}{z}" for z in "abc"]
            return {
                "names": names,
                "zoneIds": [f"use1-az{i}" for i in (1, 2, 4)],
                "id": region,
                "state": "available",
            }
        if tok == "aws:index/getRegion:getRegion":
            return {
                "name": region,
                "region": region,
                "id": region,
                "endpoint": f"ec2.{region}.amazonaws.com",
                "description": region,
            }
        if tok == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/ci",
                "userId": "AIDAMOCK",
                "id": ACCOUNT,
            }
        if tok == "aws:index/getPartition:getPartition":
            return {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "id": "aws",
                "reverseDnsPrefix": "com.amazonaws",
            }
        if tok == "aws:iam/getPolicyDocument:getPolicyDocument":
            return _policy_document(a)
        if tok == "aws:ec2/getAmi:getAmi":
            return {
                **a,
                "id": f"ami-0{_h(str(a.get('filters')), n=16)}",
                "imageId": f"ami-0{_h('ami', n=16)}",
                "architecture": "x86_64",
                "rootDeviceName": "/dev/xvda",
            }
        if tok == "aws:ssm/getParameter:getParameter":
            return {
                **a,
                "value": f"ami-0{_h(str(a.get('name')), n=16)}",
                "insecureValue": f"ami-0{_h('p', n=16)}",
                "type": "String",
                "id": a.get("name"),
                "arn": f"arn:aws:ssm:{region}:{ACCOUNT}:parameter{a.get('name')}",
            }
        if tok == "aws:route53/getZone:getZone":
            zone = str(a.get("name") or "example.com").rstrip(".")
            return {
                **a,
                "name": zone,
                "zoneId": f"Z0{_h(zone, n=18).upper()}",
                "id": f"Z0{_h(zone, n=18).upper()}",
                "nameServers": [f"ns-1.awsdns-01.{zone}"],
                "arn": f"arn:aws:route53:::hostedzone/{zone}",
            }
        if tok == "aws:secretsmanager/getSecretVersion:getSecretVersion":
            # a stand-in secret holding every receiver key (the plan never sees real values)
            from components.observability.alertmanager import RECEIVER_SECRETS
            from stacks.settings import OFFLINE_SECRET

            name = str(a.get("secretId"))
            return {
                **a,
                "arn": f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name}-AbCdEf",
                "id": f"{name}|AWSCURRENT",
                "secretString": json.dumps({k: OFFLINE_SECRET for k in RECEIVER_SECRETS}),
                "versionId": "00000000-0000-0000-0000-000000000000",
                "versionStages": ["AWSCURRENT"],
            }
        if tok == "aws:eks/getClusterAuth:getClusterAuth":
            return {"name": a.get("name"), "token": "k8s-aws-v1.mock", "id": a.get("name")}
        if tok == "pulumi:pulumi:getStackReferenceOutputValue" or tok.endswith("getOutputDetails"):
            return {}
        return a
