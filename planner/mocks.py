"""Deterministic answers of the mock runtime: plausible ids, ARNs and endpoints for resources, and
provider functions answered only as the real provider would for the configuration (planner/data/
account.yaml: the region's availability zones, hosted zones and parameters that exist). A lookup the
real invoke would fail is recorded as an invoke error on the plan (the plan then fails), and answered
with empty values so that the rest of the estate is still evaluated and checked.

A StackReference answers with the outputs the referenced stack's own plan exported (planner.estate),
secret outputs as secrets; an unresolved reference (a stack evaluated later in a cycle, or a stack not
in the estate) answers nothing and its reads are unknown (planner.runtime)."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import pulumi
import yaml

from planner.references import SECRET_SIG, SIG, References

ACCOUNT = "123456789012"
ACCOUNT_FILE = Path(__file__).resolve().parent / "data" / "account.yaml"


@functools.cache
def account() -> dict[str, Any]:
    """What exists in the account and its regions before any stack is deployed (planner/data/account.yaml)."""
    return yaml.safe_load(ACCOUNT_FILE.read_text(encoding="utf-8"))


class InvokeError(Exception):
    """A provider function the real provider would fail for this configuration."""

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
    def __init__(
        self,
        region: str = "us-east-1",
        references: References | None = None,
        declared: dict[str, set[str]] | None = None,
    ) -> None:
        self.region = region
        self.references = references or References()
        # What the estate's plans declare (hosted zones, parameters): a lookup of one of these succeeds.
        self.declared = declared or {}
        self.invoke_errors: list[dict[str, Any]] = []
        # Every provider function the program called (function token, printable arguments), in order.
        self.invokes: list[dict[str, Any]] = []

    # --- resources --------------------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        rid = args.resource_id or f"{_ID_PREFIX.get(typ, '')}{_h(typ, name)}"
        state = dict(inputs)
        region = str(inputs.get("region") or self.region)  # pulumi-aws v7's per-resource region
        if typ == "pulumi:pulumi:StackReference":
            ref = str(inputs.get("name") or args.resource_id or name)
            answer = self.references.answer(ref)
            if answer is None:  # not resolved: the reads are unknown (planner.runtime hooks)
                return ref, {"name": ref, "outputs": {}, "secretOutputNames": []}
            outputs, secret_names = answer
            wire = {
                k: ({SIG: SECRET_SIG, "value": v} if k in secret_names else v) for k, v in outputs.items()
            }
            return ref, {"name": ref, "outputs": wire, "secretOutputNames": sorted(secret_names)}
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
        elif typ == "aws:autoscaling/group:Group":
            # The provider autonames a group without a name: <resource name>-<random suffix>.
            state.setdefault("name", inputs.get("name") or f"{name}-{_h(name, n=7)}")
        elif typ == "aws:eks/nodeGroup:NodeGroup":
            state.setdefault("nodeGroupName", inputs.get("nodeGroupName") or name)
        elif typ == "aws:ec2/launchTemplate:LaunchTemplate":
            state.update(latestVersion=1, defaultVersion=1)
        elif typ == "aws:route53/healthCheck:HealthCheck":
            rid = _h(name, n=8) + "-" + _h(name, "hc", n=4)
        elif typ == "aws:route53/zone:Zone":
            zone = str(inputs.get("name") or name).rstrip(".")
            rid = f"Z0{_h(zone, 'zone', n=18).upper()}"
            state.update(
                zoneId=rid, nameServers=[f"ns-1.awsdns-01.{zone}"], arn=f"arn:aws:route53:::hostedzone/{rid}"
            )
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
        self.invokes.append({"function": args.token, "args": _printable(args.args)})
        try:
            return self._call(args.token, dict(args.args))
        except InvokeError as error:
            self.invoke_errors.append({"function": args.token, "args": _printable(args.args),
                                       "message": str(error)})
            return {}

    def _call(self, tok: str, a: dict[str, Any]) -> dict:
        region = self.region
        facts = account()
        if tok == "aws:index/getAvailabilityZones:getAvailabilityZones":
            zones = (facts["regions"].get(region) or {}).get("availability_zones")
            if not zones:
                raise InvokeError(
                    f"region {region} is not enabled for this account (planner/data/account.yaml)"
                )
            names = [z["name"] for z in zones]
            return {"names": names, "zoneIds": [z["id"] for z in zones], "id": region, "state": "available"}
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
        if tok == "aws:ssm/getParameter:getParameter":
            name = str(a.get("name"))
            public = any(name.startswith(p) for p in facts["public_parameter_prefixes"])
            if not public and name not in self.declared.get("parameters", set()):
                raise InvokeError(f"ParameterNotFound: {name}")
            # an AMI id of the parameter in this region (a public image has one id per region)
            return {
                **a,
                "value": f"ami-0{_h(region, name, n=16)}",
                "insecureValue": f"ami-0{_h(region, name, n=16)}",
                "type": "String",
                "id": name,
                # a public parameter's ARN names no account
                "arn": f"arn:aws:ssm:{region}:{'' if public else ACCOUNT}:parameter{name}",
            }
        if tok == "aws:route53/getZone:getZone":
            zone = str(a.get("name") or "").rstrip(".")
            private = bool(a.get("privateZone"))
            existing = {(z["name"], bool(z.get("private"))) for z in facts.get("hosted_zones") or []}
            declared = {(z, False) for z in self.declared.get("zones", set())}
            if (zone, private) not in existing | declared:
                raise InvokeError(
                    f"no matching Route 53 Hosted Zone found (name {zone!r}, private {private})"
                )
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
        raise InvokeError(f"{tok}: the offline plan models no answer for this function (planner/mocks.py)")


def _printable(args: Any) -> dict[str, Any]:
    return {k: v for k, v in sorted(dict(args).items()) if isinstance(v, str | int | float | bool)}
