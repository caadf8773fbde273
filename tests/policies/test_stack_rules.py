"""Each stack policy passes a small passing stack and fires when one resource of it changes: called
directly and through the analyzer's AnalyzeStack (up and preview)."""

from __future__ import annotations

import json

import pytest

from policies.props import Res
from policies.stack_rules import STACK_RULES, STACK_RULES_BY_NAME
from tests.policies.analyzer import Sent
from tests.policies.cases import urn

S = "prod"
REL = "kubernetes:helm.sh/v3:Release"
KAFKA = "kubernetes:kafka.strimzi.io/v1:Kafka"
NG = "aws:eks/nodeGroup:NodeGroup"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
KEY = "aws:kms/key:Key"
ASG = "aws:autoscaling/group:Group"
TG = "aws:lb/targetGroup:TargetGroup"
LI = "aws:lb/listener:Listener"
BUCKET = "aws:s3/bucket:Bucket"
DEPLOY = "kubernetes:apps/v1:Deployment"


def res(typ, name, props, deps=(), options=None, parent=None):
    return Res(typ, urn(S, typ, name), name, props, options or {}, tuple(deps), parent)


def u(typ, name):
    return urn(S, typ, name)


KAFKA_CR = {
    "apiVersion": "kafka.strimzi.io/v1",
    "kind": "Kafka",
    "metadata": {"name": "p", "namespace": "kafka"},
    "spec": {"kafka": {"metricsConfig": {"type": "strimziMetricsReporter"}}},
}
POD_TMPL = {
    "metadata": {"labels": {"app": "x"}},
    "spec": {
        "nodeSelector": {"pipeline-infra/workload": "platform"},
        "tolerations": [{"key": "pipeline-infra/workload", "value": "platform", "effect": "NoSchedule"}],
        "containers": [{"name": "c"}],
    },
}
DEPLOYMENT = {
    "kind": "Deployment",
    "metadata": {"name": "x", "namespace": "kafka"},
    "spec": {"replicas": 2, "template": POD_TMPL},
}
POLICY_OK = json.dumps(
    {
        "Statement": [
            {
                "Principal": {
                    "AWS": "arn:aws:iam::1:role/aws-service-role/autoscaling."
                    "amazonaws.com/AWSServiceRoleForAutoScaling"
                }
            }
        ]
    }
)


FLEET = u("pipeline-infra:fleet:Fleet", "alpha-blue")


def base() -> list[Res]:
    """A stack every stack policy passes."""
    b = u(BUCKET, "prod-backups-backups")
    companions = [
        res(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "sse",
            {},
            [b],
        ),
        res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab", {}, [b]),
        res("aws:s3/bucketVersioning:BucketVersioning", "ver", {}, [b]),
        res("aws:s3/bucketPolicy:BucketPolicy", "pol", {}, [b]),
        res("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "own", {}, [b]),
    ]
    return [
        res(BUCKET, "prod-backups-backups", {"bucketPrefix": "b-"}),
        *companions,
        res(REL, "operators-strimzi", {"chart": "oci://quay.io/strimzi-helm/strimzi-kafka-operator"}),
        res(REL, "kps", {"chart": "kube-prometheus-stack"}),
        res(KAFKA, "kafka-kafka", KAFKA_CR, [u(REL, "operators-strimzi")]),
        res(
            "kubernetes:monitoring.coreos.com/v1:PodMonitor",
            "kafka-pm",
            {"metadata": {"namespace": "kafka"}, "spec": {}},
            [u(REL, "kps")],
        ),
        res(
            "kubernetes:monitoring.coreos.com/v1:PodMonitor",
            "pg-pm",
            {"metadata": {"namespace": "postgres"}, "spec": {}},
            [u(REL, "kps")],
        ),
        res("pipeline-infra:fleet:Fleet", "alpha-blue", {}),
        res(
            "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
            "rules",
            {
                "metadata": {"namespace": "observability"},
                "spec": {
                    "groups": [
                        {
                            "name": "g",
                            "rules": [{"alert": "alpha_ingestion_stopped", "annotations": {"runbook": "r"}}],
                        }
                    ]
                },
            },
            [u(REL, "kps")],
        ),
        res("pulumi:pulumi:StackReference", "peer", {"name": "acme/pipeline-infra/prod"}),
        res(
            NG,
            "platform",
            {
                "labels": {"pipeline-infra/workload": "platform"},
                "taints": [{"key": "pipeline-infra/workload", "value": "platform", "effect": "NO_SCHEDULE"}],
            },
        ),
        res(DEPLOY, "x", DEPLOYMENT),
        res(
            "kubernetes:policy/v1:PodDisruptionBudget",
            "x-pdb",
            {"metadata": {"namespace": "kafka"}, "spec": {"selector": {"matchLabels": {"app": "x"}}}},
        ),
        res("kubernetes:core/v1:Namespace", "ns-kafka", {"metadata": {"name": "kafka"}}),
        res(
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            "np",
            {"metadata": {"namespace": "kafka"}, "spec": {}},
        ),
        res(KEY, "prod-backups-key", {"policy": POLICY_OK}),
        res(
            LT,
            "alpha-blue-lt",
            {"blockDeviceMappings": [{"ebs": {"kmsKeyId": "arn:k"}}]},
            [u(KEY, "prod-backups-key")],
        ),
        res(TG, "alpha-blue-tg-8443", {}),
        res(
            LI,
            "alpha-blue-listener-8443",
            {"defaultActions": [{"targetGroupArn": "arn:tg/alpha-blue-tg-8443"}]},
            [u(TG, "alpha-blue-tg-8443")],
        ),
        res(
            ASG,
            "alpha-blue-asg",
            {"desiredCapacity": 4},
            [u(TG, "alpha-blue-tg-8443")],
            {"ignoreChanges": ["desiredCapacity"]},
            parent=FLEET,
        ),
        res("aws:autoscaling/policy:Policy", "alpha-blue-cpu", {}, [u(ASG, "alpha-blue-asg")], parent=FLEET),
        res(
            "kubernetes:postgresql.cnpg.io/v1:Cluster",
            "pg",
            {"metadata": {"name": "w", "namespace": "postgres"}, "spec": {}},
        ),
        res(
            "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup",
            "pg-daily",
            {
                "metadata": {"namespace": "postgres"},
                "spec": {"cluster": {"name": "w"}, "schedule": "0 0 1 * * *"},
            },
        ),
    ]


def replace(resources, name, **changes):
    out = []
    for r in resources:
        if r.name == name:
            fields = {**r.__dict__, **changes}
            r = Res(**fields)
        out.append(r)
    return out


def drop(resources, name):
    return [r for r in resources if r.name != name]


# rule -> violating variants of the passing stack (one resource changed or removed)
VARIANTS = {
    "dependencies-resolve": [
        replace(base(), "kafka-kafka", dependencies=()),
        replace(base(), "np", dependencies=(u(BUCKET, "missing"),)),
    ],
    "stack-references-qualified": [replace(base(), "peer", props={"name": "prod"})],
    "ingest-reachable": [
        drop(base(), "alpha-blue-listener-8443"),
        replace(base(), "alpha-blue-asg", dependencies=()),
    ],
    "workloads-schedulable": [
        replace(
            base(),
            "x",
            props={
                **DEPLOYMENT,
                "spec": {
                    **DEPLOYMENT["spec"],
                    "template": {**POD_TMPL, "spec": {**POD_TMPL["spec"], "tolerations": []}},
                },
            },
        ),
        replace(
            base(),
            "x",
            props={
                **DEPLOYMENT,
                "spec": {
                    **DEPLOYMENT["spec"],
                    "template": {
                        **POD_TMPL,
                        "spec": {**POD_TMPL["spec"], "nodeSelector": {"pipeline-infra/workload": "gpu"}},
                    },
                },
            },
        ),
    ],
    "kms-key-usable-by-autoscaling": [replace(base(), "prod-backups-key", props={"policy": None})],
    "metric-coverage": [
        drop(base(), "kafka-pm"),
        replace(base(), "kafka-kafka", props={**KAFKA_CR, "spec": {"kafka": {}}}),
    ],
    "autoscaler-owns-capacity": [replace(base(), "alpha-blue-asg", options={})],
    "bucket-companions": [drop(base(), "pab"), drop(base(), "pol")],
    "replicated-services-pdb": [drop(base(), "x-pdb")],
    "postgres-scheduled-backup": [
        drop(base(), "pg-daily"),
        replace(
            base(),
            "pg-daily",
            props={
                "metadata": {"namespace": "postgres"},
                "spec": {"cluster": {"name": "w"}, "suspend": True},
            },
        ),
    ],
    "namespace-network-policies": [drop(base(), "np")],
}


# The analyzer itself drops a dependency on a URN the stack does not hold (pulumi_policy AnalyzeStack
# keeps only the resources it was sent), and the engine refuses such a registration before analysis.
OFFLINE_ONLY = {("dependencies-resolve", 1)}


def test_every_stack_policy_has_variants():
    assert set(VARIANTS) == {r.name for r in STACK_RULES}


def own(rule, resources):
    return STACK_RULES_BY_NAME[rule].run(resources)


@pytest.mark.parametrize("rule", sorted(VARIANTS))
def test_stack_policy_direct(rule):
    # metric-coverage also wants every seed alert: the passing stack deploys only one of them
    passing = [m for m in own(rule, base()) if "seed alert" not in m[1]]
    assert passing == []
    for i, variant in enumerate(VARIANTS[rule]):
        found = [m for m in own(rule, variant) if "seed alert" not in m[1]]
        assert found, f"{rule} does not fire on variant {i}"


def sent(resources):
    return [Sent(r.type, r.urn, r.name, r.props, r.options, r.dependencies, r.parent) for r in resources]


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
@pytest.mark.parametrize("rule", sorted(VARIANTS))
def test_stack_policy_through_the_analyzer(rule, preview, analyzer):
    def mine(resources):
        diags = analyzer.analyze_stack(sent(resources), preview)
        assert [d for d in diags if "during preview" in d.message] == []
        return [d for d in diags if d.policy == rule and "seed alert" not in d.message]

    assert mine(base()) == []
    for i, variant in enumerate(VARIANTS[rule]):
        if (rule, i) in OFFLINE_ONLY:
            continue
        found = mine(variant)
        assert found, f"{rule} does not fire through AnalyzeStack on variant {i}"
        assert {d.enforcement for d in found} == {STACK_RULES_BY_NAME[rule].enforcement}


def test_missing_seed_alerts_are_reported_by_name():
    """tests pin: seed 003 Alert Definitions name alpha_ingestion_stopped and its runbook."""
    found = own("metric-coverage", drop(base(), "rules"))
    assert any("alpha_ingestion_stopped" in m and "runbook-alpha-ingestion-stopped" in m for _, m in found)
