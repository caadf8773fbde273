"""Reachability: the flows the platform needs are allowed end to end. The flows are derived from what
the plans declare, not from a list kept beside them:
- every URL a fleet's bootstrap fetches (user data): egress from the fleet's security groups and a
  default route (NAT or internet gateway) from its subnets;
- every endpoint a fleet is given (user data): the load balancer Service's source ranges admit the
  fleet's network and the fleet's security groups let it out on the port;
- the handoff chain (alpha -> beta -> gamma, user data `handoff.target`) and the sources -> alpha
  ingest (network.source_cidrs): a listener on the port, the load balancer's security groups admit the
  sender and reach the target group's instances, whose security groups admit the load balancer on the
  traffic and health-check ports;
- the fleets' S3 objects (user data `s3://`): egress to the S3 gateway endpoint's prefix list and the
  endpoint routed in the fleets' subnets; SSM (`ssm:`): an SSM interface endpoint the fleets reach;
  PostgreSQL (`database:`): a host to reach and, when it is a load balancer Service of the estate, one
  that leads to a CloudNativePG Pooler or Cluster on the port the fleet is given;
- Prometheus -> every EC2 scrape target (additionalScrapeConfigs ports): the fleets' security groups
  admit the port; -> every ServiceMonitor/PodMonitor target: no NetworkPolicy shuts Prometheus out;
- inside each Kubernetes cluster and across its edge, every flow of lib/kube/flows.yaml (DNS, the API,
  webhooks, the CDC pipeline, operators, scrapes, backups, load balancers, the peer site) passes the
  stack's NetworkPolicies (lib/kube/netpol.py: default deny, policies add up);
- the DR site's MirrorMaker 2 -> the primary's replication listener (source ranges admit the DR network);
- Scylla datacenter <-> datacenter: the external seeds are addresses the other site can reach;
- the deployer and CI -> the EKS API: the endpoint is reachable from outside the VPC the stack creates.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from lib.kube.netpol import Pod, blocked
from planner.checks import Check, Finding
from planner.checks.model import get, label, resources, stacks
from planner.checks.model_userdata import database_sections, endpoints, fetched_urls, fleet_templates
from planner.checks.name_resolution import INTERNAL

FLOWS = Path(__file__).resolve().parents[2] / "lib" / "kube" / "flows.yaml"
# A public address standing for S3 (reached at its public addresses through the gateway endpoint)
# and the alerting receivers on the internet.
INTERNET = "52.216.0.10"

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


def _covers_cidr(rule: dict[str, Any], cidr: str | None) -> bool:
    block = rule.get("cidrIpv4")
    if not block or not cidr:
        return False
    return ipaddress.ip_network(block).overlaps(ipaddress.ip_network(cidr))


def sg_path(
    estate: dict, src: list[str], src_cidr: str | None, dst: list[str], dst_cidr: str | None, port: int
) -> str | None:
    """Why security groups stop src (groups, or a network when src is empty) reaching dst on port;
    None when both the egress and the ingress rule exist."""
    egress, ingress = _rules(estate, EGRESS), _rules(estate, INGRESS)
    if src:
        out = [r for g in src for r in egress.get(g, []) if _covers(r, port)]
        if not any(
            r.get("referencedSecurityGroupId") in dst or _covers_cidr(r, dst_cidr) or _world(r) for r in out
        ):
            return f"no egress rule of {src} allows {port} to {dst or dst_cidr}"
    inn = [r for g in dst for r in ingress.get(g, []) if _covers(r, port)]
    if not any((src and r.get("referencedSecurityGroupId") in src) or _covers_cidr(r, src_cidr) for r in inn):
        return f"no ingress rule of {dst} admits {src or src_cidr} on {port}"
    return None


def _index(estate: dict) -> dict[str, Any]:
    """Load balancers by DNS name and ARN, listeners, target groups and the fleets behind them."""
    lbs, tgs, listeners, asgs = {}, {}, [], []
    for name, stack in stacks(estate):
        lts = {r["id"]: r for r in resources(stack, "aws:ec2/launchTemplate:LaunchTemplate")}
        for r in resources(stack, "aws:lb/loadBalancer:LoadBalancer"):
            lbs[get(r, "state", "arn")] = lbs[get(r, "state", "dnsName")] = (name, r)
        for r in resources(stack, "aws:lb/targetGroup:TargetGroup"):
            tgs[get(r, "state", "arn")] = (name, r)
        listeners += [(name, r) for r in resources(stack, "aws:lb/listener:Listener")]
        for r in resources(stack, "aws:autoscaling/group:Group"):
            lt = lts.get(get(r, "inputs", "launchTemplate", "id"))
            asgs.append((name, r, lt))
    return {"lbs": lbs, "tgs": tgs, "listeners": listeners, "asgs": asgs}


def _groups(lt: dict[str, Any] | None) -> list[str]:
    return [str(g) for g in get(lt, "inputs", "vpcSecurityGroupIds", default=[]) or []] if lt else []


def _through_lb(
    estate: dict,
    idx: dict[str, Any],
    lb: dict[str, Any],
    port: int,
    src: list[str],
    src_cidr: str | None,
    cidr: str | None,
) -> list[str]:
    """Problems of a flow from src through a load balancer's listener on port to its targets."""
    problems = []
    lb_sgs = [str(g) for g in get(lb, "inputs", "securityGroups", default=[]) or []]
    arn = get(lb, "state", "arn")
    lst = [
        r
        for _, r in idx["listeners"]
        if get(r, "inputs", "loadBalancerArn") == arn and int(get(r, "inputs", "port", default=-1)) == port
    ]
    if not lst:
        return [f"{lb['name']} has no listener on {port}"]
    if lb_sgs:
        why = sg_path(estate, src, src_cidr, lb_sgs, cidr, port)
        if why:
            problems.append(f"to {lb['name']}: {why}")
    for action in get(lst[0], "inputs", "defaultActions", default=[]) or []:
        tg = idx["tgs"].get(action.get("targetGroupArn"))
        if tg is None:
            continue
        tg_arn = action.get("targetGroupArn")
        targets = [
            (n, a, lt) for n, a, lt in idx["asgs"] if tg_arn in (get(a, "inputs", "targetGroupArns") or [])
        ]
        if not targets:
            problems.append(
                f"target group {tg[1]['name']} has no instances (no Auto Scaling group attaches it)"
            )
        ports = {int(get(tg[1], "inputs", "port"))}
        hc = get(tg[1], "inputs", "healthCheck", "port")
        if hc and str(hc).isdigit():
            ports.add(int(hc))
        for _, asg, lt in targets:
            for p in sorted(ports):
                why = sg_path(estate, lb_sgs, cidr, _groups(lt), cidr, p) if lb_sgs else None
                if why:
                    problems.append(f"{lb['name']} to {asg['name']}: {why}")
    return problems


def _chains(estate: dict) -> list[Finding]:
    findings = []
    idx = _index(estate)
    for name, stack in stacks(estate):
        cidr = _environment_cidr(estate, stack)
        for lt, text in fleet_templates(stack):
            for key, host, port in endpoints(text):
                if key != "target" or host not in idx["lbs"] or port is None:
                    continue
                for problem in _through_lb(estate, idx, idx["lbs"][host][1], port, _groups(lt), cidr, cidr):
                    findings.append(
                        Finding("reachability", name, label(lt), f"handoff to {host}:{port}: {problem}")
                    )
        sources = (
            stack.get("source_cidrs")
            or (estate["stacks"].get(stack.get("environment_stack") or "") or {}).get("source_cidrs")
            or []
        )
        for _, asg, lt in [a for a in idx["asgs"] if a[0] == name]:
            if get(lt, "inputs", "tags", "Module") != "alpha":
                continue
            for tg_arn in get(asg, "inputs", "targetGroupArns", default=[]) or []:
                for _, listener in idx["listeners"]:
                    actions = get(listener, "inputs", "defaultActions", default=[]) or []
                    if not any(a.get("targetGroupArn") == tg_arn for a in actions):
                        continue
                    lb = idx["lbs"].get(get(listener, "inputs", "loadBalancerArn"))
                    if lb is None:
                        continue
                    port = int(get(listener, "inputs", "port"))
                    for source in sources:
                        for problem in _through_lb(estate, idx, lb[1], port, [], source, cidr):
                            findings.append(
                                Finding(
                                    "reachability",
                                    name,
                                    label(lb[1]),
                                    f"sources {source} -> alpha on {port}: {problem}",
                                )
                            )
    return findings


def _services(estate: dict) -> list[Finding]:
    """S3, SSM and PostgreSQL as the fleets' user data uses them."""
    findings = []
    endpoints_ = [(n, r) for n, s in stacks(estate) for r in resources(s, "aws:ec2/vpcEndpoint:VpcEndpoint")]
    egress = _rules(estate, EGRESS)
    assoc = {
        get(r, "inputs", "subnetId"): get(r, "inputs", "routeTableId")
        for _, s in stacks(estate)
        for r in resources(s, "aws:ec2/routeTableAssociation:RouteTableAssociation")
    }
    hosts = _service_hosts(estate)
    for name, stack in stacks(estate):
        env = stack.get("environment_stack") or name
        asgs = {
            get(a, "inputs", "launchTemplate", "id"): a
            for a in resources(stack, "aws:autoscaling/group:Group")
        }
        for lt, text in fleet_templates(stack):
            groups = _groups(lt)
            rules = [r for g in groups for r in egress.get(g, [])]
            asg = asgs.get(lt["id"])
            subnets = (
                [str(s) for s in get(asg, "inputs", "vpcZoneIdentifiers", default=[]) or []] if asg else []
            )
            tables = {assoc.get(s) for s in subnets}
            if "s3://" in text:
                gws = [
                    r
                    for n, r in endpoints_
                    if n == env
                    and str(get(r, "inputs", "serviceName")).endswith(".s3")
                    and get(r, "inputs", "vpcEndpointType") == "Gateway"
                ]
                lists = {get(r, "state", "prefixListId") for r in gws}
                if not any(_covers(r, 443) and (r.get("prefixListId") in lists or _world(r)) for r in rules):
                    findings.append(
                        Finding(
                            "reachability",
                            name,
                            label(lt),
                            "the fleet reads and writes S3 but its security groups allow no egress "
                            "to the S3 prefix list on 443",
                        )
                    )
                elif (
                    gws
                    and tables
                    and not all(t in set(get(gws[0], "inputs", "routeTableIds") or []) for t in tables)
                ):
                    findings.append(
                        Finding(
                            "reachability",
                            name,
                            label(lt),
                            "the S3 gateway endpoint is not routed in every subnet of the fleet",
                        )
                    )
            if "ssm:" in text:
                ssm = [
                    r
                    for n, r in endpoints_
                    if n == env and str(get(r, "inputs", "serviceName")).endswith(".ssm")
                ]
                if not ssm:
                    findings.append(
                        Finding(
                            "reachability",
                            name,
                            label(lt),
                            "the fleet reads SSM parameters but its VPC has no SSM endpoint",
                        )
                    )
                else:
                    why = sg_path(
                        estate,
                        groups,
                        None,
                        [str(g) for g in get(ssm[0], "inputs", "securityGroupIds", default=[]) or []],
                        None,
                        443,
                    )
                    if why:
                        findings.append(Finding("reachability", name, label(lt), f"SSM endpoint: {why}"))
            for db in database_sections(text):
                why = _database_path(estate, db, hosts)
                if why:
                    findings.append(Finding("reachability", name, label(lt), why))
    return findings


POOLER_LABEL, CLUSTER_LABEL = "cnpg.io/poolerName", "cnpg.io/cluster"


def _database_path(
    estate: dict, db: dict[str, str], hosts: dict[str, tuple[str, dict[str, Any], list[str]]]
) -> str | None:
    """Why a fleet cannot reach its database: no host; or its host is a load balancer Service of the
    estate that does not lead to PostgreSQL on the port (its selector names no CloudNativePG Pooler
    or Cluster of its namespace, or it has no such port). A host the estate does not declare is the
    name-resolution check's."""
    address = db.get("endpoint") or db.get("host")
    if not address:
        return "the fleet is given a database but no host to reach it (database: has no host or endpoint)"
    host, _, port_text = address.rpartition(":") if ":" in address else (address, "", db.get("port", ""))
    if host not in hosts:
        return None
    owner, svc, _ = hosts[host]
    spec = get(svc, "inputs", "spec") or {}
    ns = get(svc, "inputs", "metadata", "namespace")
    selector = spec.get("selector") or {}
    kinds = {POOLER_LABEL: "Pooler", CLUSTER_LABEL: "Cluster"}
    backends = [
        r
        for r in resources(estate["stacks"][owner])
        if str(r.get("type", "")).startswith("kubernetes:postgresql.cnpg.io/")
        and get(r, "inputs", "metadata", "namespace") == ns
        and any(
            get(r, "inputs", "kind") == kind and get(r, "inputs", "metadata", "name") == selector.get(lbl)
            for lbl, kind in kinds.items()
        )
    ]
    if not backends:
        return (
            f"database: {host} ({owner}'s {svc['name']}) selects no PostgreSQL pods (its selector "
            f"{selector} names no CloudNativePG Pooler or Cluster in {ns})"
        )
    ports = {int(p.get("port")) for p in spec.get("ports") or [] if str(p.get("port", "")).isdigit()}
    if port_text.isdigit() and int(port_text) not in ports:
        return f"database: {host} ({owner}'s {svc['name']}) has no port {port_text} (ports {sorted(ports)})"
    return None


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
                    out = (
                        any(
                            _covers(r, _port)
                            and (_covers_cidr(r, cidr) or _world(r) or r.get("referencedSecurityGroupId"))
                            for r in rules
                        )
                        if _port is not None
                        else True
                    )
                    if not out:
                        findings.append(
                            Finding(
                                "reachability",
                                name,
                                label(lt),
                                f"{key}: the fleet's security groups allow no egress on {_port} to {host}",
                            )
                        )
    return findings


def blocked_scrapes(estate: dict) -> set[tuple[str, int]]:
    """(Prometheus's stack, port) of every EC2 scrape job some of whose targets' security groups shut
    it out (the observability check uses it: such a job collects nothing from them)."""
    out = set()
    for f in _scrapes(estate):
        stack, port = (
            f.message.split("'s Prometheus job", 1)[0],
            int(f.message.split(" on ", 1)[1].split(",")[0]),
        )
        out.add((stack, port))
    return out


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
                                        f"{module} on {port}, which the fleet's security groups do not admit",
                                    )
                                )
    return findings


PROMETHEUS_POD = {"app.kubernetes.io/name": "prometheus"}


def _policies(stack: dict[str, Any]) -> list[dict[str, Any]]:
    """The stack's NetworkPolicies as manifests (named after their resource when metadata has no name)."""
    out = []
    for r in resources(stack, "kubernetes:networking.k8s.io/v1:NetworkPolicy"):
        doc = dict(r["inputs"])
        doc["metadata"] = {"name": r["name"], **(doc.get("metadata") or {})}
        out.append(doc)
    return out


def _monitors(estate: dict) -> list[Finding]:
    """Prometheus -> every in-cluster scrape target: the NetworkPolicies (all of those selecting the
    target's pods, and Prometheus's own egress) let Prometheus reach the metrics port."""
    findings = []
    for name, stack in stacks(estate):
        prom_ns = next(
            (
                get(r, "inputs", "namespace")
                for r in resources(stack, "kubernetes:helm.sh/v3:Release")
                if "kube-prometheus-stack" in str(get(r, "inputs", "chart"))
            ),
            None,
        )
        if prom_ns is None:
            continue
        policies = _policies(stack)
        services = resources(stack, "kubernetes:core/v1:Service")
        prometheus = Pod(prom_ns, PROMETHEUS_POD)
        for mon in resources(stack, kind="ServiceMonitor") + resources(stack, kind="PodMonitor"):
            spec = get(mon, "inputs", "spec") or {}
            namespaces = get(spec, "namespaceSelector", "matchNames") or [
                get(mon, "inputs", "metadata", "namespace")
            ]
            labels = get(spec, "selector", "matchLabels") or {}
            for ns in namespaces:
                pod_labels, ports = dict(labels), []
                if mon["inputs"]["kind"] == "ServiceMonitor":
                    for svc in services:
                        meta = get(svc, "inputs", "metadata") or {}
                        if (
                            meta.get("namespace") == ns
                            and labels.items() <= (meta.get("labels") or {}).items()
                        ):
                            pod_labels = get(svc, "inputs", "spec", "selector") or {}
                            names = {e.get("port") for e in spec.get("endpoints") or []}
                            ports = [
                                p.get("targetPort") if isinstance(p.get("targetPort"), int) else p.get("port")
                                for p in get(svc, "inputs", "spec", "ports", default=[]) or []
                                if p.get("name") in names
                            ]
                else:
                    ports = [
                        e.get("portNumber") or e.get("port") for e in spec.get("podMetricsEndpoints") or []
                    ]
                # A named port of an operator's pod is not modelled here: lib/kube/flows.yaml names
                # those scrapes by number.
                for port in (p for p in ports if isinstance(p, int)):
                    why = blocked(policies, prometheus, Pod(ns, pod_labels), port)
                    if why:
                        findings.append(
                            Finding(
                                "reachability",
                                name,
                                label(mon),
                                f"Prometheus ({prom_ns}) scrapes {ns} on {port}: {why}",
                            )
                        )
    return findings


@cache
def required_flows() -> tuple[dict[str, Any], ...]:
    return tuple(yaml.safe_load(FLOWS.read_text(encoding="utf-8"))["flows"])


def _names(stack: dict[str, Any]) -> dict[str, str]:
    """$scylla, $postgres, $kafka, $connect: the names of the stack's clusters."""
    out = {}
    for var, kind in (
        ("$scylla", "ScyllaCluster"),
        ("$postgres", "Cluster"),
        ("$pooler", "Pooler"),
        ("$kafka", "Kafka"),
        ("$connect", "KafkaConnect"),
    ):
        found = [get(r, "inputs", "metadata", "name") for r in resources(stack, kind=kind)]
        if found:
            out[var] = str(found[0])
    return out


def _host(cidr: str | None) -> str | None:
    return str(next(ipaddress.ip_network(cidr).hosts())) if cidr else None


def _sides(
    side: dict[str, Any], stack: dict[str, Any], names: dict[str, str], namespaces: list[str]
) -> list[Pod] | None:
    """The pods (or hosts) a side of a flow stands for in this stack; None when it has none."""
    if "network" in side:
        address = {
            "vpc": _host(stack.get("network_cidr")),
            "peer": _host(get(stack, "dr", "peer_cidr")),
            "internet": INTERNET,
        }[side["network"]]
        return [Pod(address=address)] if address else None
    labels = {k: names.get(v, v) for k, v in (side.get("labels") or {}).items()}
    if any(str(v).startswith("$") for v in labels.values()):
        return None
    if side["namespace"] == "each":
        return [Pod(ns, labels) for ns in namespaces]
    return [Pod(side["namespace"], labels)]


def _cluster_flows(estate: dict) -> list[Finding]:
    """Every flow of lib/kube/flows.yaml that applies to a stack passes its NetworkPolicies."""
    findings = []
    for name, stack in stacks(estate):
        policies = _policies(stack)
        if not policies:
            continue  # no NetworkPolicy: nothing is cut (the policy pack asks for them)
        kinds = {get(r, "inputs", "kind") for r in stack.get("resources", [])}
        if stack.get("dr"):
            kinds.add("dr")
        names = _names(stack)
        namespaces = [
            str(get(r, "inputs", "metadata", "name"))
            for r in resources(stack, "kubernetes:core/v1:Namespace")
        ]
        owner = next(iter(resources(stack, "kubernetes:networking.k8s.io/v1:NetworkPolicy")))
        for flow in required_flows():
            if not set(flow.get("when") or ()) <= kinds:
                continue
            sources = _sides(flow["from"], stack, names, namespaces)
            targets = _sides(flow["to"], stack, names, namespaces)
            if not sources or not targets:
                continue
            for src in sources:
                for dst in targets:
                    for port in flow["ports"]:
                        why = blocked(policies, src, dst, int(port), flow.get("protocol", "TCP"))
                        if why:
                            where = src.address or src.namespace
                            findings.append(
                                Finding(
                                    "reachability",
                                    name,
                                    label(owner),
                                    f"flow {flow['name']} ({flow['why']}): {where} -> "
                                    f"{dst.address or dst.namespace} on {port}: {why}",
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
            spec = get(mm, "inputs", "spec") or {}
            # Strimzi v1: spec.mirrors[].source; v1beta2: spec.clusters[].
            sources = [m.get("source") or {} for m in spec.get("mirrors") or []] + list(
                spec.get("clusters") or []
            )
            for cluster in sources:
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
                    there = (estate["stacks"].get(owner) or {}).get("network_cidr")
                    for dest, side in ((there, "to"), (stack.get("network_cidr"), "back from")):
                        if owner != name and dest and not _peering_route(estate, dest):
                            findings.append(
                                Finding(
                                    "reachability",
                                    name,
                                    label(mm),
                                    f"cluster {cluster.get('alias')}: no peering route {side} "
                                    f"{owner} ({dest})",
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
                why = _seed_blocked(estate, name, str(seed), hosts)
                if why:
                    findings.append(Finding("reachability", name, label(sc), f"external seed {seed} {why}"))
    return findings


def _vpc_ids(stack: dict[str, Any]) -> set[str]:
    return {str(r.get("id")) for r in resources(stack, "aws:ec2/vpc:Vpc") if r.get("id")}


def _zone_vpcs(estate: dict) -> dict[str, set[str]]:
    """Private hosted zone id -> the VPCs it is associated with (its own vpcs and ZoneAssociations)."""
    out: dict[str, set[str]] = {}
    for _, s in stacks(estate):
        for z in resources(s, "aws:route53/zone:Zone"):
            vpcs = get(z, "inputs", "vpcs", default=[]) or []
            if vpcs:
                out.setdefault(str(z.get("id")), set()).update(str(v.get("vpcId")) for v in vpcs)
        for a in resources(s, "aws:route53/zoneAssociation:ZoneAssociation"):
            out.setdefault(str(get(a, "inputs", "zoneId")), set()).add(str(get(a, "inputs", "vpcId")))
    return out


def _seed_blocked(
    estate: dict, name: str, seed: str, hosts: dict[str, tuple[str, dict[str, Any], list[str]]]
) -> str | None:
    """Why a node of stack `name` cannot reach external seed `seed`; None when it can: an address, or
    a record of a private zone associated with this stack's VPC, on a load balancer that admits this
    stack's network, with a peering route either way."""
    try:
        ipaddress.ip_address(seed)
        return None
    except ValueError:
        pass
    if INTERNAL.fullmatch(seed):
        return "is a name inside the other site's cluster: the datacenters cannot gossip"
    stack = estate["stacks"][name]
    records = [
        r
        for _, s in stacks(estate)
        for r in resources(s, "aws:route53/record:Record")
        if str(get(r, "inputs", "name", default="")).rstrip(".") == seed
    ]
    if not records:
        return "has no Route 53 record in the estate: the datacenters cannot gossip"
    record = records[0]
    if not _vpc_ids(stack) & _zone_vpcs(estate).get(str(get(record, "inputs", "zoneId")), set()):
        return f"is a record of a zone not associated with {name}'s VPC: {name} cannot resolve it"
    targets = [str(t).rstrip(".") for t in get(record, "inputs", "records", default=[]) or []]
    target = next((t for t in targets if t in hosts), None)
    if target is None:
        return f"points at {', '.join(targets) or 'nothing'}, no load balancer of the estate"
    owner, _, ranges = hosts[target]
    if not _admits(ranges, stack.get("network_cidr")):
        return f"is a load balancer that admits {ranges}, not {stack.get('network_cidr')}"
    there = (estate["stacks"].get(owner) or {}).get("network_cidr")
    for dest, side in ((there, "to"), (stack.get("network_cidr"), "back from")):
        if owner != name and dest and not _peering_route(estate, dest):
            return f"has no peering route {side} {owner} ({dest})"
    return None


def _peering_route(estate: dict, destination: str) -> bool:
    return any(
        get(r, "inputs", "destinationCidrBlock") == destination and get(r, "inputs", "vpcPeeringConnectionId")
        for _, s in stacks(estate)
        for r in resources(s, "aws:ec2/route:Route")
    )


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
    return (
        _fleets(estate)
        + _chains(estate)
        + _services(estate)
        + _scrapes(estate)
        + _monitors(estate)
        + _cluster_flows(estate)
        + _dr(estate)
        + _eks_api(estate)
    )


CHECK = Check(
    "reachability",
    "critical",
    "mandatory",
    "the platform's flows are allowed end to end (SGs, routes, listeners, source ranges)",
    run,
)
