"""Name resolution: no cluster-internal name (`*.svc`, `*.cluster.local`) is handed to anything outside
the cluster (EC2 fleets' user data, another stack through its outputs), and every endpoint a fleet is
given resolves from the VPC it runs in (AWS names, load balancer names, records of a zone the estate
declares, addresses)."""

from __future__ import annotations

import ipaddress
import json
import re

from planner.checks import Check, Finding
from planner.checks.model import get, label, resources, stacks
from planner.checks.model_userdata import endpoints, fleet_templates

INTERNAL = re.compile(r"\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:svc\.cluster\.local|svc|cluster\.local)\b")
# Suffixes the VPC resolver (Route 53 Resolver) answers for everyone: AWS service and ELB names.
AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".aws")


def _records(estate: dict) -> set[str]:
    names = set()
    for _, stack in stacks(estate):
        for r in resources(stack, "aws:route53/record:Record"):
            name = str(get(r, "inputs", "name", default="")).rstrip(".")
            if name:
                names.add(name)
    return names


def _resolves(host: str, records: set[str]) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    return host.endswith(AWS_SUFFIXES) or host in records


def run(estate: dict) -> list[Finding]:
    findings = []
    records = _records(estate)
    for name, stack in stacks(estate):
        for lt, text in fleet_templates(stack):
            for host in sorted(set(INTERNAL.findall(text))):
                findings.append(
                    Finding(
                        "name-resolution",
                        name,
                        label(lt),
                        f"the fleet's user data names {host}, a cluster-internal name EC2 "
                        "instances cannot resolve",
                    )
                )
            for key, host, _ in endpoints(text):
                if INTERNAL.fullmatch(host) or _resolves(host, records):
                    continue
                findings.append(
                    Finding(
                        "name-resolution",
                        name,
                        label(lt),
                        f"{key}: {host} resolves nowhere the fleet runs (not an AWS or load "
                        "balancer name, no Route 53 record in the estate)",
                    )
                )
        # Outputs read by other stacks: the consumer runs outside this stack's cluster.
        seen = set()
        for other, consumer in stacks(estate):
            for read in consumer.get("reads", []):
                if read["stack"].rsplit("/", 1)[-1] != name or (other, read["output"]) in seen:
                    continue
                seen.add((other, read["output"]))
                value = stack.get("outputs", {}).get(read["output"])
                hosts = sorted(set(INTERNAL.findall(json.dumps(value)))) if value is not None else []
                if hosts:
                    findings.append(
                        Finding(
                            "name-resolution",
                            other,
                            f"output {read['output']} of {name}",
                            f"{other} reads {', '.join(hosts)} from {name}: cluster-internal "
                            f"names of {name}'s cluster, which {other} cannot resolve",
                        )
                    )
    return findings


CHECK = Check(
    "name-resolution",
    "high",
    "mandatory",
    "no cluster-internal name leaves the cluster; fleet endpoints resolve where fleets run",
    run,
)
