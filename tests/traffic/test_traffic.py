"""Blue-green traffic switch and DR DNS failover (seed 003 Blue-Green Deployment > Cutover Phase:
"update DNS entries"; Geographic Failover: "DNS and routing configuration updates redirect all
traffic from primary site endpoints to DR site resources")."""

from __future__ import annotations

import functools
import json

import pytest

from components.traffic.routing import colour_weights
from planner.report import diff
from tests.fleets.conftest import stack_settings, stand_in_network

RECORD = "aws:route53/record:Record"
HEALTH = "aws:route53/healthCheck:HealthCheck"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
# Resources that hold data: a DR promotion must neither replace nor delete any of them.
STATEFUL = (
    "aws:s3/",
    "aws:kms/",
    "aws:ebs/",
    "aws:rds/",
    "aws:efs/",
    "aws:eks/cluster",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:postgresql.cnpg.io",
    "kubernetes:scylla.scylladb.com",
    "kubernetes:kafka.strimzi.io/v1:Kafka",
)


@functools.cache
def primary(overrides_json: str = "{}"):
    """The primary site's traffic stack (prod-traffic)."""
    from stacks.compose.traffic import build_traffic_switch
    from tests.fleets.mockrun import record

    settings = stack_settings("prod-traffic", json.loads(overrides_json))
    return record(settings, lambda: build_traffic_switch(settings), stack="prod-traffic")


@functools.cache
def dr_site(role: str):
    from stacks.compose.fleets import build_fleets
    from stacks.compose.traffic import build_traffic
    from tests.fleets.mockrun import record

    settings = stack_settings("prod-dr", {"dr.role": role})

    def program():
        fleets = build_fleets(settings, stand_in_network(settings))
        return {**fleets, **build_traffic(settings, None, fleet_outputs=fleets)}

    return record(settings, program, stack="prod-dr")


def weights(plan) -> dict[str, int]:
    return {
        r.inputs["setIdentifier"]: r.inputs["weightedRoutingPolicies"][0]["weight"]
        for r in plan.of_type(RECORD)
        if r.inputs.get("weightedRoutingPolicies")
    }


def test_active_colour_takes_all_traffic():
    assert weights(primary()) == {"blue": 100, "green": 0}
    assert weights(primary(json.dumps({"traffic.active": "green"}))) == {"blue": 0, "green": 100}


def test_weighted_split_for_a_gradual_cutover():
    plan = primary(json.dumps({"traffic.weights": {"blue": 90, "green": 10}}))
    assert weights(plan) == {"blue": 90, "green": 10}


def test_weighted_records_alias_each_colour_stack_ingest_with_target_health():
    plan = primary()
    refs = {r.inputs.get("name") for r in plan.of_type("pulumi:pulumi:StackReference")}
    assert refs == {f"organization/pipeline-infra/{s}" for s in ("prod", "prod-blue", "prod-green")}
    for r in plan.of_type(RECORD):
        if r.inputs.get("weightedRoutingPolicies"):
            alias = r.inputs["aliases"][0]
            assert alias["evaluateTargetHealth"] is True
            # The colour stack's ingest NLB: its own plan's ingest_lb_dns_name output (the estate).
            from tests.conftest import estate_of

            colour = estate_of().plans[f"prod-{r.inputs['setIdentifier']}"]
            assert alias["name"] == colour.outputs["ingest_lb_dns_name"]


def test_cutover_changes_only_the_weighted_records():
    d = diff(primary(), primary(json.dumps({"traffic.active": "green"})))
    assert d["created"] == [] and d["deleted"] == []
    assert sorted(c["name"] for c in d["changed"]) == ["ingest-blue", "ingest-green"]
    for c in d["changed"]:
        assert c["type"] == RECORD
        assert c["paths"] == ["weightedRoutingPolicies[0].weight"]


def test_cutover_of_the_whole_traffic_stack_touches_only_traffic_records(plan_of):
    d = diff(plan_of("prod-traffic"), plan_of("prod-traffic", {"traffic.active": "green"}))
    assert d["created"] == [] and d["deleted"] == []
    assert {c["type"] for c in d["changed"]} == {RECORD}, [(c["name"], c["paths"]) for c in d["changed"]]


def test_failover_primary_on_prod_secondary_on_dr_with_health_checks():
    p = {r.inputs.get("setIdentifier"): r for r in primary().of_type(RECORD)}
    assert p["primary"].inputs["failoverRoutingPolicies"] == [{"type": "PRIMARY"}]
    assert p["primary"].inputs["healthCheckId"]
    # both sites carry Pulumi.prod.yaml's and Pulumi.prod-dr.yaml's dns.zone_name: ingest.<zone>
    assert p["primary"].inputs["name"] == "ingest.pipeline.acme-corp.net"
    assert p["primary"].inputs["aliases"][0]["name"] == "prod.ingest.pipeline.acme-corp.net"
    d = {r.inputs.get("setIdentifier"): r for r in dr_site("standby").of_type(RECORD)}
    assert d["secondary"].inputs["failoverRoutingPolicies"] == [{"type": "SECONDARY"}]
    assert d["secondary"].inputs["healthCheckId"]
    assert d["secondary"].inputs["name"] == p["primary"].inputs["name"]
    checks = dr_site("standby").of_type(HEALTH)
    assert {c.inputs["type"] for c in checks} == {"CLOUDWATCH_METRIC"}


def test_the_primary_gate_watches_the_alarm_the_dr_site_owns():
    gate = [c for c in primary().of_type(HEALTH) if c.name == "ingest-dr-gate"][0].inputs
    alarm = [a for a in dr_site("standby").of_type(ALARM) if a.name == "dr-ingest-promotion-gate"][0].inputs
    # docs/runbooks/dr-drill.md names it: the operators look for this alarm during a drill.
    assert gate["cloudwatchAlarmName"] == alarm["name"] == "pipeline-prod-dr-dr-promoted"
    assert gate["cloudwatchAlarmRegion"] == "us-west-2"  # prod's dr.peer_region: the DR site's region
    assert gate["insufficientDataHealthStatus"] == "Healthy"


def test_promotion_serves_the_dr_site_as_primary():
    standby = dr_site("standby").named("dr-ingest-promotion-gate").inputs
    promoted = dr_site("primary").named("dr-ingest-promotion-gate").inputs
    # HealthyHostCount is never below 0: the standby gate never alarms, the promoted one always does
    assert (standby["comparisonOperator"], standby["threshold"], standby["treatMissingData"]) == (
        "LessThanThreshold",
        0,
        "notBreaching",
    )
    assert (promoted["comparisonOperator"], promoted["threshold"], promoted["treatMissingData"]) == (
        "GreaterThanOrEqualToThreshold",
        0,
        "breaching",
    )


def test_promotion_replaces_no_stateful_resource_and_scales_the_fleets():
    d = diff(dr_site("standby"), dr_site("primary"))
    assert d["created"] == [] and d["deleted"] == []
    changed = {c["name"]: c for c in d["changed"]}
    assert not [c for c in d["changed"] if c["type"].startswith(STATEFUL)]
    # only sizes and refresh pacing of the groups, and the gate; the launch templates stay
    assert {c["type"] for c in d["changed"]} == {"aws:autoscaling/group:Group", ALARM}
    for module in ("alpha", "beta", "gamma"):
        assert "minSize" in changed[f"{module}-blue-asg"]["paths"]
        assert "desiredCapacity" in changed[f"{module}-blue-asg"]["paths"]


def test_promotion_of_the_whole_dr_stack_replaces_no_stateful_resource(plan_of):
    d = diff(plan_of("prod-dr"), plan_of("prod-dr", {"dr.role": "primary"}))
    for r in d["created"] + d["deleted"]:
        assert not r["type"].startswith(STATEFUL), r
    # Stateful resources change only where promotion is meant to act (docs/runbooks/dr-drill.md):
    # the replica cluster's primary and its resumed backups (with one base backup of the new timeline
    # at once: `immediate`), the Scylla Manager tasks the promoted
    # site schedules, the DR connectors started and MirrorMaker 2's connectors stopped.
    allowed = {
        "postgres-cluster": {"spec.replica.primary"},
        "postgres-daily-backup": {"spec.suspend", "spec.immediate"},
        "scylla-cluster": {"spec.backups", "spec.repairs"},
        "kafka-connect-postgres-sink": {"spec.state"},
        "kafka-connect-scylla-source": {"spec.state"},
        "mirrormaker2-mm2": {
            "spec.mirrors[0].checkpointConnector.state",
            "spec.mirrors[0].sourceConnector.state",
        },
    }
    stateful = {c["name"]: set(c["paths"]) for c in d["changed"] if c["type"].startswith(STATEFUL)}
    assert stateful == allowed


def test_weights_helper_rejects_a_split_that_starves_the_active_colour():
    with pytest.raises(ValueError):
        colour_weights("green", {"blue": 100, "green": 0})


def test_each_failover_record_waits_for_the_record_it_aliases():
    # Route 53 refuses an alias to a record of the zone that does not exist yet.
    p = primary()
    weighted = {r.urn for r in p.of_type(RECORD) if r.inputs.get("weightedRoutingPolicies")}
    assert weighted and weighted <= set(p.named("ingest-primary").dependencies)
    d = dr_site("standby")
    assert d.named("dr-ingest-site").urn in d.named("dr-ingest-secondary").dependencies
