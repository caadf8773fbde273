"""Permissions: every customer-managed KMS key lets each AWS service that uses it do so (EBS volumes a
launch template encrypts are created by the Auto Scaling service-linked role, whose own policy cannot
be extended: the key policy or a grant must name it; CloudWatch Logs needs its service principal in
the key policy; EKS secrets encryption and S3 replication use IAM roles, which the key policy must
delegate to IAM and the roles' policies must allow), and every workload that needs AWS credentials
gets them before its pods start (an IRSA annotation patched onto a service account after the pods
exist gives them none until they restart), and every credentials_ref a fleet is given names an SSM
parameter the estate creates and the fleet's instance role may read."""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

from planner.checks import Check, Finding
from planner.checks.model import get, label, resources, stacks
from planner.checks.model_userdata import fleet_templates

AUTOSCALING_SLR = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
KEY = "aws:kms/key:Key"


def _policy(r: dict[str, Any]) -> list[dict[str, Any]]:
    text = get(r, "inputs", "policy")
    if not isinstance(text, str) or not text.startswith("{"):
        return [
            {"Effect": "Allow", "Principal": {"AWS": "root"}, "Action": "kms:*", "Resource": "*"}
        ]  # default
    doc = json.loads(text)
    st = doc.get("Statement") or []
    return st if isinstance(st, list) else [st]


def _as_list(v: Any) -> list[str]:
    return [str(x) for x in (v if isinstance(v, list) else [v] if v is not None else [])]


def _principals(st: dict[str, Any]) -> list[str]:
    p = st.get("Principal") or {}
    if p == "*":
        return ["*"]
    return [x for v in p.values() for x in _as_list(v)]


def _allows(statements: list[dict[str, Any]], principal_part: str) -> bool:
    return any(
        st.get("Effect", "Allow") == "Allow" and any(principal_part in p for p in _principals(st))
        for st in statements
    )


def _keys(estate: dict) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        r["id"]: (name, r) for name, stack in stacks(estate) for r in resources(stack, KEY) if r.get("id")
    }


def _key_for(arn: Any, keys: dict[str, tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]] | None:
    if not isinstance(arn, str) or "key/" not in arn:
        return None
    return keys.get(arn.rsplit("key/", 1)[1])


def _role_allows(stack: dict[str, Any], role_ref: str, action: str, key_arn: str) -> bool:
    """Whether a role's inline policies allow `action` on the key (role_ref: the role's ARN or id)."""
    roles = {r["id"]: r for r in resources(stack, "aws:iam/role:Role")}
    ids = {
        rid
        for rid, r in roles.items()
        if role_ref == rid
        or role_ref.endswith(f"role/{r['name']}")
        or role_ref.endswith(f"role/{get(r, 'inputs', 'name')}")
    }
    for rp in resources(stack, "aws:iam/rolePolicy:RolePolicy"):
        if get(rp, "inputs", "role") not in ids:
            continue
        try:
            doc = json.loads(get(rp, "inputs", "policy", default="{}"))
        except (TypeError, ValueError):
            continue
        for st in doc.get("Statement") or []:
            actions = _as_list(st.get("Action"))
            if st.get("Effect", "Allow") != "Allow":
                continue
            if not any(
                a in (action, "kms:*", "*") or (a.endswith("*") and action.startswith(a[:-1]))
                for a in actions
            ):
                continue
            if any(res in ("*", key_arn) for res in _as_list(st.get("Resource"))):
                return True
    return False


def _kms(estate: dict) -> list[Finding]:
    findings = []
    keys = _keys(estate)
    grants = {
        (get(g, "inputs", "keyId"), str(get(g, "inputs", "granteePrincipal", default="")))
        for _, s in stacks(estate)
        for g in resources(s, "aws:kms/grant:Grant")
    }
    for name, stack in stacks(estate):
        templates = {r["id"]: r for r in resources(stack, "aws:ec2/launchTemplate:LaunchTemplate")}
        used = {
            get(r, "inputs", "launchTemplate", "id") for r in resources(stack, "aws:autoscaling/group:Group")
        }
        used |= {
            get(r, "inputs", "launchTemplate", "id") for r in resources(stack, "aws:eks/nodeGroup:NodeGroup")
        }
        for lt_id in sorted(x for x in used if x in templates):
            lt = templates[lt_id]
            for bdm in get(lt, "inputs", "blockDeviceMappings", default=[]) or []:
                found = _key_for(get(bdm, "ebs", "kmsKeyId"), keys)
                if found is None:
                    continue
                owner, key = found
                granted = any(
                    AUTOSCALING_SLR in grantee and str(kid) in (key["id"], get(bdm, "ebs", "kmsKeyId"))
                    for kid, grantee in grants
                )
                if not _allows(_policy(key), AUTOSCALING_SLR) and not granted:
                    findings.append(
                        Finding(
                            "permissions",
                            owner,
                            label(key),
                            f"encrypts the EBS volumes of {name}'s {lt['name']} "
                            f"(device {bdm.get('deviceName')}), "
                            "but neither its key policy nor a grant lets AWSServiceRoleForAutoScaling use "
                            "it: instances fail to launch",
                        )
                    )
        for lg in resources(stack, "aws:cloudwatch/logGroup:LogGroup"):
            found = _key_for(get(lg, "inputs", "kmsKeyId"), keys)
            if found and not _allows(_policy(found[1]), "logs."):
                findings.append(
                    Finding(
                        "permissions",
                        found[0],
                        label(found[1]),
                        f"encrypts log group {get(lg, 'inputs', 'name')} but its key policy does "
                        "not allow the CloudWatch Logs service principal",
                    )
                )
        for cl in resources(stack, "aws:eks/cluster:Cluster"):
            for cfg in _as_list_dicts(get(cl, "inputs", "encryptionConfig")):
                found = _key_for(get(cfg, "provider", "keyArn"), keys)
                if found and not (
                    _allows(_policy(found[1]), "root")
                    or _allows(_policy(found[1]), str(get(cl, "inputs", "roleArn")))
                ):
                    findings.append(
                        Finding(
                            "permissions",
                            found[0],
                            label(found[1]),
                            f"encrypts {cl['name']}'s secrets but its key policy neither "
                            "delegates to IAM nor names the cluster role",
                        )
                    )
        for rc in resources(stack, "aws:s3/bucketReplicationConfig:BucketReplicationConfig"):
            role = str(get(rc, "inputs", "role", default=""))
            for rule in get(rc, "inputs", "rules", default=[]) or []:
                replica_key = get(rule, "destination", "encryptionConfiguration", "replicaKmsKeyId")
                if isinstance(replica_key, str) and not _role_allows(stack, role, "kms:Encrypt", replica_key):
                    findings.append(
                        Finding(
                            "permissions",
                            name,
                            label(rc),
                            f"rule {rule.get('id')}: replication role {role} may not kms:Encrypt "
                            f"with the replica key {replica_key}",
                        )
                    )
    return findings


def _as_list_dicts(v: Any) -> list[dict[str, Any]]:
    return [x for x in (v if isinstance(v, list) else [v]) if isinstance(x, dict)]


def _closure(by_urn: dict[str, dict[str, Any]], start: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    todo = list(start.get("dependencies") or [])
    while todo:
        urn = todo.pop()
        if urn in seen:
            continue
        seen.add(urn)
        todo.extend((by_urn.get(urn) or {}).get("dependencies") or [])
    return seen


def _workloads(stack: dict[str, Any]) -> list[tuple[dict[str, Any], str, str]]:
    """(resource, namespace, service account) of what starts pods with a service account."""
    out = []
    for r in stack.get("resources", []):
        i = r.get("inputs") or {}
        ns = get(i, "metadata", "namespace")
        if i.get("kind") == "ScyllaCluster" and r["type"].startswith("kubernetes:scylla"):
            out.append((r, ns, f"{get(i, 'metadata', 'name')}-member"))
        sa = get(i, "spec", "template", "spec", "serviceAccountName")
        if sa:
            out.append((r, ns, sa))
    return out


def _irsa(estate: dict) -> list[Finding]:
    findings = []
    for name, stack in stacks(estate):
        by_urn = {r["urn"]: r for r in stack.get("resources", [])}
        patches = [
            r
            for r in stack.get("resources", [])
            if r["type"] in ("kubernetes:core/v1:ServiceAccountPatch", "kubernetes:core/v1:ServiceAccount")
            and get(r, "inputs", "metadata", "annotations", "eks.amazonaws.com/role-arn")
        ]
        for patch in patches:
            ns, sa = get(patch, "inputs", "metadata", "namespace"), get(patch, "inputs", "metadata", "name")
            for workload, wns, wsa in _workloads(stack):
                if (wns, wsa) != (ns, sa):
                    continue
                if patch["urn"] not in _closure(by_urn, workload):
                    findings.append(
                        Finding(
                            "permissions",
                            name,
                            label(workload),
                            f"its pods run as {ns}/{sa}, whose IAM role annotation ({label(patch)}) is not "
                            "applied before them: the pods start without AWS credentials until restarted",
                        )
                    )
    return findings


# `credentials_ref: ssm:/pipeline/...` in a module's configuration (components/fleet/credentials.py).
CREDENTIALS_REF = re.compile(r"credentials_ref:\s*['\"]?ssm:(/[A-Za-z0-9_./-]+)")
SSM_PARAMETER = "aws:ssm/parameter:Parameter"
SSM_READ = ("ssm:GetParameter", "ssm:GetParameters", "ssm:*", "*")


def _instance_role_statements(stack: dict[str, Any], lt: dict[str, Any]) -> list[dict[str, Any]]:
    """The inline policy statements of the role a launch template's instance profile carries."""
    arn = str(get(lt, "inputs", "iamInstanceProfile", "arn", default="") or "")
    profile = next(
        (
            p
            for p in resources(stack, "aws:iam/instanceProfile:InstanceProfile")
            if arn and (get(p, "state", "arn") == arn or arn.endswith(f"instance-profile/{p['name']}"))
        ),
        None,
    )
    if profile is None:
        return []
    role_name = get(profile, "inputs", "role")
    refs = {
        ref
        for r in resources(stack, "aws:iam/role:Role")
        if role_name in (r["name"], get(r, "inputs", "name"), get(r, "state", "name"))
        for ref in (r["id"], r["name"], get(r, "inputs", "name"))
        if ref
    }
    out = []
    for rp in resources(stack, "aws:iam/rolePolicy:RolePolicy"):
        if get(rp, "inputs", "role") not in refs:
            continue
        try:
            doc = json.loads(get(rp, "inputs", "policy", default="{}"))
        except (TypeError, ValueError):
            continue
        st = doc.get("Statement") or []
        out += st if isinstance(st, list) else [st]
    return out


def _may_read(statements: list[dict[str, Any]], parameter: str) -> bool:
    for st in statements:
        if st.get("Effect", "Allow") != "Allow" or not any(a in SSM_READ for a in _as_list(st.get("Action"))):
            continue
        for res in _as_list(st.get("Resource")):
            if (
                res == "*"
                or res.endswith(f":parameter{parameter}")
                or ("*" in res and fnmatch.fnmatchcase(f"parameter{parameter}", res.rsplit(":", 1)[-1]))
            ):
                return True
    return False


def _credentials(estate: dict) -> list[Finding]:
    """Every credentials_ref a fleet's configuration names is an SSM parameter a stack of the estate
    creates, and the instance role may read it."""
    findings = []
    created = {str(get(r, "inputs", "name")) for _, s in stacks(estate) for r in resources(s, SSM_PARAMETER)}
    for name, stack in stacks(estate):
        for lt, text in fleet_templates(stack):
            statements = _instance_role_statements(stack, lt)
            for parameter in sorted(set(CREDENTIALS_REF.findall(text))):
                if parameter not in created:
                    why = "no stack of the estate creates that SSM parameter: the module has no credentials"
                elif not _may_read(statements, parameter):
                    why = "the instance role may not read it (no ssm:GetParameter on the parameter)"
                else:
                    continue
                findings.append(
                    Finding("permissions", name, label(lt), f"credentials_ref ssm:{parameter}: {why}")
                )
    return findings


def run(estate: dict) -> list[Finding]:
    return _kms(estate) + _irsa(estate) + _credentials(estate)


CHECK = Check(
    "permissions",
    "critical",
    "mandatory",
    "KMS keys grant the services that use them; workloads get credentials before their pods start",
    run,
)
