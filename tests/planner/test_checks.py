"""Each whole-platform check (planner/checks) on a minimal estate that passes, and on the same estate
with one change that violates it: the finding names the resource and the reason."""

from __future__ import annotations

import base64
import gzip

import pytest

from planner.checks import (
    failed_mandatory,
    name_resolution,
    observability,
    order,
    permissions,
    reachability,
    registry,
    run_checks,
    scheduling,
    stateful,
    traffic,
)
from tests.planner.estate_fixtures import changed, estate, policy, res, stack, user_data

SLR = "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"


def only(findings, check):
    assert findings, f"{check} found nothing"
    return findings


# --- stateful safety ------------------------------------------------------------------------------
def _stateful_estate():
    asg = res(
        "aws:autoscaling/group:Group",
        "alpha-asg",
        {"desiredCapacity": 4},
        options={"ignoreChanges": ["desiredCapacity"], "protect": True},
    )
    return estate(
        stack(
            "prod",
            [
                res("aws:s3/bucket:Bucket", "backups", options={"protect": True}),
                res("aws:kms/key:Key", "key", options={"retainOnDelete": True}),
                res(
                    "kubernetes:postgresql.cnpg.io/v1:Cluster",
                    "pg",
                    {"kind": "Cluster"},
                    options={"protect": True},
                ),
                asg,
                res(
                    "aws:autoscaling/policy:Policy",
                    "alpha-cpu",
                    {"policyType": "TargetTrackingScaling"},
                    deps=[asg["urn"]],
                ),
            ],
        )
    )


def test_stateful_passes():
    assert stateful.run(_stateful_estate()) == []


def test_stateful_unprotected_bucket():
    bad = changed(_stateful_estate(), lambda e: e["stacks"]["prod"]["resources"][0]["options"].clear())
    [f] = stateful.run(bad)
    assert f.resource == "backups [aws:s3/bucket:Bucket]"
    assert "neither protected nor retained on delete" in f.message


def test_stateful_autoscaled_capacity_not_ignored():
    bad = changed(
        _stateful_estate(), lambda e: e["stacks"]["prod"]["resources"][3]["options"].pop("ignoreChanges")
    )
    [f] = stateful.run(bad)
    assert f.resource == "alpha-asg [aws:autoscaling/group:Group]"
    assert "desiredCapacity is owned by the autoscaler but not in ignore_changes" in f.message


# --- scheduling -----------------------------------------------------------------------------------
def _sched_estate(instance_type="r6i.2xlarge", cpu="4", instances=3, nodes=3, anti="preferred"):
    subnets = [
        res("aws:ec2/subnet:Subnet", f"s{i}", {"availabilityZone": f"us-east-1{z}"}, rid=f"subnet-{i}")
        for i, z in enumerate("abc")
    ]
    group = res(
        "aws:eks/nodeGroup:NodeGroup",
        "postgres-nodes",
        {
            "instanceTypes": [instance_type],
            "labels": {"workload": "postgres"},
            "taints": [{"key": "workload", "value": "postgres", "effect": "NO_SCHEDULE"}],
            "scalingConfig": {"desiredSize": nodes, "minSize": nodes, "maxSize": nodes},
            "subnetIds": ["subnet-0", "subnet-1", "subnet-2"],
        },
    )
    pg = res(
        "kubernetes:postgresql.cnpg.io/v1:Cluster",
        "pg",
        {
            "kind": "Cluster",
            "spec": {
                "instances": instances,
                "resources": {"requests": {"cpu": cpu, "memory": "16Gi"}},
                "affinity": {
                    "nodeSelector": {"workload": "postgres"},
                    "podAntiAffinityType": anti,
                    "topologyKey": "kubernetes.io/hostname",
                    "tolerations": [
                        {"key": "workload", "operator": "Equal", "value": "postgres", "effect": "NoSchedule"}
                    ],
                },
            },
        },
    )
    return estate(stack("prod", [*subnets, group, pg]))


def test_allocatable_follows_the_eks_ami_formulas():
    # amazon-eks-ami bootstrap.sh: r6i.xlarge (4 vCPU, 32 GiB, 58 pods): 4000 - (60+10+5+5) m;
    # 32768 - (11*58 + 255) - 100 MiB.
    assert scheduling.allocatable("r6i.xlarge") == (3920.0, 31775.0)
    assert scheduling.reserved_cpu_m(8) == 90.0


def test_scheduling_passes():
    assert scheduling.run(_sched_estate()) == []


def test_scheduling_request_larger_than_the_node():
    [f] = scheduling.run(_sched_estate(instance_type="r6i.xlarge"))
    assert f.resource == "pg [kubernetes:postgresql.cnpg.io/v1:Cluster]"
    assert "requests 4000m CPU" in f.message and "r6i.xlarge" in f.message and "stay Pending" in f.message


def test_scheduling_required_anti_affinity_beyond_the_nodes():
    [f] = scheduling.run(_sched_estate(cpu="1", nodes=2, anti="required"))
    assert "3 replicas with required one-per-node anti-affinity" in f.message


def _with_pooler(memory: str):
    """_sched_estate plus a Pooler whose PgBouncer pods go to the same postgres nodes."""
    e = _sched_estate(cpu="1")
    tol = [{"key": "workload", "operator": "Equal", "value": "postgres", "effect": "NoSchedule"}]
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "workload", "operator": "In", "values": ["postgres"]}]}
                ]
            }
        }
    }
    pooler = res(
        "kubernetes:postgresql.cnpg.io/v1:Pooler",
        "pooler",
        {
            "kind": "Pooler",
            "spec": {
                "instances": 2,
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "pgbouncer",
                                "resources": {"requests": {"cpu": "100m", "memory": memory}},
                            }
                        ],
                        "affinity": affinity,
                        "tolerations": tol,
                    }
                },
            },
        },
    )
    e["stacks"]["prod"]["resources"].append(pooler)
    return e


def test_scheduling_counts_the_pooler_pods():
    # r6i.2xlarge nodes offer 64543Mi (EKS AMI formulas): a 128Mi PgBouncer fits beside the PostgreSQL
    # instances, a 70Gi one fits no node.
    assert scheduling.run(_with_pooler("128Mi")) == []
    [f] = scheduling.run(_with_pooler("70Gi"))
    assert f.resource == "pooler [kubernetes:postgresql.cnpg.io/v1:Pooler]"
    assert (
        f.message.startswith("PgBouncer (Pooler) requests 100m CPU / 71680Mi") and "stay Pending" in f.message
    )


def test_scheduling_no_group_tolerated():
    bad = changed(
        _sched_estate(),
        lambda e: e["stacks"]["prod"]["resources"][4]["inputs"]["spec"]["affinity"].update(tolerations=[]),
    )
    [f] = scheduling.run(bad)
    assert "no node group matches node selector" in f.message


# --- name resolution ------------------------------------------------------------------------------
def _fleet(bootstrap: str, egress_world=True):
    text = f"#cloud-config\n  kafka:\n    bootstrap_servers: {bootstrap}\n"
    lt = res(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "alpha-lt",
        {"userData": user_data(text), "vpcSecurityGroupIds": ["sg-alpha"], "tags": {"Module": "alpha"}},
    )
    return lt


def test_name_resolution_passes():
    e = estate(stack("staging", [_fleet("kafka-1.elb.eu-west-1.amazonaws.com:9094")]))
    assert name_resolution.run(e) == []


def test_name_resolution_cluster_name_in_user_data():
    e = estate(stack("staging", [_fleet("pipeline-kafka-bootstrap.kafka.svc:9093")]))
    [f] = name_resolution.run(e)
    assert f.resource == "alpha-lt [aws:ec2/launchTemplate:LaunchTemplate]"
    assert "pipeline-kafka-bootstrap.kafka.svc, a cluster-internal name" in f.message


def test_name_resolution_reads_gzip_compressed_user_data():
    # the fleets' launch templates carry their user data gzip-compressed (EC2's 16 KiB)
    lt = _fleet("pipeline-kafka-bootstrap.kafka.svc:9093")
    text = base64.b64decode(lt["inputs"]["userData"])
    lt["inputs"]["userData"] = base64.b64encode(gzip.compress(text, mtime=0)).decode()
    [f] = name_resolution.run(estate(stack("staging", [lt])))
    assert "pipeline-kafka-bootstrap.kafka.svc, a cluster-internal name" in f.message


def test_name_resolution_name_that_resolves_nowhere():
    [f] = name_resolution.run(estate(stack("staging", [_fleet("kafka.prod.internal:9093")])))
    assert "kafka.prod.internal resolves nowhere" in f.message


def test_name_resolution_cluster_names_in_outputs_read_by_another_stack():
    prod = stack("prod", [], outputs={"scylla_external_seeds": ["scylla-a-0.scylla.svc"]})
    dr = stack(
        "prod-dr",
        [],
        reads=[{"reference": "peer", "stack": "prod", "output": "scylla_external_seeds", "required": False}],
    )
    [f] = name_resolution.run(estate(prod, dr))
    assert f.stack == "prod-dr" and f.resource == "output scylla_external_seeds of prod"


# --- permissions ----------------------------------------------------------------------------------
def _perm_estate(key_policy):
    key = res("aws:kms/key:Key", "ebs-key", {"policy": key_policy} if key_policy else {}, rid="k1")
    lt = res(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "alpha-lt",
        {
            "blockDeviceMappings": [
                {"deviceName": "/dev/xvda", "ebs": {"kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k1"}}
            ]
        },
        rid="lt-1",
    )
    asg = res("aws:autoscaling/group:Group", "alpha-asg", {"launchTemplate": {"id": "lt-1"}})
    return estate(stack("prod", [key, lt, asg]))


def test_permissions_passes():
    ok = policy({"Effect": "Allow", "Principal": {"AWS": SLR}, "Action": ["kms:Decrypt"], "Resource": "*"})
    assert permissions.run(_perm_estate(ok)) == []


def test_permissions_default_key_policy_blocks_auto_scaling():
    [f] = permissions.run(_perm_estate(None))
    assert f.resource == "ebs-key [aws:kms/key:Key]"
    assert "AWSServiceRoleForAutoScaling" in f.message and "fail to launch" in f.message


def test_permissions_log_group_key_without_logs_principal():
    e = _perm_estate(
        policy({"Effect": "Allow", "Principal": {"AWS": SLR}, "Action": "kms:*", "Resource": "*"})
    )
    e["stacks"]["prod"]["resources"].append(
        res(
            "aws:cloudwatch/logGroup:LogGroup",
            "flow",
            {"name": "/flow", "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k1"},
        )
    )
    [f] = permissions.run(e)
    assert "CloudWatch Logs service principal" in f.message


def _irsa_estate(ordered: bool):
    patch = res(
        "kubernetes:core/v1:ServiceAccountPatch",
        "member-irsa",
        {
            "metadata": {
                "name": "scylla-member",
                "namespace": "scylla",
                "annotations": {"eks.amazonaws.com/role-arn": "arn:r"},
            }
        },
    )
    cluster = res(
        "kubernetes:scylla.scylladb.com/v1:ScyllaCluster",
        "scylla",
        {"kind": "ScyllaCluster", "metadata": {"name": "scylla", "namespace": "scylla"}},
        deps=[patch["urn"]] if ordered else [],
    )
    return estate(stack("prod", [patch, cluster]))


def test_permissions_credentials_before_pods():
    assert permissions.run(_irsa_estate(True)) == []
    [f] = permissions.run(_irsa_estate(False))
    assert f.resource == "scylla [kubernetes:scylla.scylladb.com/v1:ScyllaCluster]"
    assert "start without AWS credentials" in f.message


# --- order ----------------------------------------------------------------------------------------
def test_order_passes():
    e = estate(
        stack("prod", []),
        stack("prod-blue", []),
        graph={"prod": [], "prod-blue": ["prod"]},
        documented=["prod", "prod-blue"],
    )
    assert order.run(e) == []


def test_order_documented_order_deploys_a_consumer_first():
    e = estate(
        stack("prod", []),
        stack("prod-blue", []),
        graph={"prod": [], "prod-blue": ["prod"]},
        documented=["prod-blue", "prod"],
    )
    [f] = order.run(e)
    assert f.message == "README deploys prod-blue before prod, which prod-blue references"


def test_order_cycle_has_no_order():
    e = estate(
        stack("prod", []),
        stack("prod-blue", []),
        graph={"prod": ["prod-blue"], "prod-blue": ["prod"]},
        documented=["prod", "prod-blue"],
    )
    messages = [f.message for f in order.run(e)]
    assert "no deployment order from an empty backend: cycle prod -> prod-blue -> prod" in messages


# --- reachability ---------------------------------------------------------------------------------
def _reach_estate(world_egress=True, public_api=True):
    text = "#cloud-config\n    curl -fsSL https://github.com/prometheus/node_exporter/x.tar.gz\n"
    lt = res(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "alpha-lt",
        {"userData": user_data(text), "vpcSecurityGroupIds": ["sg-alpha"], "tags": {"Module": "alpha"}},
    )
    rules = [
        res(
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
            "alpha-out",
            {
                "securityGroupId": "sg-alpha",
                "cidrIpv4": "0.0.0.0/0" if world_egress else "10.10.0.0/16",
                "fromPort": 443,
                "toPort": 443,
                "ipProtocol": "tcp",
            },
        )
    ]
    route = res(
        "aws:ec2/route:Route", "default", {"destinationCidrBlock": "0.0.0.0/0", "natGatewayId": "nat-1"}
    )
    eks = res(
        "aws:eks/cluster:Cluster",
        "eks",
        {"vpcConfig": {"endpointPublicAccess": public_api, "publicAccessCidrs": ["203.0.113.0/24"]}},
    )
    return estate(stack("staging", [lt, *rules, route, eks]))


def test_reachability_passes():
    assert reachability.run(_reach_estate()) == []


def test_reachability_bootstrap_without_internet_egress():
    [f] = reachability.run(_reach_estate(world_egress=False))
    assert f.resource == "alpha-lt [aws:ec2/launchTemplate:LaunchTemplate]"
    assert "fetches github.com:443" in f.message and "no egress to the internet" in f.message


def test_reachability_private_eks_api():
    [f] = reachability.run(_reach_estate(public_api=False))
    assert f.resource == "eks [aws:eks/cluster:Cluster]" and "private only" in f.message


def test_reachability_listener_source_ranges_exclude_the_fleet():
    host = "kafka-repl.elb.us-east-1.amazonaws.com"
    e = _reach_estate()
    res_ = e["stacks"]["staging"]["resources"]
    res_[0]["inputs"]["userData"] = user_data(f"#cloud-config\n    bootstrap_servers: {host}:9094\n")
    res_.append(
        res(
            "kubernetes:core/v1:Service",
            "repl",
            {"spec": {"loadBalancerSourceRanges": ["10.30.0.0/16"]}},
            state={"status": {"loadBalancer": {"ingress": [{"hostname": host}]}}},
        )
    )
    res_.append(
        res(
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
            "alpha-out-kafka",
            {
                "securityGroupId": "sg-alpha",
                "cidrIpv4": "10.10.0.0/16",
                "fromPort": 9092,
                "toPort": 9094,
                "ipProtocol": "tcp",
            },
        )
    )
    [f] = reachability.run(e)
    assert "admits only ['10.30.0.0/16']; the fleet runs in 10.10.0.0/16" in f.message


# --- observability --------------------------------------------------------------------------------
def _obs_estate(port=8080, expr="rate(alpha_records_ingested_total[5m]) == 0"):
    rule = res(
        "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
        "rules",
        {
            "kind": "PrometheusRule",
            "spec": {
                "groups": [
                    {
                        "name": "g",
                        "rules": [
                            {"alert": "AlphaStopped", "expr": expr, "labels": {"severity": "critical"}}
                        ],
                    }
                ]
            },
        },
    )
    prom = res(
        "kubernetes:helm.sh/v3:Release",
        "prom",
        {
            "chart": "kube-prometheus-stack",
            "values": {
                "prometheus": {
                    "prometheusSpec": {
                        "additionalScrapeConfigs": [
                            {"job_name": "fleets", "ec2_sd_configs": [{"port": port}]}
                        ]
                    }
                }
            },
        },
    )
    return estate(stack("staging", [rule, prom]))


def _idle_estate(expr, relabels, **extra):
    e = _obs_estate(expr=expr)
    st = e["stacks"]["staging"]
    st.update(extra)
    prom = [r for r in st["resources"] if r["type"] == "kubernetes:helm.sh/v3:Release"][0]
    job = prom["inputs"]["values"]["prometheus"]["prometheusSpec"]["additionalScrapeConfigs"][0]
    job["relabel_configs"] = relabels
    return e


COLOUR_RELABELS = [
    {"replacement": "idle", "target_label": "traffic"},
    {"source_labels": ["__meta_ec2_tag_Colour"], "regex": "blue", "replacement": "active",
     "target_label": "traffic"},
]
SCOPED = 'rate(alpha_records_ingested_total{traffic="active"}[5m]) == 0'


def test_observability_idle_passes_on_alerts_scoped_to_traffic():
    assert observability.idle_pages(_idle_estate(SCOPED, COLOUR_RELABELS, traffic={"active": "blue"})) == []
    standby = {"site": "dr", "role": "standby"}
    relabels = [{"replacement": "standby", "target_label": "traffic"}]
    assert observability.idle_pages(_idle_estate(SCOPED, relabels, dr=standby)) == []


def test_observability_idle_unscoped_alert_pages_the_idle_colour():
    expr = "rate(alpha_records_ingested_total[5m]) == 0"
    [f] = observability.idle_pages(_idle_estate(expr, COLOUR_RELABELS, traffic={"active": "blue"}))
    assert "no colour matcher: the idle colour pages" in f.message


def test_observability_idle_matcher_without_the_scrape_label_still_pages():
    # traffic="active" is only a scope when the fleet scrape jobs set the label
    [f] = observability.idle_pages(_idle_estate(SCOPED, [], traffic={"active": "blue"}))
    assert "the idle colour pages" in f.message
    # a standby whose scrape jobs call its fleets active pages too
    standby = {"site": "dr", "role": "standby"}
    [f] = observability.idle_pages(_idle_estate(SCOPED, COLOUR_RELABELS, dr=standby))
    assert "also fires on the warm standby" in f.message


def test_metric_names_of_promql():
    expr = 'sum by (module) (rate(alpha_parse_errors_total{module="a"}[5m])) / on() group_left x_total > 0.1'
    assert observability.metric_names(expr) == {"alpha_parse_errors_total", "x_total"}


def test_observability_passes():
    assert observability.run(_obs_estate()) == []


def test_observability_metric_nobody_scrapes():
    [f] = observability.run(_obs_estate(port=9100))
    assert f.resource == "rules [kubernetes:monitoring.coreos.com/v1:PrometheusRule]"
    assert "alert AlphaStopped reads alpha_records_ingested_total" in f.message
    assert "no scrape reaches it" in f.message


def test_observability_metric_no_exporter_produces():
    [f] = observability.run(_obs_estate(expr="cdc_replication_lag_seconds > 60"))
    assert "no exporter in the estate produces it" in f.message


def _recorded_twice(first_input: str):
    """One record name from two rules (as the SLO ratios are, one per SLO), an alert on it; the fleet
    scrape (8080) reaches alpha_* only."""
    e = _obs_estate(expr="ratio > 0.1")
    rule = e["stacks"]["staging"]["resources"][0]
    rule["inputs"]["spec"]["groups"][0]["rules"] += [
        {"record": "ratio", "expr": f"rate({first_input}[5m])"},
        {"record": "ratio", "expr": "rate(alpha_parse_errors_total[5m])"},
    ]
    return e


def test_observability_record_name_counts_only_when_every_rule_of_it_is_produced():
    assert observability.run(_recorded_twice("alpha_records_ingested_total")) == []
    messages = [f.message for f in observability.run(_recorded_twice("made_up_total"))]
    assert "alert AlphaStopped reads ratio (recorded from metrics that are not produced)" in messages
    assert any(m.startswith("recording rule ratio reads made_up_total") for m in messages)


def test_observability_idle_colour_of_an_environment_switched_by_a_traffic_stack():
    # prod's colours are switched by prod-traffic (issue 11 item 1), not by a traffic section of prod:
    # its fleet alerts without a colour matcher still page on the idle colour.
    e = _obs_estate()
    e["stacks"]["prod"] = {**e["stacks"].pop("staging"), "stack": "prod"}
    assert observability.idle_pages(e) == []
    e["stacks"]["prod-traffic"] = stack(
        "prod-traffic", [], role="traffic", environment_stack="prod",
        traffic={"active": "blue", "colour_stacks": {"blue": "prod-blue", "green": "prod-green"}},
    )
    [f] = observability.idle_pages(e)
    assert (f.stack, f.check) == ("prod", "observability-idle")
    assert "the idle colour pages" in f.message


# --- fleet traffic --------------------------------------------------------------------------------
def _fleet_asgs(colour: str, environment: str = "prod") -> list[dict]:
    tags = {"Colour": colour, "Environment": environment, "Module": "alpha", "Name": f"alpha-{colour}"}
    return [
        res(
            "aws:autoscaling/group:Group",
            f"alpha-{colour}-asg",
            {"tags": [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in tags.items()]},
        )
    ]


def _traffic_estate(active: str = "blue", relabels=None, colours=("blue", "green"), weights=None):
    """prod scrapes its fleets (Environment prod, us-east-1), labelling the colour the switch names
    active, as the program does (stacks/compose/observability.fleet_traffic); prod-blue and prod-green
    run the colours; prod-traffic is the switch."""
    if relabels is None:
        relabels = [
            {"replacement": "idle", "target_label": "traffic"},
            {"source_labels": ["__meta_ec2_tag_Colour"], "regex": active, "replacement": "active",
             "target_label": "traffic"},
        ]
    sd = {
        "region": "us-east-1",
        "port": 8080,
        "filters": [
            {"name": "tag:Environment", "values": ["prod"]},
            {"name": "tag:Module", "values": ["alpha", "beta", "gamma"]},
            {"name": "instance-state-name", "values": ["running"]},
        ],
    }
    prom = res(
        "kubernetes:helm.sh/v3:Release",
        "prom",
        {"chart": "kube-prometheus-stack", "values": {"prometheus": {"prometheusSpec": {
            "additionalScrapeConfigs": [
                {"job_name": "fleet-modules", "ec2_sd_configs": [sd], "relabel_configs": relabels}
            ]}}}},
    )
    members = [stack("prod", [prom], role="environment", region="us-east-1")]
    for colour in colours:
        members.append(
            stack(f"prod-{colour}", _fleet_asgs(colour), role="fleet-colour", colour=colour,
                  region="us-east-1", environment_stack="prod")
        )
    members.append(
        stack("prod-traffic", [], role="traffic", region="us-east-1", environment_stack="prod",
              traffic={"active": active, "weights": weights,
                       "colour_stacks": {"blue": "prod-blue", "green": "prod-green"}})
    )
    return estate(*members)


def test_fleet_traffic_passes():
    assert traffic.run(_traffic_estate()) == []
    assert traffic.run(_traffic_estate(active="green")) == []
    # weights: every colour above 0 is active (regex blue|green)
    assert traffic.run(_traffic_estate(active="blue|green", weights={"blue": 10, "green": 90})) == []


def test_fleet_traffic_switch_names_a_colour_whose_stack_is_absent():
    [f] = traffic.run(_traffic_estate(active="green", colours=("blue",)))
    assert (f.check, f.stack, f.resource) == ("fleet-traffic", "prod", "prom [kubernetes:helm.sh/v3:Release]")
    assert f.message == (
        "scrape job fleet-modules labels none of the fleets it discovers active (blue (prod-blue): idle): "
        "no fleet alert of prod fires (traffic switch: prod-traffic's traffic: active green)"
    )


def test_fleet_traffic_active_colour_stack_declares_no_fleets():
    e = _traffic_estate(active="green")
    e["stacks"]["prod-green"]["resources"] = []
    [f] = traffic.run(e)
    assert "labels none of the fleets it discovers active (blue (prod-blue): idle)" in f.message


def test_fleet_traffic_both_colours_idle():
    # the label computed without the switch (fleet_traffic(settings) alone): every colour idle
    [f] = traffic.run(_traffic_estate(relabels=[{"replacement": "idle", "target_label": "traffic"}]))
    assert "(blue (prod-blue): idle, green (prod-green): idle)" in f.message


def test_fleet_traffic_judges_only_a_whole_estate():
    # `plan --stack prod` evaluates prod alone: the colour stacks that hold its fleets are committed
    # but left out, so an absent colour cannot be told from an unevaluated one
    e = _traffic_estate(active="green", colours=("blue",))
    assert traffic.run(e)
    e["left_out"] = ["prod-green"]
    assert traffic.run(e) == []


def test_fleet_traffic_no_fleet_discovered():
    # fleets of another environment or region are not this environment's
    e = _traffic_estate(colours=())
    e["stacks"]["staging"] = stack("staging", _fleet_asgs("blue", "staging"), region="eu-west-1")
    e["stacks"]["prod-west"] = stack("prod-west", _fleet_asgs("blue"), region="us-west-2")
    [f] = traffic.run(e)
    assert "discovers no fleet of the estate" in f.message


def test_fleet_traffic_spares_the_warm_standby_only():
    idle = [{"replacement": "standby", "target_label": "traffic"}]
    e = _traffic_estate(relabels=idle)
    e["stacks"]["prod"]["dr"] = {"site": "dr", "role": "standby"}
    assert traffic.run(e) == []
    e["stacks"]["prod"]["dr"] = {"site": "dr", "role": "primary"}  # promoted: its fleets must page
    [f] = traffic.run(e)
    assert "(blue (prod-blue): standby, green (prod-green): standby)" in f.message


def test_fleet_traffic_relabelling_follows_prometheus():
    job = {"relabel_configs": [
        {"replacement": "idle", "target_label": "traffic"},
        {"source_labels": ["__meta_ec2_tag_Colour"], "regex": "blue", "replacement": "active",
         "target_label": "traffic"},
        {"source_labels": ["__meta_ec2_tag_Colour"], "regex": "gre", "replacement": "active",
         "target_label": "traffic"},  # anchored: does not match green
        {"action": "drop", "source_labels": ["__meta_ec2_tag_Colour"], "regex": "blue",
         "target_label": "traffic"},  # not a replace: no label
    ]}
    assert traffic.traffic_of(job, "blue") == "active"
    assert traffic.traffic_of(job, "green") == "idle"
    assert traffic.traffic_of({}, "blue") is None


# --- the registry ---------------------------------------------------------------------------------
def test_every_check_has_severity_and_enforcement():
    names = [c.name for c in registry()]
    assert names == [
        "order",
        "stateful-safety",
        "scheduling",
        "name-resolution",
        "permissions",
        "reachability",
        "observability",
        "observability-idle",
        "fleet-traffic",
    ]
    for c in registry():
        assert c.severity in ("critical", "high", "medium") and c.enforcement in ("mandatory", "advisory")


@pytest.mark.parametrize("check", ["stateful-safety", "scheduling"])
def test_a_failed_mandatory_check_fails_the_command(check):
    bad = {
        "stateful-safety": changed(
            _stateful_estate(), lambda e: e["stacks"]["prod"]["resources"][0]["options"].clear()
        ),
        "scheduling": _sched_estate(instance_type="r6i.xlarge"),
    }[check]
    results = run_checks(bad)
    assert check in failed_mandatory(results)


def _chain_estate(drop=None):
    def rule(kind, name, sg, port, ref=None, cidr=None):
        typ = (
            f"aws:vpc/securityGroup{'Egress' if kind == 'out' else 'Ingress'}Rule:SecurityGroup"
            f"{'Egress' if kind == 'out' else 'Ingress'}Rule"
        )
        inputs = {"securityGroupId": sg, "fromPort": port, "toPort": port, "ipProtocol": "tcp"}
        inputs.update({"referencedSecurityGroupId": ref} if ref else {"cidrIpv4": cidr})
        return res(typ, name, inputs)

    text = "#cloud-config\n    handoff:\n      target: beta-lb.elb.us-east-1.amazonaws.com:9000\n"
    alpha = res(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "alpha-lt",
        {"userData": user_data(text), "vpcSecurityGroupIds": ["sg-alpha"], "tags": {"Module": "alpha"}},
        rid="lt-a",
    )
    beta = res(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "beta-lt",
        {"vpcSecurityGroupIds": ["sg-beta"], "tags": {"Module": "beta"}},
        rid="lt-b",
    )
    lb = res(
        "aws:lb/loadBalancer:LoadBalancer",
        "beta-lb",
        {"securityGroups": ["sg-lb"]},
        state={"arn": "arn:lb/beta", "dnsName": "beta-lb.elb.us-east-1.amazonaws.com"},
    )
    tg = res(
        "aws:lb/targetGroup:TargetGroup",
        "beta-tg",
        {"port": 9000, "healthCheck": {"port": "8080"}},
        state={"arn": "arn:tg/beta"},
    )
    listener = res(
        "aws:lb/listener:Listener",
        "beta-9000",
        {
            "loadBalancerArn": "arn:lb/beta",
            "port": 9000,
            "defaultActions": [{"type": "forward", "targetGroupArn": "arn:tg/beta"}],
        },
    )
    asg = res(
        "aws:autoscaling/group:Group",
        "beta-asg",
        {"launchTemplate": {"id": "lt-b"}, "targetGroupArns": ["arn:tg/beta"]},
    )
    rules = [
        rule("out", "a-out", "sg-alpha", 9000, ref="sg-lb"),
        rule("in", "lb-in", "sg-lb", 9000, ref="sg-alpha"),
        rule("out", "lb-out", "sg-lb", 9000, ref="sg-beta"),
        rule("out", "lb-out-hc", "sg-lb", 8080, ref="sg-beta"),
        rule("in", "b-in", "sg-beta", 9000, ref="sg-lb"),
        rule("in", "b-in-hc", "sg-beta", 8080, ref="sg-lb"),
    ]
    rules = [r for r in rules if r["name"] != drop]
    return estate(stack("prod-blue", [alpha, beta, lb, tg, listener, asg, *rules]))


def test_reachability_handoff_chain_passes():
    assert reachability.run(_chain_estate()) == []


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        ("a-out", "no egress rule of ['sg-alpha'] allows 9000"),
        ("lb-in", "no ingress rule of ['sg-lb'] admits ['sg-alpha'] on 9000"),
        ("b-in-hc", "beta-lb to beta-asg: no ingress rule of ['sg-beta'] admits ['sg-lb'] on 8080"),
    ],
)
def test_reachability_handoff_chain_broken(drop, expected):
    [f] = reachability.run(_chain_estate(drop))
    assert f.resource == "alpha-lt [aws:ec2/launchTemplate:LaunchTemplate]"
    assert (
        f.message.startswith("handoff to beta-lb.elb.us-east-1.amazonaws.com:9000") and expected in f.message
    )


def test_reachability_database_without_host():
    ok = "#cloud-config\n    database:\n      host: db.elb.us-east-1.amazonaws.com\n      name: pipeline_db\n"
    bad = "#cloud-config\n    database:\n      name: pipeline_db\n"
    for text, n in ((ok, 0), (bad, 1)):
        lt = res("aws:ec2/launchTemplate:LaunchTemplate", "gamma-lt", {"userData": user_data(text)})
        found = reachability.run(estate(stack("staging", [lt])))
        assert len(found) == n and all("no host to reach it" in f.message for f in found)


def _ingest_estate(source_rule=True):
    def rule(kind, name, sg, port, **peer):
        word = "Egress" if kind == "out" else "Ingress"
        return res(
            f"aws:vpc/securityGroup{word}Rule:SecurityGroup{word}Rule",
            name,
            {"securityGroupId": sg, "fromPort": port, "toPort": port, "ipProtocol": "tcp", **peer},
        )

    alpha = res(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "alpha-lt",
        {"vpcSecurityGroupIds": ["sg-alpha"], "tags": {"Module": "alpha"}},
        rid="lt-a",
    )
    lb = res(
        "aws:lb/loadBalancer:LoadBalancer",
        "ingest",
        {"securityGroups": ["sg-lb"]},
        state={"arn": "arn:lb/ingest", "dnsName": "ingest.elb.us-east-1.amazonaws.com"},
    )
    tg = res("aws:lb/targetGroup:TargetGroup", "alpha-tg", {"port": 8443}, state={"arn": "arn:tg/alpha"})
    listener = res(
        "aws:lb/listener:Listener",
        "ingest-8443",
        {
            "loadBalancerArn": "arn:lb/ingest",
            "port": 8443,
            "defaultActions": [{"type": "forward", "targetGroupArn": "arn:tg/alpha"}],
        },
    )
    asg = res(
        "aws:autoscaling/group:Group",
        "alpha-asg",
        {"launchTemplate": {"id": "lt-a"}, "targetGroupArns": ["arn:tg/alpha"]},
    )
    rules = [
        rule("out", "lb-out", "sg-lb", 8443, referencedSecurityGroupId="sg-alpha"),
        rule("in", "alpha-in", "sg-alpha", 8443, referencedSecurityGroupId="sg-lb"),
    ]
    if source_rule:
        rules.append(rule("in", "lb-in", "sg-lb", 8443, cidrIpv4="172.16.0.0/16"))
    return estate(stack("prod-blue", [alpha, lb, tg, listener, asg, *rules], source_cidrs=["172.16.0.0/16"]))


def test_reachability_sources_to_alpha():
    assert reachability.run(_ingest_estate()) == []
    [f] = reachability.run(_ingest_estate(source_rule=False))
    assert f.resource == "ingest [aws:lb/loadBalancer:LoadBalancer]"
    assert f.message == (
        "sources 172.16.0.0/16 -> alpha on 8443: to ingest: no ingress rule of ['sg-lb'] admits "
        "172.16.0.0/16 on 8443"
    )


def _monitor_estate(allowed_ns):
    prom = res(
        "kubernetes:helm.sh/v3:Release",
        "prom",
        {"chart": "kube-prometheus-stack", "namespace": "observability"},
    )
    svc = res(
        "kubernetes:core/v1:Service",
        "sr",
        {
            "metadata": {"namespace": "kafka", "labels": {"app": "sr"}},
            "spec": {"selector": {"app": "sr"}, "ports": [{"name": "metrics", "port": 9404}]},
        },
    )
    mon = res(
        "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
        "sr-monitor",
        {
            "kind": "ServiceMonitor",
            "spec": {
                "namespaceSelector": {"matchNames": ["kafka"]},
                "selector": {"matchLabels": {"app": "sr"}},
                "endpoints": [{"port": "metrics"}],
            },
        },
    )
    pol = res(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "sr-policy",
        {
            "kind": "NetworkPolicy",
            "metadata": {"namespace": "kafka"},
            "spec": {
                "podSelector": {"matchLabels": {"app": "sr"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}
                            for ns in allowed_ns
                        ],
                        "ports": [{"port": 9404}],
                    }
                ],
            },
        },
    )
    return estate(stack("staging", [prom, svc, mon, pol]))


def test_reachability_prometheus_to_in_cluster_targets():
    assert reachability.run(_monitor_estate(["kafka", "observability"])) == []
    [f] = reachability.run(_monitor_estate(["kafka"]))
    assert f.resource == "sr-monitor [kubernetes:monitoring.coreos.com/v1:ServiceMonitor]"
    assert (
        f.message
        == "Prometheus (observability) scrapes kafka on 9404: no ingress rule of sr-policy admits it"
    )


def _mm2_estate(routes=True):
    host = "repl.elb.us-east-1.amazonaws.com"
    svc = res(
        "kubernetes:core/v1:Service",
        "repl",
        {"spec": {"loadBalancerSourceRanges": ["10.30.0.0/16"]}},
        state={"status": {"loadBalancer": {"ingress": [{"hostname": host}]}}},
    )
    mm2 = res(
        "kubernetes:kafka.strimzi.io/v1:KafkaMirrorMaker2",
        "mm2",
        {
            "kind": "KafkaMirrorMaker2",
            "spec": {"mirrors": [{"source": {"alias": "primary", "bootstrapServers": f"{host}:9094"}}]},
        },
    )
    peering = (
        [
            res(
                "aws:ec2/route:Route", f"r{i}", {"destinationCidrBlock": c, "vpcPeeringConnectionId": "pcx-1"}
            )
            for i, c in enumerate(("10.10.0.0/16", "10.30.0.0/16"))
        ]
        if routes
        else []
    )
    return estate(
        stack("prod", [svc], network_cidr="10.10.0.0/16"),
        stack("prod-dr", [mm2, *peering], network_cidr="10.30.0.0/16"),
    )


def test_reachability_mirrormaker_to_the_primary():
    assert reachability.run(_mm2_estate()) == []
    found = reachability.run(_mm2_estate(routes=False))
    assert [f.message for f in found] == [
        "cluster primary: no peering route to prod (10.10.0.0/16)",
        "cluster primary: no peering route back from prod (10.30.0.0/16)",
    ]


def test_reachability_endpoint_egress():
    host = "otlp.elb.us-east-1.amazonaws.com"
    text = f"#cloud-config\n    telemetry:\n      otlp_endpoint: http://{host}:4317\n"
    lt = res(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "alpha-lt",
        {"userData": user_data(text), "vpcSecurityGroupIds": ["sg-alpha"]},
    )
    svc = res(
        "kubernetes:core/v1:Service",
        "otlp",
        {"spec": {}},
        state={"status": {"loadBalancer": {"ingress": [{"hostname": host}]}}},
    )
    out = res(
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "otlp-out",
        {
            "securityGroupId": "sg-alpha",
            "cidrIpv4": "10.10.0.0/16",
            "fromPort": 4317,
            "toPort": 4318,
            "ipProtocol": "tcp",
        },
    )
    assert reachability.run(estate(stack("staging", [lt, svc, out]))) == []
    [f] = reachability.run(estate(stack("staging", [lt, svc])))
    assert f.message == f"otlp_endpoint: the fleet's security groups allow no egress on 4317 to {host}"


def test_observability_recorded_metric_from_unproduced_inputs():
    e = _obs_estate(expr="pipeline:ingest:rate5m == 0")
    rules = e["stacks"]["staging"]["resources"][0]["inputs"]["spec"]["groups"][0]["rules"]
    rules.append({"record": "pipeline:ingest:rate5m", "expr": "sum(rate(alpha_records_ingested_total[5m]))"})
    assert observability.run(e) == []  # port 8080 scraped: the recording rule's input is produced
    e9100 = _obs_estate(port=9100, expr="pipeline:ingest:rate5m == 0")
    e9100["stacks"]["staging"]["resources"][0]["inputs"]["spec"]["groups"][0]["rules"].append(
        {"record": "pipeline:ingest:rate5m", "expr": "sum(rate(alpha_records_ingested_total[5m]))"}
    )
    messages = sorted(f.message for f in observability.run(e9100))
    assert messages == [
        "alert AlphaStopped reads pipeline:ingest:rate5m (recorded from metrics that are not produced)",
        "recording rule pipeline:ingest:rate5m reads alpha_records_ingested_total (module alpha's /metrics "
        "(:8080): no scrape reaches it)",
    ]


def test_observability_scrape_blocked_by_security_groups():
    e = _obs_estate(port=8080)
    lt = res(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "alpha-lt",
        {"vpcSecurityGroupIds": ["sg-alpha"], "tags": {"Module": "alpha"}},
    )
    e["stacks"]["staging"]["resources"][1]["inputs"]["values"]["prometheus"]["prometheusSpec"][
        "additionalScrapeConfigs"
    ][0]["ec2_sd_configs"][0]["filters"] = [{"name": "tag:Module", "values": ["alpha"]}]
    e["stacks"]["staging"]["resources"].append(lt)
    [f] = observability.run(e)
    assert "the scrape job's targets do not admit it (reachability)" in f.message


def _platform_estate(values):
    group = res(
        "aws:eks/nodeGroup:NodeGroup",
        "platform",
        {
            "instanceTypes": ["m7i.xlarge"],
            "labels": {"w": "platform"},
            "taints": [],
            "scalingConfig": {"desiredSize": 2},
        },
    )
    rel = res("kubernetes:helm.sh/v3:Release", "manager", {"chart": "scylla-manager", "values": values})
    return estate(stack("prod", [group, rel]))


def test_scheduling_chart_workloads_from_their_values():
    rack = {
        "members": 1,
        "resources": {"requests": {"cpu": "1", "memory": "2Gi"}},
        "storage": {"capacity": "20Gi"},
        "placement": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "w", "operator": "In", "values": ["platform"]}]}
                    ]
                }
            }
        },
    }
    assert scheduling.run(_platform_estate({"scylla": {"racks": [rack]}})) == []
    rack["resources"]["requests"]["cpu"] = "6"
    [f] = scheduling.run(_platform_estate({"scylla": {"racks": [rack]}}))
    assert f.resource == "manager [kubernetes:helm.sh/v3:Release] values scylla.racks[0]"
    assert "chart workload requests 6000m CPU" in f.message
    pvc = {"volumeClaimTemplate": {"spec": {"resources": {"requests": {"storage": "200Gi"}}}}}
    assert scheduling.run(_platform_estate({"prometheus": {"storageSpec": pvc}})) == []


def _replication_estate(actions):
    role = res("aws:iam/role:Role", "replication", {}, rid="role-1")
    pol = res(
        "aws:iam/rolePolicy:RolePolicy",
        "replication",
        {
            "role": "role-1",
            "policy": policy(
                {
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": "arn:aws:kms:us-west-2:123456789012:key/k2",
                }
            ),
        },
    )
    rc = res(
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "backups",
        {
            "role": "arn:aws:iam::123456789012:role/replication",
            "rules": [
                {
                    "id": "to-us-west-2",
                    "destination": {
                        "encryptionConfiguration": {
                            "replicaKmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/k2"
                        }
                    },
                }
            ],
        },
    )
    return estate(stack("prod", [role, pol, rc]))


def test_permissions_s3_replication_may_encrypt_with_the_replica_key():
    assert permissions.run(_replication_estate(["kms:Encrypt", "kms:Decrypt"])) == []
    [f] = permissions.run(_replication_estate(["kms:Decrypt"]))
    assert f.resource == "backups [aws:s3/bucketReplicationConfig:BucketReplicationConfig]"
    assert "may not kms:Encrypt with the replica key" in f.message


# --- the fleets' database endpoint leads to PostgreSQL (reachability) ------------------------------
def _db_estate(selector=None, port=5432, pooler=True):
    host = "warehouse-fleets.elb.us-east-1.amazonaws.com"
    text = f"#cloud-config\n    database:\n      name: pipeline_db\n      endpoint: {host}:5432\n"
    lt = res(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "beta-lt",
        {"userData": user_data(text), "vpcSecurityGroupIds": ["sg-beta"]},
    )
    svc = res(
        "kubernetes:core/v1:Service",
        "fleet-endpoint",
        {
            "metadata": {"name": "warehouse-fleets", "namespace": "postgres"},
            "spec": {
                "type": "LoadBalancer",
                "selector": selector or {"cnpg.io/poolerName": "warehouse-pooler"},
                "ports": [{"port": port}],
                "loadBalancerSourceRanges": ["10.10.0.0/16"],
            },
        },
        state={"status": {"loadBalancer": {"ingress": [{"hostname": host}]}}},
    )
    backends = [
        res(
            "kubernetes:postgresql.cnpg.io/v1:Pooler",
            "pooler",
            {"kind": "Pooler", "metadata": {"name": "warehouse-pooler", "namespace": "postgres"}},
        )
    ]
    out = res(
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "beta-out-pg",
        {
            "securityGroupId": "sg-beta",
            "cidrIpv4": "10.10.0.0/16",
            "fromPort": 5432,
            "toPort": 5432,
            "ipProtocol": "tcp",
        },
    )
    return estate(stack("staging", [lt, svc, out, *(backends if pooler else [])]))


def test_reachability_database_endpoint_through_the_pooler():
    assert reachability.run(_db_estate()) == []


def test_reachability_database_endpoint_selecting_nothing():
    # the load balancer selects pods no CloudNativePG Pooler or Cluster makes
    [f] = reachability.run(_db_estate(selector={"app": "pgbouncer"}))
    assert f.resource == "beta-lt [aws:ec2/launchTemplate:LaunchTemplate]"
    assert "selects no PostgreSQL pods" in f.message
    [f] = reachability.run(_db_estate(pooler=False))
    assert "names no CloudNativePG Pooler or Cluster in postgres" in f.message


def test_reachability_database_endpoint_on_another_port():
    [f] = reachability.run(_db_estate(port=6432))
    assert f.message.endswith("has no port 5432 (ports [6432])")


def test_reachability_database_endpoint_outside_the_fleet_network():
    e = _db_estate()
    e["stacks"]["staging"]["resources"][1]["inputs"]["spec"]["loadBalancerSourceRanges"] = ["10.30.0.0/16"]
    [f] = reachability.run(e)
    assert "admits only ['10.30.0.0/16']; the fleet runs in 10.10.0.0/16" in f.message


# --- credentials_ref names a parameter the estate creates and the role may read (permissions) -----
def _cred_estate(
    create=True, resource="arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/prod/beta/postgres"
):
    text = "#cloud-config\n    database:\n      credentials_ref: ssm:/pipeline/prod/beta/postgres\n"
    lt = res(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "beta-lt",
        {
            "userData": user_data(text),
            "iamInstanceProfile": {"arn": "arn:aws:iam::1:instance-profile/beta-profile"},
        },
    )
    role = res("aws:iam/role:Role", "beta-role", rid="role-beta")
    prof = res("aws:iam/instanceProfile:InstanceProfile", "beta-profile", {"role": "beta-role"})
    access = res(
        "aws:iam/rolePolicy:RolePolicy",
        "beta-access",
        {
            "role": "role-beta",
            "policy": policy({"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": resource}),
        },
    )
    fleet = stack("prod-blue", [lt, role, prof, access])
    params = [res("aws:ssm/parameter:Parameter", "beta-postgres", {"name": "/pipeline/prod/beta/postgres"})]
    return estate(fleet, stack("prod", params if create else []))


def test_permissions_credentials_ref_created_and_readable():
    assert permissions.run(_cred_estate()) == []


def test_permissions_credentials_ref_nobody_creates():
    [f] = permissions.run(_cred_estate(create=False))
    assert f.stack == "prod-blue" and f.resource == "beta-lt [aws:ec2/launchTemplate:LaunchTemplate]"
    assert f.message == (
        "credentials_ref ssm:/pipeline/prod/beta/postgres: no stack of the estate creates that SSM "
        "parameter: the module has no credentials"
    )


def test_permissions_credentials_ref_the_role_may_not_read():
    other = "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/prod/alpha/postgres"
    [f] = permissions.run(_cred_estate(resource=other))
    assert "the instance role may not read it" in f.message


def _seed_estate(
    *,
    seeds=("seed-us-east-1a.scylla.pipeline.acme-corp.net",),
    associated=True,
    ranges=("10.30.0.0/16",),
    routes=True,
):
    """prod publishes a seed behind an internal NLB named in a private zone; prod-dr joins through it
    (the design of docs/data-plane.md "ScyllaDB across the DR pair")."""
    host = "scylla-seed-us-east-1a-0123456789.elb.us-east-1.amazonaws.com"
    svc = res(
        "kubernetes:core/v1:Service",
        "scylla-seed-us-east-1a",
        {"spec": {"type": "LoadBalancer", "loadBalancerSourceRanges": list(ranges)}},
        state={"status": {"loadBalancer": {"ingress": [{"hostname": host}]}}},
    )
    zone = res(
        "aws:route53/zone:Zone",
        "seed-zone",
        {"name": "scylla.pipeline.acme-corp.net", "vpcs": [{"vpcId": "vpc-prod"}]},
        rid="Z0SEEDS",
    )
    record = res(
        "aws:route53/record:Record",
        "seed-us-east-1a",
        {
            "name": "seed-us-east-1a.scylla.pipeline.acme-corp.net",
            "type": "CNAME",
            "zoneId": "Z0SEEDS",
            "records": [host],
        },
    )
    prod = stack(
        "prod",
        [res("aws:ec2/vpc:Vpc", "vpc", rid="vpc-prod"), zone, svc, record],
        network_cidr="10.10.0.0/16",
    )
    association = res(
        "aws:route53/zoneAssociation:ZoneAssociation",
        "seed-zone-association",
        {"zoneId": "Z0SEEDS", "vpcId": "vpc-dr"},
    )
    cluster = res(
        "kubernetes:scylla.scylladb.com/v1:ScyllaCluster",
        "scylla-cluster",
        {"kind": "ScyllaCluster", "spec": {"externalSeeds": list(seeds)}},
    )
    peering = [
        res("aws:ec2/route:Route", f"r{i}", {"destinationCidrBlock": c, "vpcPeeringConnectionId": "pcx-1"})
        for i, c in enumerate(("10.10.0.0/16", "10.30.0.0/16"))
        if routes
    ]
    dr = stack(
        "prod-dr",
        [
            res("aws:ec2/vpc:Vpc", "vpc", rid="vpc-dr"),
            cluster,
            *peering,
            *([association] if associated else []),
        ],
        network_cidr="10.30.0.0/16",
    )
    return estate(prod, dr)


def test_reachability_external_seeds_through_the_private_zone():
    assert reachability.run(_seed_estate()) == []
    assert reachability.run(_seed_estate(seeds=("10.10.1.5",))) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # the seeds prod exported before: its first members' Services, names of prod's cluster
        (
            {"seeds": ("scylla-us-east-1-us-east-1a-0.scylla.svc",)},
            "external seed scylla-us-east-1-us-east-1a-0.scylla.svc is a name inside the other site's "
            "cluster: the datacenters cannot gossip",
        ),
        (
            {"seeds": ("seed-us-east-1b.scylla.pipeline.acme-corp.net",)},
            "external seed seed-us-east-1b.scylla.pipeline.acme-corp.net has no Route 53 record in the "
            "estate: the datacenters cannot gossip",
        ),
        (
            {"associated": False},
            "external seed seed-us-east-1a.scylla.pipeline.acme-corp.net is a record of a zone not "
            "associated with prod-dr's VPC: prod-dr cannot resolve it",
        ),
        (
            {"ranges": ("10.10.0.0/16",)},
            "external seed seed-us-east-1a.scylla.pipeline.acme-corp.net is a load balancer that admits "
            "['10.10.0.0/16'], not 10.30.0.0/16",
        ),
        (
            {"routes": False},
            "external seed seed-us-east-1a.scylla.pipeline.acme-corp.net has no peering route to prod "
            "(10.10.0.0/16)",
        ),
    ],
)
def test_reachability_external_seeds_the_other_site_cannot_reach(change, expected):
    found = only(reachability.run(_seed_estate(**change)), "reachability")
    assert [(f.stack, f.message) for f in found] == [("prod-dr", expected)]


def test_name_resolution_seed_names_of_the_private_zone_leave_the_cluster():
    """The old in-cluster seeds are a finding when prod-dr reads them; the private zone's are not."""
    read = [{"reference": "peer", "stack": "prod", "output": "scylla_external_seeds", "required": True}]
    old = ["scylla-us-east-1-us-east-1a-0.scylla.svc"]
    new = ["seed-us-east-1a.scylla.pipeline.acme-corp.net"]
    for seeds, count in ((old, 1), (new, 0)):
        prod = stack("prod", [], outputs={"scylla_external_seeds": seeds})
        found = name_resolution.run(estate(prod, stack("prod-dr", [], reads=read)))
        assert len(found) == count, found
