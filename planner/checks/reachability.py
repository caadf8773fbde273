"""Reachability: the flows the platform needs are allowed end to end. The flows are derived from what
the plans declare, not from a list kept beside them:
- every URL a fleet's bootstrap fetches (user data): egress from the fleet's security groups and a
  default route (NAT or internet gateway) from its subnets;
- every endpoint a fleet is given (user data): the load balancer Service's source ranges admit the
  fleet's network;
- Prometheus -> every EC2 scrape target (additionalScrapeConfigs ports): the fleets' security groups
  admit the port;
- the DR site's MirrorMaker 2 -> the primary's replication listener (source ranges admit the DR network);
- Scylla datacenter <-> datacenter: the external seeds are addresses the other site can reach;
- the deployer and CI -> the EKS API: the endpoint is reachable from outside the VPC the stack creates.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from planner.checks import Check, Finding
from planner.checks.model import get, label, resources, stacks
from planner.checks.model_userdata import endpoints, fetched_urls, fleet_templates
from planner.checks.name_resolution import INTERNAL

EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
# AWS service names reached through the VPC's endpoints (gateway S3 and the interface endpoints).
AWS_SERVICE = (".amazonaws.com",)


def _rules(estate: dict, typ: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for _, stack in stacks(estate):
        for r in resources(stack, typ):
            out.setdefault(str(get(r, "inputs", "securityGroupId")), []).append(r["inputs"])
    return out


def _covers(rule: dict[str, Any], port: int) -> bool:
    if rule.get("ipProtocol") in ("-1", -1, "all"):
        return True
    return int(rule.get("fromPort", -1)) <= port <= int(rule.get("toPort", -1))


def _world(rule: dict[str, Any]) -> bool:
    return rule.get("cidrIpv4") == "0.0.0.0/0"


def _service_hosts(estate: dict) -> dict[str, tuple[str, dict[str, Any], list[str]]]:
    """Load balancer host name -> (stack, Service, source ranges). A Service Strimzi creates for a
    listener (read by the program) takes the source ranges of that listener of the Kafka resource."""
    out = {}
    for name, stack in stacks(estate):
        listeners = {}
        for kafka in resources(stack, kind="Kafka"):
            cluster = get(kafka, "inputs", "metadata", "name")
            ns = get(kafka, "inputs", "metadata", "namespace")
            for lst in get(kafka, "inputs", "spec", "kafka", "listeners", default=[]) or []:
                key = f"{ns}/{cluster}-kafka-{lst.get('name')}-bootstrap"
                listeners[key] = get(lst, "configuration", "loadBalancerSourceRanges", default=[]) or []
        for svc in resources(stack, "kubernetes:core/v1:Service"):
            ranges = (
                listeners.get(svc.get("id"), [])
                if get(svc, "options", "read")
                else get(svc, "inputs", "spec", "loadBalancerSourceRanges", default=[]) or []
            )
            for ing in get(svc, "state", "status", "loadBalancer", "ingress", default=[]) or []:
                if ing.get("hostname"):
                    out[ing["hostname"]] = (name, svc, list(ranges))
    return out


def _admits(ranges: list[str], cidr: str | None) -> bool:
    if not ranges:
        return True
    if cidr is None:
        return False
    net = ipaddress.ip_network(cidr)
    return any(net.subnet_of(ipaddress.ip_network(r)) for r in ranges if ":" not in r)


def _environment_cidr(estate: dict, stack: dict[str, Any]) -> str | None:
    if stack.get("network_cidr"):
        return stack["network_cidr"]
    env = stack.get("environment_stack")
    return (estate["stacks"].get(env) or {}).get("network_cidr") if env else None


def _default_route(estate: dict) -> bool:
    return any(
        get(r, "inputs", "destinationCidrBlock") == "0.0.0.0/0"
        and (get(r, "inputs", "natGatewayId") or get(r, "inputs", "gatewayId"))
        for _, s in stacks(estate)
        for r in resources(s, "aws:ec2/route:Route")
    )


def _fleets(estate: dict) -> list[Finding]:
    findings = []
    egress = _rules(estate, EGRESS)
    hosts = _service_hosts(estate)
    for name, stack in stacks(estate):
        cidr = _environment_cidr(estate, stack)
        for lt, text in fleet_templates(stack):
            groups = [str(g) for g in get(lt, "inputs", "vpcSecurityGroupIds", default=[]) or []]
            rules = [rule for g in groups for rule in egress.get(g, [])]
            for host, port in fetched_urls(text):
                if host.endswith(AWS_SERVICE) or INTERNAL.fullmatch(host):
                    continue
                if not any(_world(r) and _covers(r, port) for r in rules):
                    findings.append(
                        Finding(
                            "reachability",
                            name,
                            label(lt),
                            f"the bootstrap fetches {host}:{port}, but the fleet's security "
                            f"groups allow no egress to the internet on {port}",
                        )
                    )
                elif not _default_route(estate):
                    findings.append(
                        Finding(
                            "reachability",
                            name,
                            label(lt),
                            f"the bootstrap fetches {host}:{port}, but no route leads to a "
                            "NAT or internet gateway",
                        )
                    )
            for key, host, _port in endpoints(text):
                if INTERNAL.fullmatch(host):
                    findings.append(
                        Finding(
                            "reachability",
                            name,
                            label(lt),
                            f"{key}: {host} is inside a Kubernetes cluster; no route or "
                            "listener admits the fleet",
                        )
                    )
                    continue
                if host in hosts:
                    owner, svc, ranges = hosts[host]
                    if not _admits(ranges, cidr):
                        findings.append(
                            Finding(
                                "reachability",
                                name,
                                label(lt),
                                f"{key}: {host} ({owner}'s {svc['name']}) admits only {ranges}; "
                                f"the fleet runs in {cidr}",
                            )
                        )
    return findings


def _scrapes(estate: dict) -> list[Finding]:
    findings = []
    ingress = _rules(estate, INGRESS)
    for name, stack in stacks(estate):
        for rel in resources(stack, "kubernetes:helm.sh/v3:Release"):
            configs = (
                get(rel, "inputs", "values", "prometheus", "prometheusSpec", "additionalScrapeConfigs") or []
            )
            for cfg in configs:
                for sd in cfg.get("ec2_sd_configs") or []:
                    port = int(sd.get("port") or 80)
                    modules = [
                        v
                        for f in sd.get("filters") or []
                        if f.get("name") == "tag:Module"
                        for v in f.get("values") or []
                    ]
                    for module in modules:
                        for owner, lt in _module_templates(estate, stack.get("environment"), module):
                            groups = [
                                str(g) for g in get(lt, "inputs", "vpcSecurityGroupIds", default=[]) or []
                            ]
                            if not any(_covers(rule, port) for g in groups for rule in ingress.get(g, [])):
                                findings.append(
                                    Finding(
                                        "reachability",
                                        owner,
                                        label(lt),
                                        f"{name}'s Prometheus job {cfg.get('job_name')} scrapes "
                                        f"{module} on {port}, which the fleet's security groups "
                                        "do not admit",
                                    )
                                )
    return findings


def _module_templates(estate: dict, environment: str | None, module: str) -> list[tuple[str, dict[str, Any]]]:
    """The launch templates of a module's fleets in an environment (tagged Module=<module>)."""
    out = []
    for name, stack in stacks(estate):
        if stack.get("environment") != environment:
            continue
        for lt in resources(stack, "aws:ec2/launchTemplate:LaunchTemplate"):
            tags = get(lt, "inputs", "tags") or {}
            if tags.get("Module") == module:
                out.append((name, lt))
    return out


def _dr(estate: dict) -> list[Finding]:
    findings = []
    hosts = _service_hosts(estate)
    for name, stack in stacks(estate):
        for mm in resources(stack, kind="KafkaMirrorMaker2"):
            for cluster in get(mm, "inputs", "spec", "clusters", default=[]) or []:
                servers = str(cluster.get("bootstrapServers") or "")
                host = servers.split(",")[0].rsplit(":", 1)[0]
                if host in hosts:
                    owner, svc, ranges = hosts[host]
                    if not _admits(ranges, stack.get("network_cidr")):
                        findings.append(
                            Finding(
                                "reachability",
                                name,
                                label(mm),
                                f"cluster {cluster.get('alias')}: {host} admits {ranges}, not "
                                f"{stack.get('network_cidr')}",
                            )
                        )
                elif INTERNAL.fullmatch(host or "-"):
                    findings.append(
                        Finding(
                            "reachability",
                            name,
                            label(mm),
                            f"cluster {cluster.get('alias')}: {host} is inside another cluster",
                        )
                    )
        for sc in resources(stack, kind="ScyllaCluster"):
            for seed in get(sc, "inputs", "spec", "externalSeeds", default=[]) or []:
                if INTERNAL.fullmatch(str(seed)):
                    findings.append(
                        Finding(
                            "reachability",
                            name,
                            label(sc),
                            f"external seed {seed} is a name inside the other site's cluster: "
                            "the datacenters cannot gossip",
                        )
                    )
    return findings


def _eks_api(estate: dict) -> list[Finding]:
    findings = []
    for name, stack in stacks(estate):
        for cl in resources(stack, "aws:eks/cluster:Cluster"):
            vpc = get(cl, "inputs", "vpcConfig") or {}
            if not vpc.get("endpointPublicAccess"):
                findings.append(
                    Finding(
                        "reachability",
                        name,
                        label(cl),
                        "the EKS API endpoint is private only, and the deployer and CI run "
                        "outside the VPC this stack creates: the Kubernetes provider cannot reach it",
                    )
                )
            elif "0.0.0.0/0" in (vpc.get("publicAccessCidrs") or ["0.0.0.0/0"]):
                findings.append(
                    Finding(
                        "reachability",
                        name,
                        label(cl),
                        "the EKS API endpoint is open to the internet (publicAccessCidrs)",
                    )
                )
    return findings


def run(estate: dict) -> list[Finding]:
    return _fleets(estate) + _scrapes(estate) + _dr(estate) + _eks_api(estate)


CHECK = Check(
    "reachability",
    "critical",
    "mandatory",
    "the platform's flows are allowed end to end (SGs, routes, listeners, source ranges)",
    run,
)
