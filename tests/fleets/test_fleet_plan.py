"""The fleets each stack declares, against seed 003's figures (the expected numbers are the seed's,
or computed in the comment from the seed's own inputs; never read back from the code)."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from lib import versions
from planner.render import render
from planner.runtime import REPO
from stacks.contract import FLEET_OUTPUTS

ASG = "aws:autoscaling/group:Group"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
TG = "aws:lb/targetGroup:TargetGroup"

# AWS instance type specifications (EC2 instance type documentation): vCPU, GiB.
AWS_SPECS = {"m6in.xlarge": (4, 16), "m6in.2xlarge": (8, 32), "m7i.xlarge": (4, 16), "m7i.2xlarge": (8, 32),
             "m7i.4xlarge": (16, 64)}

# 003 Capacity Planning > 12-Month Projection max (7 %/month for 12 months = x2.2522, 70 % target):
# alpha ceil(5000 x 2.2522 / (0.7 x 2000)) = ceil(8.04) = 9   (seed range 8-10)
# beta  ceil(4000 x 2.2522 / (0.7 x 1000)) = ceil(12.87) = 13 (seed range 12-14)
# gamma ceil(4000 x 2.2522 / (0.7 x 1375)) = ceil(9.36) = 10  (seed range 8-10)
MAX_12M = {"alpha": 9, "beta": 13, "gamma": 10}
SEED_12M_RANGE = {"alpha": (8, 10), "beta": (12, 14), "gamma": (8, 10)}
# 003 Cost Optimization > Reserved Capacity: baselines 3/5/3.
BASELINE = {"alpha": 3, "beta": 5, "gamma": 3}
# 003 Module Alpha/Beta/Gamma Step 1 and Compute Capacity: production fleets 4/6/4. Gamma at the
# 70 % target needs ceil(4000 / (0.7 x 1375)) = ceil(4.16) = 5 (the seed's own inconsistency,
# docs/capacity.md): desired is at least the seed fleet, and exactly 5 for gamma.
PRODUCTION = {"alpha": 4, "beta": 6, "gamma": 5}
# 003 Step 1: production shapes 8/32, 16/64, 8/32; staging 2/3/2 instances at half of them.
SHAPE = {"alpha": (8, 32), "beta": (16, 64), "gamma": (8, 32)}
STAGING = {"alpha": (2, 4, 16), "beta": (3, 8, 32), "gamma": (2, 4, 16)}
# 003 Rolling Update Procedures: drain alpha 60 s, beta 120 s; stabilisation alpha 5 min, beta 10 min.
# Gamma has no rolling update procedure in the seed: the standard (alpha) figures, docs/fleets.md.
DRAIN = {"alpha": 60, "beta": 120, "gamma": 60}
STABILISATION = {"alpha": 300, "beta": 600, "gamma": 300}
# capacity-plan.yaml data_volume (003 Storage Capacity; beta: SSD with provisioned IOPS).
VOLUME = {"alpha": ("gp3", 10), "beta": ("io2", 64), "gamma": ("gp3", 5)}


def user_data_text(template: dict) -> str:
    """The launch template's user data as cloud-init reads it (base64 of gzip of the text)."""
    return gzip.decompress(base64.b64decode(template["userData"])).decode()


def asg(plan, module, colour="blue"):
    return plan.named(f"{module}-{colour}-asg").inputs


def lt(plan, module, colour="blue"):
    return plan.named(f"{module}-{colour}-lt").inputs


@pytest.mark.parametrize("stack,colour", [("prod-blue", "blue"), ("prod-green", "green")])
@pytest.mark.parametrize("module", ["alpha", "beta", "gamma"])
def test_production_colour_sizes(fleets_of, stack, colour, module):
    g = asg(fleets_of(stack), module, colour)
    assert g["minSize"] == BASELINE[module]
    assert g["desiredCapacity"] == PRODUCTION[module]
    assert g["maxSize"] == MAX_12M[module]
    low, high = SEED_12M_RANGE[module]
    assert low <= g["maxSize"] <= high


@pytest.mark.parametrize("module", ["alpha", "beta", "gamma"])
def test_production_shapes(fleets_of, module):
    t = lt(fleets_of("prod-blue"), module)
    assert AWS_SPECS[t["instanceType"]] == SHAPE[module]


@pytest.mark.parametrize("module", ["alpha", "beta", "gamma"])
def test_staging_is_seed_count_at_half_spec(fleets_of, module):
    plan = fleets_of("staging")
    count, vcpu, mem = STAGING[module]
    g = asg(plan, module)
    assert (g["minSize"], g["desiredCapacity"]) == (count, count)
    # docs/capacity.md: staging's max leaves room for one more instance in each of the 3 AZs.
    assert g["maxSize"] == count + 3
    assert AWS_SPECS[lt(plan, module)["instanceType"]] == (vcpu, mem)


@pytest.mark.parametrize("module", ["alpha", "beta", "gamma"])
def test_dr_warm_standby_then_promotion_to_production(fleets_of, module):
    # Warm standby: capacity-plan.yaml warm_standby (the staging counts 2/3/2) at production shape,
    # so that promotion scales the same launch template out.
    standby = fleets_of("prod-dr")
    count = STAGING[module][0]
    g = asg(standby, module)
    assert (g["minSize"], g["desiredCapacity"]) == (count, count)
    assert AWS_SPECS[lt(standby, module)["instanceType"]] == SHAPE[module]
    promoted = asg(fleets_of("prod-dr", {"dr.role": "primary"}), module)
    assert (promoted["minSize"], promoted["desiredCapacity"], promoted["maxSize"]) == (
        BASELINE[module], PRODUCTION[module], MAX_12M[module])


@pytest.mark.parametrize("stack", ["prod-blue", "staging", "prod-dr"])
def test_every_launch_template_requires_imdsv2_and_encrypts_every_volume(fleets_of, stack):
    templates = fleets_of(stack).of_type(LT)
    assert len(templates) == 3
    for t in templates:
        meta = t.inputs["metadataOptions"]
        assert meta["httpTokens"] == "required"
        assert 1 <= meta["httpPutResponseHopLimit"] <= 2
        devices = t.inputs["blockDeviceMappings"]
        assert len(devices) == 2  # root and data
        for bdm in devices:
            assert bdm["ebs"]["encrypted"] == "true"
            assert bdm["ebs"]["kmsKeyId"].startswith("arn:aws:kms:")


@pytest.mark.parametrize("module", ["alpha", "beta", "gamma"])
def test_data_volume_per_capacity_plan(fleets_of, module):
    data = [b["ebs"] for b in lt(fleets_of("prod-blue"), module)["blockDeviceMappings"]
            if b["deviceName"] == "/dev/sdf"]
    assert len(data) == 1
    kind, size = VOLUME[module]
    assert (data[0]["volumeType"], data[0]["volumeSize"]) == (kind, size)
    if kind == "io2":
        assert data[0]["iops"] >= 3000  # provisioned IOPS SSD (003 Module Beta Step 1)


@pytest.mark.parametrize("module", ["alpha", "beta", "gamma"])
def test_refresh_drain_and_health_per_seed(fleets_of, module):
    plan = fleets_of("prod-blue")
    g = asg(plan, module)
    prefs = g["instanceRefresh"]["preferences"]
    assert g["instanceRefresh"]["strategy"] == "Rolling"
    assert prefs["instanceWarmup"] == str(STABILISATION[module])
    assert prefs["checkpointDelay"] == str(STABILISATION[module])
    assert prefs["checkpointPercentages"][-1] == 100
    assert prefs["minHealthyPercentage"] == 100  # one at a time, capacity never below desired
    hooks = g["initialLifecycleHooks"]
    assert [h["lifecycleTransition"] for h in hooks] == ["autoscaling:EC2_INSTANCE_TERMINATING"]
    assert hooks[0]["heartbeatTimeout"] == DRAIN[module]
    assert hooks[0]["defaultResult"] == "CONTINUE"
    assert g["healthCheckType"] == "ELB"
    # The grace before ELB health counts is the seed's stabilisation window (alpha 5, beta 10 min).
    assert g["healthCheckGracePeriod"] == STABILISATION[module]
    groups = [t for t in plan.of_type(TG) if t.name.startswith(f"{module}-blue-")]
    assert groups
    for t in groups:
        assert str(t.inputs["deregistrationDelay"]) == str(DRAIN[module])
        hc = t.inputs["healthCheck"]
        assert (hc["protocol"], hc["path"], hc["port"]) == ("HTTP", "/health", "8080")


def test_gamma_drain_follows_a_longer_acknowledgment_wait(fleets_of):
    plan = fleets_of("staging", {"fleets.params": {"gamma": {"ACK_WAIT_TIMEOUT_MS": 90_000}}})
    assert asg(plan, "gamma")["initialLifecycleHooks"][0]["heartbeatTimeout"] == 90


@pytest.mark.parametrize("module", ["alpha", "beta", "gamma"])
def test_target_tracking_at_seventy_percent_cpu(fleets_of, module):
    # 003 Scaling Guidelines > Scaling Calculations: target utilization 70 %.
    policy = fleets_of("prod-blue").named(f"{module}-blue-cpu").inputs
    assert policy["policyType"] == "TargetTrackingScaling"
    cfg = policy["targetTrackingConfiguration"]
    assert cfg["predefinedMetricSpecification"]["predefinedMetricType"] == "ASGAverageCPUUtilization"
    assert cfg["targetValue"] == 70


@pytest.mark.parametrize("module", ["alpha", "beta", "gamma"])
def test_tags_propagate_at_launch(fleets_of, module):
    tags = {t["key"]: t for t in asg(fleets_of("prod-green"), module, "green")["tags"]}
    assert tags["Environment"]["value"] == "prod"
    assert tags["Module"]["value"] == module
    assert tags["Colour"]["value"] == "green"
    assert all(tags[k]["propagateAtLaunch"] for k in ("Environment", "Module", "Colour"))


@pytest.mark.parametrize("module", ["alpha", "beta", "gamma"])
def test_instance_policy_is_least_privilege(fleets_of, module):
    plan = fleets_of("staging")
    doc = json.loads(plan.named(f"{module}-blue-access").inputs["policy"])
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["ReadModuleArtifacts"]["Action"] == "s3:GetObject"
    # its own artifacts, the one node exporter tarball and the one CloudWatch agent package (vendor/)
    assert by_sid["ReadModuleArtifacts"]["Resource"] == [
        f"arn:aws:s3:::pipeline-artifacts/artifacts/{module}/*",
        "arn:aws:s3:::pipeline-artifacts/vendor/node_exporter/1.10.2/node_exporter-1.10.2.linux-amd64.tar.gz",
        f"arn:aws:s3:::pipeline-artifacts/vendor/amazon-cloudwatch-agent/{versions.CLOUDWATCH_AGENT_VERSION}/"
        "amazon-cloudwatch-agent.deb",
    ]
    assert by_sid["WriteModuleState"]["Action"] == "s3:PutObject"
    assert by_sid["WriteModuleState"]["Resource"] == f"arn:aws:s3:::pipeline-backups/state/{module}/*"
    # read back its own state only: the -latest copy and seed 003 State Recovery on the instance
    assert by_sid["ReadModuleState"]["Action"] == "s3:GetObject"
    assert by_sid["ReadModuleState"]["Resource"] == f"arn:aws:s3:::pipeline-backups/state/{module}/*"
    assert "*" not in json.dumps([s["Action"] for s in doc["Statement"]])
    attachments = plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    attached = {r.inputs["policyArn"] for r in attachments if r.name.startswith(f"{module}-blue-")}
    assert attached == {"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
                        "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"}


def test_load_balancers_ingest_on_source_ports_and_handoff_on_the_handoff_port(fleets_of):
    plan = fleets_of("prod-blue")
    listeners = {r.name: r.inputs for r in plan.of_type("aws:lb/listener:Listener")}
    assert listeners["alpha-blue-listener-8443"]["port"] == 8443  # NetworkSettings source_ports default
    assert listeners["beta-blue-listener-9000"]["port"] == 9000
    assert listeners["gamma-blue-listener-9000"]["port"] == 9000
    for lb in plan.of_type("aws:lb/loadBalancer:LoadBalancer"):
        assert lb.inputs["loadBalancerType"] == "network"
        assert lb.inputs["internal"] is True


def test_handoff_chain_alpha_to_beta_to_gamma_in_the_user_data(fleets_of):
    plan = fleets_of("prod-blue")
    text = {m: user_data_text(lt(plan, m)) for m in ("alpha", "beta")}
    beta_lb = [r for r in plan.of_type("aws:lb/loadBalancer:LoadBalancer") if r.name == "beta-blue-nlb"]
    assert beta_lb and "beta-blue-nlb" in text["alpha"].split("target:")[1].split("\n")[0]
    assert "gamma-blue-nlb" in text["beta"].split("target:")[1].split("\n")[0]


def test_fleet_colour_stack_exports_the_contract(fleets_of):
    plan = fleets_of("prod-green")
    assert set(FLEET_OUTPUTS) <= set(plan.outputs)
    assert plan.outputs["colour"] == "green"
    assert plan.outputs["ingest_lb_dns_name"].endswith(".elb.us-east-1.amazonaws.com")


def test_render_writes_the_user_data(fleets_of, tmp_path):
    written = render(fleets_of("prod-blue"), tmp_path)
    names = sorted(p.name for p in written if p.parent.name == "cloud-init")
    assert names == ["alpha-blue-lt.yaml", "beta-blue-lt.yaml", "gamma-blue-lt.yaml"]
    assert (tmp_path / "cloud-init" / "beta-blue-lt.yaml").read_text().startswith("#cloud-config\n")


def test_plan_cli_shows_the_fleets_with_their_sizing():
    out = subprocess.run([sys.executable, "-m", "planner", "plan", "--stack", "prod-blue"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    # 0: the plan evaluated and its estate (prod-blue and prod) has no finding left.
    assert out.returncode == 0, out.stderr
    for module in ("alpha", "beta", "gamma"):
        assert f"{module}-blue-asg  [{ASG}]" in out.stdout
    assert "Policy: " in out.stdout
    assert "fleet-capacity" not in out.stdout and "fleet-drain" not in out.stdout


@pytest.mark.parametrize("stack,expected", [
    # 003 Step 1: staging 2/3/2; capacity-plan.yaml warm_standby 2/3/2 at production shape (prod-dr).
    ("staging", {"alpha": 2, "beta": 3, "gamma": 2}),
    ("prod-dr", {"alpha": 2, "beta": 3, "gamma": 2}),
])
def test_whole_environment_stacks_declare_their_fleets(plan_of, stack, expected):
    plan = plan_of(stack)
    for module, count in expected.items():
        g = plan.named(f"{module}-blue-asg").inputs
        assert (g["minSize"], g["desiredCapacity"]) == (count, count)
        assert plan.named(f"{module}-blue-lt").inputs["metadataOptions"]["httpTokens"] == "required"


# --- the image and the capacity an `up` leaves alone (seed traceability B2) ------------------------
@pytest.mark.parametrize("stack", ["prod-blue", "staging", "prod-dr"])
def test_image_is_the_pinned_setting_and_no_lookup(fleets_of, stack):
    plan = fleets_of(stack, {"fleets.ami_id": "ami-0123456789abcdef0"})
    assert {t.inputs["imageId"] for t in plan.of_type(LT)} == {"ami-0123456789abcdef0"}
    # no "latest" parameter read on every up, no secret image id in the diff
    assert [i for i in plan.invokes if i["function"] == GET_PARAMETER] == []
    assert all(t.inputs["imageId"] != "[secret]" for t in plan.of_type(LT))


# The dated public parameter of one Debian 12 release (docs/fleets.md "Image"): the same value in every
# stack file, each region's id read from it at preview.
DEBIAN_RELEASE = "/aws/service/debian/release/bookworm/20250101-1234/amd64"
GET_PARAMETER = "aws:ssm/getParameter:getParameter"


@pytest.mark.parametrize("stack,region", [("prod-blue", "us-east-1"), ("staging", "eu-west-1"),
                                          ("prod-dr", "us-west-2")])
def test_image_from_a_dated_debian_parameter(fleets_of, stack, region):
    from planner.mocks import PlanMocks

    plan = fleets_of(stack, {"fleets.ami_id": DEBIAN_RELEASE})
    # one read of the pinned parameter, in the stack's region (the deployer's and the CI preview
    # role's ssm:GetParameter: README, Deploying for real)
    reads = [i for i in plan.invokes if i["function"] == GET_PARAMETER]
    assert reads == [{"function": GET_PARAMETER, "args": {"name": DEBIAN_RELEASE}}]
    assert plan.invoke_errors == []
    # every launch template boots the id the parameter holds in this region, as a plain value
    answer = PlanMocks(region).call(SimpleNamespace(token=GET_PARAMETER, args={"name": DEBIAN_RELEASE}))
    assert {t.inputs["imageId"] for t in plan.of_type(LT)} == {answer["insecureValue"]}
    assert answer["insecureValue"].startswith("ami-0")


def autoscaled_groups_resetting_capacity(resources) -> list[str]:
    """Names of Auto Scaling groups under a scaling policy whose desired capacity an `up` would reset
    (no ignoreChanges on desiredCapacity). Pure: a list of plan resources in, names out."""
    groups = {r.urn: r for r in resources if r.type == ASG}
    # a policy names its group by the group's (auto-generated) name output: it depends on the group
    scaled = {urn for p in resources if p.type == "aws:autoscaling/policy:Policy" for urn in p.dependencies}
    return sorted(
        g.name for g in groups.values()
        if g.urn in scaled and "desiredCapacity" not in g.options.get("ignoreChanges", [])
    )


@pytest.mark.parametrize("stack", ["prod-blue", "prod-green", "staging", "prod-dr"])
def test_autoscaled_groups_keep_their_capacity_on_up(fleets_of, stack):
    plan = fleets_of(stack)
    assert len(plan.of_type(ASG)) == 3
    assert autoscaled_groups_resetting_capacity(plan.resources) == []


def test_the_capacity_check_finds_a_group_without_ignore_changes(fleets_of):
    import dataclasses

    plan = fleets_of("prod-blue")
    stripped = [dataclasses.replace(r, options={}) if r.type == ASG else r for r in plan.resources]
    expected = [f"{m}-blue-asg" for m in ("alpha", "beta", "gamma")]
    assert autoscaled_groups_resetting_capacity(stripped) == expected


def test_plan_json_records_the_option(fleets_of):
    g = fleets_of("prod-blue").named("alpha-blue-asg").to_json()
    assert g["options"] == {"ignoreChanges": ["desiredCapacity"]}


@pytest.mark.parametrize("stack", ["prod-blue", "prod-green", "staging", "prod-dr"])
def test_no_cluster_internal_name_reaches_a_fleet(fleets_of, stack):
    # seed traceability A30/B3: the in-cluster TLS listener (*.svc) and the DR replication listener
    # are not the fleets'; alpha gets Kafka only from the environment's fleet listener output
    from components.fleet.cloud_init import cluster_internal

    for t in fleets_of(stack).of_type(LT):
        text = user_data_text(t.inputs)
        assert not cluster_internal(text), t.name
        assert "kafka-bootstrap" not in text and "replication" not in text, t.name


def test_a_cluster_internal_endpoint_is_refused():
    from components.fleet.cloud_init import CloudInitSpec

    with pytest.raises(ValueError, match="cluster-internal"):
        CloudInitSpec(module="alpha", environment="staging", colour="blue", region="eu-west-1", params={},
                      artifact_bucket="a", artifact_version="1", backup_bucket="b", otlp_endpoint="",
                      listen_ports=(8443,), health_port=8080, metrics_port=9100, drain_seconds=60,
                      node_exporter_version="1.10.2",
                      kafka_bootstrap_servers="pipeline-kafka-bootstrap.kafka.svc:9093")


@pytest.mark.parametrize("stack", ["staging", "prod-dr"])
def test_no_cluster_internal_name_in_the_whole_environment_plan(plan_of, stack):
    # the environment stacks build Kafka and their fleets together: the in-cluster bootstrap
    # (pipeline-kafka-bootstrap.kafka.svc:9093) stays out of alpha.yaml
    from components.fleet.cloud_init import cluster_internal

    plan = plan_of(stack)
    assert cluster_internal(plan.outputs["kafka_bootstrap_servers"])  # the address that used to leak
    fleet_templates = [t for t in plan.of_type(LT) if "Module" in (t.inputs.get("tags") or {})]
    assert len(fleet_templates) == 3
    for t in fleet_templates:
        assert not cluster_internal(user_data_text(t.inputs)), t.name
