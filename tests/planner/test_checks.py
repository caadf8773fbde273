"""Each whole-platform check (planner/checks) on a minimal estate that passes, and on the same estate
with one change that violates it: the finding names the resource and the reason."""

from __future__ import annotations

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
