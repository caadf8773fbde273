"""The VPC of each AWS environment stack: security-group rules are exactly seed 003's flows, NAT per
stack, subnets over the AZs, S3 endpoint, flow logs, DR peering, and the settings contract."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
import yaml

from components.network.settings import overlapping_networks
from policies.rules import check_all
from stacks.settings import SettingsError, load_settings
from tests.network.foundation import AWS_STACKS, names_by_id

REPO = Path(__file__).resolve().parents[2]
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"

# Ports of the module fleets (FleetSettings defaults; the seed names the flows, not the numbers).
HANDOFF, HEALTH, METRICS = 9000, 8080, 9100
SOURCE_PORT = 8443  # NetworkSettings.source_ports default (REST adapter over TLS)
HTTPS = 443
# The data plane the fleets talk to (seed 000 pipeline): Kafka plain/TLS/replication listener,
# PostgreSQL, Scylla CQL, OTLP gRPC/HTTP (telemetry and logs: 003 Module Alpha Step 1 "metrics
# collection ... logging aggregation"), Schema Registry.
DATA_PLANE = ((9092, 9094), (5432, 5432), (9042, 9042), (4317, 4318), (8081, 8081))
# Between the data planes of a DR pair: Scylla inter-DC (7000/7001) and CQL, Kafka (MirrorMaker 2),
# PostgreSQL streaming replication (003 Disaster Recovery; 004 RPO < 1 min).
REPLICATION = ((7000, 7001), (9042, 9042), (9092, 9094), (5432, 5432))
MODULES = ("alpha", "beta", "gamma")


def _stack_config(stack: str) -> dict:
    return yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]


def expected_rules(stack: str, *, public_ingest: bool = False) -> set[tuple]:
    """Every rule (group, direction, peer, first port, last port) seed 003's flows call for here."""
    net = _stack_config(stack)["pipeline-infra:network"]
    dr = _stack_config(stack).get("pipeline-infra:dr")
    rules: set[tuple] = set()

    def flow(src: str, dst: str, port: int | tuple[int, int]) -> None:  # security group to security group
        first, last = port if isinstance(port, tuple) else (port, port)
        rules.add((src, "egress", f"sg:{dst}", first, last))
        rules.add((dst, "ingress", f"sg:{src}", first, last))

    # 003 Module Alpha Step 1: "allowing inbound traffic on the source adapter ports", through the
    # ingest load balancer (Step 5: "reconfigures the load balancer to include the new instance").
    for cidr in net["source_cidrs"]:
        rules.add(("ingest-lb", "ingress", f"cidr:{cidr}", SOURCE_PORT, SOURCE_PORT))
    if public_ingest:
        rules.add(("ingest-lb", "ingress", "cidr:0.0.0.0/0", SOURCE_PORT, SOURCE_PORT))
    flow("ingest-lb", "alpha", SOURCE_PORT)
    # 003 Module Alpha Step 4: "the load balancer health probe endpoint".
    flow("ingest-lb", "alpha", HEALTH)
    # 003 Module Alpha Step 1 "outbound connectivity to Module Beta endpoints for record handoff";
    # Module Beta Step 1 "inbound traffic from Module Alpha on the designated handoff port and health
    # check probes from the load balancer", "outbound connectivity to Module Gamma endpoints"; Module
    # Gamma Step 1 "inbound traffic from Module Beta on the handoff port ... and health check probes".
    # Each receiver sits behind its handoff load balancer.
    for sender, receiver in (("alpha", "beta"), ("beta", "gamma")):
        flow(sender, f"handoff-lb-{receiver}", HANDOFF)
        flow(f"handoff-lb-{receiver}", receiver, HANDOFF)
        flow(f"handoff-lb-{receiver}", receiver, HEALTH)
    # 003 Monitoring Architecture: Prometheus (on the EKS nodes) scrapes every fleet's exporter and
    # the module's own metrics (003: `curl http://alpha:8080/metrics`, the health/admin port).
    for module in MODULES:
        flow("data-plane", module, METRICS)
        flow("data-plane", module, HEALTH)
    # 003 Module Beta Step 1: outbound to "enrichment data sources"; Gamma Step 1: outbound to "all
    # configured delivery destination endpoints".
    for cidr in net["enrichment_cidrs"]:
        rules.add(("beta", "egress", f"cidr:{cidr}", HTTPS, HTTPS))
    for cidr in net["destination_cidrs"]:
        rules.add(("gamma", "egress", f"cidr:{cidr}", HTTPS, HTTPS))
    # Fleets -> data plane; S3 (artifacts, 003 Artifact Verification; state backups, 003 State
    # Backups) through the gateway endpoint; SSM and CloudWatch through interface endpoints.
    for module in MODULES:
        for first, last in DATA_PLANE:
            # out to the VPC (internal load balancers, pods), in on the nodes from the fleet's group
            rules.add((module, "egress", f"cidr:{net['cidr']}", first, last))
            rules.add(("data-plane", "ingress", f"sg:{module}", first, last))
        rules.add((module, "egress", "pl:s3", HTTPS, HTTPS))
        flow(module, "endpoints", HTTPS)
    flow("data-plane", "endpoints", HTTPS)
    if dr is not None:
        for first, last in REPLICATION:
            rules.add(("data-plane", "ingress", f"cidr:{dr['peer_cidr']}", first, last))
            rules.add(("data-plane", "egress", f"cidr:{dr['peer_cidr']}", first, last))
    return rules


def declared_rules(plan) -> list[tuple]:
    sgs = names_by_id(plan, SG)
    prefix = f"{plan.settings.environment}-network-"
    out = []
    for typ, direction in ((INGRESS, "ingress"), (EGRESS, "egress")):
        for r in plan.of_type(typ):
            i = r.inputs
            assert i["ipProtocol"] == "tcp", r.name
            assert i["fromPort"] <= i["toPort"], r.name
            if i.get("referencedSecurityGroupId"):
                peer = "sg:" + sgs[i["referencedSecurityGroupId"]].removeprefix(prefix)
            elif i.get("cidrIpv4"):
                peer = f"cidr:{i['cidrIpv4']}"
            else:
                assert str(i.get("prefixListId", "")).startswith("pl-"), r.name
                peer = "pl:s3"
            out.append(
                (sgs[i["securityGroupId"]].removeprefix(prefix), direction, peer, i["fromPort"], i["toPort"])
            )
    return out


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_security_group_rules_are_exactly_the_seed_flows(stack, plan_of):
    declared = declared_rules(plan_of(stack))
    assert len(declared) == len(set(declared)), "a flow is declared twice"
    want = expected_rules(stack)
    assert set(declared) - want == set(), "rules beyond seed 003's flows"
    assert want - set(declared) == set(), "seed 003 flows without a rule"


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_nothing_is_open_to_the_world_without_public_ingest(stack, plan_of):
    plan = plan_of(stack)
    world = [
        r
        for r in plan.of_type(INGRESS)
        if r.inputs.get("cidrIpv4") in ("0.0.0.0/0",) or r.inputs.get("cidrIpv6") == "::/0"
    ]
    assert world == []
    assert [v for v in check_all(plan.resources) if v["policy"] == "no-world-ingress"] == []


def test_public_ingest_opens_only_the_ingest_listener(plan_of):
    plan = plan_of("staging", {"network.public_ingest": True})
    declared = declared_rules(plan)
    assert set(declared) == expected_rules("staging", public_ingest=True)
    world = [r for r in plan.of_type(INGRESS) if r.inputs.get("cidrIpv4") == "0.0.0.0/0"]
    assert len(world) == 1
    assert world[0].inputs["description"].lower().startswith("public ingest")  # policies/rules.py mark
    assert [v for v in check_all(plan.resources) if v["policy"] == "no-world-ingress"] == []


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_rule_says_what_it_is_for(stack, plan_of):
    plan = plan_of(stack)
    for r in plan.of_type(INGRESS) + plan.of_type(EGRESS):
        assert len(r.inputs.get("description", "")) > 5, r.name


@pytest.mark.parametrize(("stack", "nat_gateways"), [("prod", 3), ("prod-dr", 3), ("staging", 1)])
def test_nat_gateways_per_stack(stack, nat_gateways, plan_of):
    # issue 3 / DESIGN: one NAT per AZ in prod (and its DR site), one in staging.
    plan = plan_of(stack)
    nats = plan.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == nat_gateways
    defaults = [
        r
        for r in plan.of_type("aws:ec2/route:Route")
        if r.inputs.get("destinationCidrBlock") == "0.0.0.0/0" and r.inputs.get("natGatewayId")
    ]
    assert len(defaults) == 3  # every private route table leaves through a NAT
    assert len({r.inputs["natGatewayId"] for r in defaults}) == nat_gateways


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_subnets_span_three_zones_inside_the_vpc(stack, plan_of):
    # DESIGN.md / issue 3: "VPC over 3 AZs with the stack's CIDR", public and private subnets.
    plan = plan_of(stack)
    vpc = ipaddress.ip_network(_stack_config(stack)["pipeline-infra:network"]["cidr"])
    (vpc_res,) = plan.of_type("aws:ec2/vpc:Vpc")
    assert vpc_res.inputs["cidrBlock"] == str(vpc)
    subnets = plan.of_type("aws:ec2/subnet:Subnet")
    nets = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in subnets]
    assert all(n.subnet_of(vpc) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
    private = [s for s in subnets if "private" in s.name]
    public = [s for s in subnets if "public" in s.name]
    assert len(private) == len(public) == 3
    assert len({s.inputs["availabilityZone"] for s in private}) == 3
    assert len({s.inputs["availabilityZone"] for s in public}) == 3
    assert not any(s.inputs.get("mapPublicIpOnLaunch") for s in subnets)


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_s3_gateway_endpoint_on_every_route_table(stack, plan_of):
    plan = plan_of(stack)
    (s3,) = [
        e for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e.inputs["vpcEndpointType"] == "Gateway"
    ]
    assert s3.inputs["serviceName"] == f"com.amazonaws.{plan.settings.region}.s3"
    tables = {r.id for r in plan.of_type("aws:ec2/routeTable:RouteTable")}
    assert set(s3.inputs["routeTableIds"]) == tables


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_flow_logs_record_all_traffic_with_a_least_privilege_role(stack, plan_of):
    plan = plan_of(stack)
    (flow_log,) = plan.of_type("aws:ec2/flowLog:FlowLog")
    (vpc,) = plan.of_type("aws:ec2/vpc:Vpc")
    assert flow_log.inputs["vpcId"] == vpc.id
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"
    (group,) = [g for g in plan.of_type("aws:cloudwatch/logGroup:LogGroup") if "flow-logs" in g.name]
    assert group.inputs["retentionInDays"] == plan.settings.network.flow_logs_retention_days
    (role,) = [r for r in plan.of_type("aws:iam/role:Role") if r.name.endswith("network-flow-logs")]
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    # confused-deputy guard: only this account's flow logs (the offline account is 123456789012)
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"].startswith(
        f"arn:aws:ec2:{plan.settings.region}:123456789012:vpc-flow-log/"
    )
    (policy,) = [
        p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith("network-flow-logs")
    ]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    actions = {a for st in statements for a in st["Action"]}
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}
    assert all("*" not in r.split(":log-group:")[0] for st in statements for r in st["Resource"])


def test_stack_networks_do_not_overlap_and_dr_peers_match():
    cidrs, peers = {}, {}
    for path in sorted(REPO.glob("Pulumi.*.yaml")):
        config = yaml.safe_load(path.read_text()).get("config") or {}
        net = config.get("pipeline-infra:network")
        if net:
            cidrs[path.name] = net["cidr"]
        dr = config.get("pipeline-infra:dr")
        if dr:
            peers[path.name] = (dr["peer_stack"], dr["peer_cidr"])
    assert len(cidrs) >= 3
    assert overlapping_networks(cidrs) == []
    for stack_file, (peer_stack, peer_cidr) in peers.items():
        assert cidrs[f"Pulumi.{peer_stack}.yaml"] == peer_cidr, f"{stack_file}: dr.peer_cidr"


def test_overlapping_stack_networks_are_found():
    found = overlapping_networks({"a": "10.10.0.0/16", "b": "10.10.128.0/17", "c": "10.30.0.0/16"})
    assert found == [("a", "b")]


def test_dr_site_requests_and_accepts_the_peering_and_routes_both_ways(plan_of):
    plan = plan_of("prod-dr")
    (pcx,) = plan.of_type("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")
    assert pcx.inputs["peerRegion"] == "us-east-1"
    assert pcx.inputs.get("autoAccept") in (None, False)  # cross-region: the accepter accepts
    assert pcx.inputs["peerVpcId"].startswith("vpc-")
    (accepter,) = plan.of_type("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter")
    assert accepter.inputs["vpcPeeringConnectionId"] == pcx.id
    assert accepter.inputs["autoAccept"] is True
    # The primary's side in its region per resource (pulumi-aws v7 `region`), through the stack's one
    # provider: it inherits the stack's aws: configuration (issue 11 item 13).
    assert plan.of_type("pulumi:providers:aws") == []
    assert accepter.inputs["region"] == "us-east-1" and "region" not in pcx.inputs
    routes = [r for r in plan.of_type("aws:ec2/route:Route") if r.inputs.get("vpcPeeringConnectionId")]
    assert {r.inputs.get("region") for r in routes if r.inputs["destinationCidrBlock"] == "10.30.0.0/16"} == {
        "us-east-1"
    }
    to_primary = [r for r in routes if r.inputs["destinationCidrBlock"] == "10.10.0.0/16"]
    to_dr = [r for r in routes if r.inputs["destinationCidrBlock"] == "10.30.0.0/16"]
    private_tables = {r.id for r in plan.of_type("aws:ec2/routeTable:RouteTable") if "private" in r.name}
    assert {r.inputs["routeTableId"] for r in to_primary} == private_tables
    assert len(to_dr) == 3 and not {r.inputs["routeTableId"] for r in to_dr} & private_tables
    assert plan.outputs["vpc_peering_connection_id"] == pcx.id


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_only_the_dr_site_declares_peering(stack, plan_of):
    plan = plan_of(stack)
    assert plan.of_type("aws:ec2/vpcPeeringConnection:VpcPeeringConnection") == []
    assert plan.of_type("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter") == []


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_module_security_groups_are_exported(stack, plan_of):
    plan = plan_of(stack)
    sgs = {name: sid for sid, name in names_by_id(plan, SG).items()}
    env = plan.settings.environment
    assert plan.outputs["fleet_security_group_ids"] == {m: sgs[f"{env}-network-{m}"] for m in MODULES}
    assert plan.outputs["ingest_lb_security_group_id"] == sgs[f"{env}-network-ingest-lb"]
    assert plan.outputs["handoff_lb_security_group_ids"] == {
        m: sgs[f"{env}-network-handoff-lb-{m}"] for m in ("beta", "gamma")
    }
    assert plan.outputs["data_plane_security_group_id"] == sgs[f"{env}-network-data-plane"]


# --- the settings contract ------------------------------------------------------------------------
def _settings(stack: str, **network):
    config = {k: v for k, v in _stack_config(stack).items()}
    config["pipeline-infra:network"] = {**config["pipeline-infra:network"], **network}
    flat = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in config.items()}
    return load_settings(flat, source=f"Pulumi.{stack}.yaml", offline=True)


@pytest.mark.parametrize(
    ("network", "key", "fragment"),
    [
        ({"cidr": "10.20.0.0/24"}, "network", "/16 to /20"),
        ({"source_cidrs": ["0.0.0.0/0"]}, "network", "public_ingest"),
        ({"enrichment_cidrs": ["10.20.4.0/24"]}, "network", "overlaps the VPC"),
        ({"enrichment_ports": [70000]}, "network", "not a TCP port"),
        ({"destination_ports": []}, "network.destination_ports", "at least 1"),
        ({"az_count": 1}, "network.az_count", "greater than or equal to 2"),
        ({"nat": "per-subnet"}, "network.nat", "per-az"),
    ],
)
def test_bad_network_settings_are_one_settings_error(network, key, fragment):
    with pytest.raises(SettingsError) as err:
        _settings("staging", **network)
    assert err.value.key == f"pipeline-infra:{key}"
    assert fragment in err.value.message


def test_az_count_beyond_the_region_is_rejected_before_anything_is_declared():
    from planner.mocks import PlanMocks
    from planner.runtime import RecordingMonitor, run_plan

    # The offline region answers three zones (planner/mocks.py); four cannot be placed.
    monitor = RecordingMonitor(PlanMocks(region="eu-west-1"))
    with pytest.raises(SettingsError) as err:
        run_plan(
            "staging",
            {
                "network.az_count": 4,
                "cluster.node_groups.scylla.min": 4,
                "cluster.node_groups.scylla.desired": 4,
                "cluster.node_groups.scylla.max": 4,
            },
            monitor=monitor,
        )
    assert err.value.key == "pipeline-infra:network.az_count"
    assert "at most 3" in err.value.message
    assert monitor.records == []


def test_peering_refuses_a_peer_whose_network_is_not_dr_peer_cidr():
    from components.network.peering import checked_peer_network

    assert checked_peer_network("10.10.0.0/16", "10.10.0.0/16", "prod") == "10.10.0.0/16"
    with pytest.raises(
        ValueError, match="dr.peer_cidr is 10.40.0.0/16 but stack prod has vpc_cidr 10.10.0.0/16"
    ):
        checked_peer_network("10.40.0.0/16", "10.10.0.0/16", "prod")
