"""build_streaming under the mock runtime for staging, prod and prod-dr: every custom resource strictly
valid against the Strimzi 1.2 CRDs, per-environment sizes, seed 000's figures, DR standby/promotion."""

from __future__ import annotations

import re

import pytest

from lib import versions
from stacks.settings import SettingsError
from tests.streaming.harness import streaming_plan
from tests.support.crds import validate_custom_resource as validate

STACKS = ["staging", "prod", "prod-dr"]
PROMOTED = {"dr.role": "primary"}
SINK_PASSWORD = "sink-password-value"  # what the harness hands build_streaming as the secret


def _one(plan, kind):
    found = plan.custom_resources(kind)
    assert len(found) == 1, f"{len(found)} {kind}"
    return found[0]


def _pool(plan, name):
    return next(p for p in plan.custom_resources("KafkaNodePool") if p["metadata"]["name"] == name)


def _connector(plan, name):
    return next(c for c in plan.custom_resources("KafkaConnector") if c["metadata"]["name"] == name)


@pytest.mark.parametrize(("stack", "overrides"), [(s, None) for s in STACKS] + [("prod-dr", PROMOTED)])
def test_every_custom_resource_is_valid_against_its_crd(stack, overrides):
    plan = streaming_plan(stack, overrides)
    manifests = plan.custom_resources()
    assert manifests
    for manifest in manifests:
        assert manifest["apiVersion"] == "kafka.strimzi.io/v1"  # Strimzi 1.2 serves nothing else
        validate(manifest)


def test_strict_validation_catches_a_misspelled_field():
    manifest = _one(streaming_plan("prod"), "Kafka")
    broken = {**manifest, "spec": {**manifest["spec"], "entityOperater": {}}}
    with pytest.raises(AssertionError, match="entityOperater"):
        validate(broken)


def test_prod_sizes():
    plan = streaming_plan("prod")
    # issue 4 item 4: 3 controllers; prod brokers 3, default.replication.factor 3, min.insync.replicas 2.
    controllers, brokers = _pool(plan, "controllers"), _pool(plan, "brokers")
    assert (controllers["spec"]["replicas"], controllers["spec"]["roles"]) == (3, ["controller"])
    assert (brokers["spec"]["replicas"], brokers["spec"]["roles"]) == (3, ["broker"])
    config = _one(plan, "Kafka")["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["offsets.topic.replication.factor"] == 3
    assert config["transaction.state.log.replication.factor"] == 3
    assert config["transaction.state.log.min.isr"] == 2
    for topic in plan.custom_resources("KafkaTopic"):
        assert topic["spec"]["replicas"] == 3
        assert topic["spec"]["config"]["min.insync.replicas"] == 2
    # issue 4 item 5: Schema Registry with 2 replicas and a PodDisruptionBudget in prod.
    deployment = plan.of_type("kubernetes:apps/v1:Deployment")[0].inputs
    assert deployment["spec"]["replicas"] == 2
    pdb = plan.of_type("kubernetes:policy/v1:PodDisruptionBudget")[0].inputs
    assert pdb["spec"]["minAvailable"] == 1


def test_staging_sizes_follow_its_stack_file():
    plan = streaming_plan("staging")
    # Pulumi.staging.yaml: kafka brokers 3, storage_gib 100, resources 1 CPU / 4Gi; connect replicas 2;
    # schema_registry replicas 1.
    brokers = _pool(plan, "brokers")["spec"]
    assert brokers["replicas"] == 3
    assert brokers["storage"]["size"] == "100Gi"
    assert brokers["resources"]["requests"] == {"cpu": "1", "memory": "4Gi"}
    assert _one(plan, "KafkaConnect")["spec"]["replicas"] == 2
    assert plan.of_type("kubernetes:apps/v1:Deployment")[0].inputs["spec"]["replicas"] == 1
    # One replica gets no PodDisruptionBudget: minAvailable 1 would block every node drain.
    assert plan.of_type("kubernetes:policy/v1:PodDisruptionBudget") == []


@pytest.mark.parametrize("stack", STACKS)
def test_node_pools_are_persistent_placed_and_rack_aware(stack):
    plan = streaming_plan(stack)
    for name in ("controllers", "brokers"):
        spec = _pool(plan, name)["spec"]
        assert spec["storage"]["type"] == "persistent-claim"
        assert spec["storage"]["class"] == "gp3-encrypted"  # the harness's KubeTarget.storage_class
        assert spec["storage"]["deleteClaim"] is False
        pod = spec["template"]["pod"]
        terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
            "nodeSelectorTerms"
        ]
        assert terms[0]["matchExpressions"] == [
            {"key": "pipeline-infra/workload", "operator": "In", "values": ["kafka"]}
        ]
        assert {
            "key": "pipeline-infra/workload",
            "operator": "Equal",
            "value": "kafka",
            "effect": "NoSchedule",
        } in pod["tolerations"]
    kafka = _one(plan, "Kafka")["spec"]
    assert kafka["kafka"]["rack"]["topologyKey"] == "topology.kubernetes.io/zone"
    assert kafka["kafka"]["version"] == versions.KAFKA_VERSION
    assert kafka["kafka"]["metricsConfig"]["type"] in ("strimziMetricsReporter", "jmxPrometheusExporter")
    assert set(kafka["entityOperator"]) >= {"topicOperator", "userOperator"}


@pytest.mark.parametrize("stack", STACKS)
def test_users_authenticate_the_way_a_listener_does(stack):
    plan = streaming_plan(stack)
    listeners = _one(plan, "Kafka")["spec"]["kafka"]["listeners"]
    assert any(lst["tls"] for lst in listeners), "a TLS listener"
    assert all(lst["tls"] for lst in listeners), "no plain listener"
    auth_types = {lst["authentication"]["type"] for lst in listeners}
    users = {u["metadata"]["name"]: u for u in plan.custom_resources("KafkaUser")}
    assert {"connect", "schema-registry"} <= set(users)
    for user in users.values():
        assert user["spec"]["authentication"]["type"] in auth_types
        assert user["spec"]["authorization"]["type"] == "simple"
    assert _one(plan, "Kafka")["spec"]["kafka"]["authorization"]["type"] == "simple"


def test_connect_acls_cover_the_sink_group_and_cdc_topics():
    plan = streaming_plan("prod")
    connect = next(u for u in plan.custom_resources("KafkaUser") if u["metadata"]["name"] == "connect")
    acls = [
        (
            a["resource"]["type"],
            a["resource"]["name"],
            a["resource"].get("patternType", "literal"),
            set(a["operations"]),
        )
        for a in connect["spec"]["authorization"]["acls"]
    ]
    # seed 000 Kafka Health: kafka-consumer-groups --describe --group connect-postgres-sink.
    assert any(t == "group" and n == "connect-postgres-sink" and "Read" in ops for t, n, _, ops in acls)
    for topic in ("cdc.scylla.app_data.users", "cdc.scylla.app_data.orders"):
        assert any(
            t == "topic"
            and ("Write" in ops and "Read" in ops)
            and (n == topic or (p == "prefix" and topic.startswith(n)))
            for t, n, p, ops in acls
        )
    assert any(t == "topic" and n == "dlq-scylla-source" and "Write" in ops for t, n, _, ops in acls)


@pytest.mark.parametrize("stack", STACKS)
def test_topics_derive_from_the_table_list(stack):
    plan = streaming_plan(stack)
    s = plan.settings
    topics = {
        t["spec"].get("topicName", t["metadata"]["name"]): t["spec"]
        for t in plan.custom_resources("KafkaTopic")
    }
    cdc = [f"{s.connect.topic_prefix}.{s.scylla.keyspace}.{t.name}" for t in s.scylla.tables]
    assert cdc == ["cdc.scylla.app_data.users", "cdc.scylla.app_data.orders"]  # settings defaults (seed 000)
    # These stack files leave partitions and retention at the settings defaults: 12 partitions,
    # 7 days (168 h) for CDC topics, 14 days (336 h) for the DLQ.
    for name in cdc:
        assert topics[name]["partitions"] == 12
        assert topics[name]["config"]["retention.ms"] == 168 * 3_600_000
    # seed 000 Emergency Procedures > P1: DLQ Accumulation: the DLQ topic dlq-scylla-source.
    assert topics["dlq-scylla-source"]["config"]["retention.ms"] == 336 * 3_600_000
    # Connect's storage topics and the registry's kafkastore are compacted.
    for name in ("connect-configs", "connect-offsets", "connect-status", "_schemas"):
        assert topics[name]["config"]["cleanup.policy"] == "compact"
    connect = _one(plan, "KafkaConnect")["spec"]
    assert {
        connect["configStorageTopic"],
        connect["offsetStorageTopic"],
        connect["statusStorageTopic"],
    } <= set(topics)
    # Every topic a connector writes to or reads from exists.
    sink = _connector(plan, "postgres-sink")["spec"]["config"]
    assert set(sink["topics"].split(",")) | {sink["errors.deadletterqueue.topic.name"]} <= set(topics)
    assert _one(plan, "Kafka")["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False


def test_kafka_topic_object_names_are_valid_kubernetes_names():
    for topic in streaming_plan("prod").custom_resources("KafkaTopic"):
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", topic["metadata"]["name"]), topic["metadata"][
            "name"
        ]


def test_connect_cluster_seed_000_figures():
    plan = streaming_plan("prod")
    connect = _one(plan, "KafkaConnect")
    spec = connect["spec"]
    # seed 000 Scaling > Vertical: KAFKA_HEAP_OPTS "-Xms2G -Xmx4G".
    assert spec["jvmOptions"] == {"-Xms": "2G", "-Xmx": "4G"}
    assert connect["metadata"]["annotations"]["strimzi.io/use-connector-resources"] == "true"
    assert spec["rack"]["topologyKey"] == "topology.kubernetes.io/zone"
    assert spec["authentication"]["type"] == "tls"
    # seed 000 Step 4: RUNNING (4/4 tasks) for both connectors.
    assert _connector(plan, "scylla-source")["spec"]["tasksMax"] == 4
    assert _connector(plan, "postgres-sink")["spec"]["tasksMax"] == 4
    # seed 000 High Replication Lag: tasks.max 8.
    assert (
        _connector(streaming_plan("prod", {"connect.sink_tasks": 8}), "postgres-sink")["spec"]["tasksMax"]
        == 8
    )


def test_connect_build_plugins_and_output():
    plan = streaming_plan("prod")
    build = _one(plan, "KafkaConnect")["spec"]["build"]
    urls = {p["name"]: [a.get("url", "") for a in p["artifacts"]] for p in build["plugins"]}
    # issue 4 item 5: scylla-cdc-source-connector 2.0.x, the Debezium JDBC sink, the Avro converter.
    assert re.search(
        r"com/scylladb/scylla-cdc-source-connector/2\.0\.\d+/", urls["scylla-cdc-source-connector"][0]
    )
    assert "/io/debezium/debezium-connector-jdbc/" in urls["debezium-connector-jdbc"][0]
    assert "kafka-connect-avro-converter" in urls["kafka-connect-avro-converter"][0]
    # No registry configured: an ECR repository of the stack, pushed to by the build pod's IRSA role.
    repo = plan.of_type("aws:ecr/repository:Repository")
    assert len(repo) == 1
    assert build["output"]["type"] == "docker"
    assert build["output"]["image"].startswith("123456789012.dkr.ecr.us-east-1.amazonaws.com/")
    push = next(r for r in plan.of_type("kubernetes:core/v1:Secret") if r.name == "kafka-connect-push")
    assert push.inputs["type"] == "kubernetes.io/dockerconfigjson"
    assert build["output"]["pushSecret"] == push.inputs["metadata"]["name"]
    annotations = _one(plan, "KafkaConnect")["spec"]["template"]["buildServiceAccount"]["metadata"][
        "annotations"
    ]
    assert annotations["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")


def test_connect_build_to_a_configured_registry():
    plan = streaming_plan(
        "staging",
        {
            "connect.image_repository": "registry.example.com/pipeline/connect",
            "connect.push_secret": "registry-push",
        },
    )
    output = _one(plan, "KafkaConnect")["spec"]["build"]["output"]
    assert output["image"].startswith("registry.example.com/pipeline/connect:")
    assert output["pushSecret"] == "registry-push"
    assert plan.of_type("aws:ecr/repository:Repository") == []


def test_a_cluster_without_irsa_needs_a_registry():
    # An existing cluster (secret kubernetes.kubeconfig) has no IRSA to push to the stack's ECR.
    from planner.runtime import run_plan

    with pytest.raises(SettingsError) as err:
        run_plan("staging", {"kubernetes": {"kubeconfig": {"secure": "v1:encrypted"}}})
    assert str(err.value).startswith(
        "Pulumi.staging.yaml: pipeline-infra:connect.image_repository: required on an existing cluster"
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"connect.push_secret": "registry-push"},  # without image_repository
        {"connect.image_repository": "Registry Example/connect"},
        {"kafka.controller_storage_gib": 0},
        {"kafka.controller_resources.cpu": "lots"},
    ],
)
def test_bad_streaming_settings_fail_as_one_settings_error(overrides):
    with pytest.raises(SettingsError) as err:
        streaming_plan("staging", overrides)
    assert "pipeline-infra:" in str(err.value) and "\n" not in str(err.value)


def test_initial_heap_above_maximum_is_refused():
    with pytest.raises(SettingsError) as err:
        streaming_plan("staging", {"connect.heap_min": "8g", "connect.heap_max": "2g"})
    assert str(err.value).startswith(
        "Pulumi.staging.yaml: pipeline-infra:connect: heap_min 8g must not exceed"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_the_sink_password_is_never_in_a_connector_or_config(stack):
    plan = streaming_plan(stack)
    for resource in plan.resources:
        assert SINK_PASSWORD not in repr(resource.inputs), resource.name
    sink = _connector(plan, "postgres-sink")["spec"]["config"]
    assert sink["connection.password"] == "${directory:/mnt/postgres-sink:password}"
    spec = _one(plan, "KafkaConnect")["spec"]
    assert "directory" in spec["config"]["config.providers"].split(",")
    mount = spec["template"]["connectContainer"]["volumeMounts"][0]
    assert mount["mountPath"] == "/mnt/postgres-sink"
    volume = next(v for v in spec["template"]["pod"]["volumes"] if v["name"] == mount["name"])
    secret = next(
        r
        for r in plan.of_type("kubernetes:core/v1:Secret")
        if r.inputs.get("metadata", {}).get("name") == volume["secret"]["secretName"]
    )
    assert secret.inputs["stringData"] == {"password": "[secret]"}


def test_connectors_run_on_primary_sites():
    for stack in ("staging", "prod"):
        plan = streaming_plan(stack)
        assert {c["spec"]["state"] for c in plan.custom_resources("KafkaConnector")} == {"running"}
        assert plan.custom_resources("KafkaMirrorMaker2") == []


def test_dr_standby_mirrors_and_keeps_connectors_stopped():
    plan = streaming_plan("prod-dr")
    assert {c["spec"]["state"] for c in plan.custom_resources("KafkaConnector")} == {"stopped"}
    mm2 = _one(plan, "KafkaMirrorMaker2")["spec"]
    mirror = mm2["mirrors"][0]
    # The primary stack's own kafka_bootstrap_servers output (the estate answers the StackReference of
    # peer_stack prod with prod's plan): its replication listener.
    from tests.conftest import estate_of

    primary = estate_of().plans["prod"].outputs
    assert mirror["source"]["bootstrapServers"] == primary["kafka_bootstrap_servers"]
    assert mirror["source"]["bootstrapServers"].startswith("kafka-replication-bootstrap-")
    assert mirror["sourceConnector"]["state"] == mirror["checkpointConnector"]["state"] == "running"
    pattern = re.compile(mirror["topicsPattern"])
    for topic in ("cdc.scylla.app_data.users", "cdc.scylla.app_data.orders", "dlq-scylla-source", "_schemas"):
        assert pattern.fullmatch(topic), topic
    assert not pattern.fullmatch("connect-offsets")
    assert mirror["sourceConnector"]["config"]["replication.policy.class"].endswith(
        "IdentityReplicationPolicy"
    )
    assert re.fullmatch(mirror["groupsPattern"], "connect-postgres-sink")


def test_promotion_starts_connectors_stops_mirroring_and_replaces_nothing_stateful():
    standby, promoted = streaming_plan("prod-dr"), streaming_plan("prod-dr", PROMOTED)
    assert {c["spec"]["state"] for c in promoted.custom_resources("KafkaConnector")} == {"running"}
    mirror = _one(promoted, "KafkaMirrorMaker2")["spec"]["mirrors"][0]
    assert mirror["sourceConnector"]["state"] == mirror["checkpointConnector"]["state"] == "stopped"
    before = {r.name: r for r in standby.resources}
    after = {r.name: r for r in promoted.resources}
    assert set(before) == set(after), "promotion neither adds nor removes resources"
    changed = {n for n in before if before[n].inputs != after[n].inputs}
    assert changed == {"kafka-connect-scylla-source", "kafka-connect-postgres-sink", "mirrormaker2-mm2"}


def test_outputs():
    for stack in STACKS:
        outputs = streaming_plan(stack).outputs
        assert (
            outputs["schema_registry_url"] == "http://schema-registry.kafka.svc:8081"
        )  # seed 000: port 8081
        assert outputs["kafka_bootstrap_servers"]
    staging = streaming_plan("staging").outputs
    assert staging["kafka_bootstrap_servers"] == "pipeline-kafka-bootstrap.kafka.svc:9093"
    # The primary site exports what the DR site's MirrorMaker 2 needs; the password stays a secret.
    prod = streaming_plan("prod").outputs
    assert prod["kafka_bootstrap_servers"].endswith(":9094")
    assert prod["kafka_mirrormaker_password"] == "[secret]"
    assert "kafka_cluster_ca_cert" in prod


def _walk(node, key):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from _walk(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)


@pytest.mark.parametrize(("stack", "overrides"), [(s, None) for s in STACKS] + [("prod-dr", PROMOTED)])
def test_the_crds_cel_rules_hold(stack, overrides):
    """The x-kubernetes-validations rules of the Strimzi CRDs (the API server evaluates them; the
    schema check above drops them), restated for what this layer sets."""
    manifests = streaming_plan(stack, overrides).custom_resources()
    for manifest in manifests:
        for rack in _walk(manifest["spec"], "rack"):
            # (has(self.type) && self.type != "topology-label") || self.topologyKey != ""
            assert rack.get("type", "topology-label") != "topology-label" or rack.get("topologyKey")
            # has(self.type) == false || self.type != "environment-variable" || self.envVarName != ""
            assert rack.get("type") != "environment-variable" or rack.get("envVarName")
        for metrics in _walk(manifest["spec"], "metricsConfig"):
            # self.type != 'jmxPrometheusExporter' || has(self.valueFrom)
            assert metrics["type"] != "jmxPrometheusExporter" or "valueFrom" in metrics
        if manifest["kind"] == "KafkaUser":
            auth = manifest["spec"]["authentication"]
            # 'validityDays' and 'renewalDays' only with type tls, both or neither, renewal < validity
            assert auth["type"] == "tls" or not ({"validityDays", "renewalDays"} & set(auth))
            assert ("validityDays" in auth) == ("renewalDays" in auth)


def test_the_connect_image_repository_carries_its_environment_tag(plan_of):
    # the policy required-tags flagged kafka-connect-image (an untagged ECR repository) on prod and
    # prod-dr; the component tags it with the environment, and the rule fails without the tag
    import copy

    from policies import check_all

    for stack in ("staging", "prod", "prod-dr"):
        (repo,) = plan_of(stack).of_type("aws:ecr/repository:Repository")
        assert repo.inputs["tags"] == {"Environment": plan_of(stack).settings.environment}
        assert not [v for v in check_all([repo]) if v["policy"] == "required-tags"]
        untagged = copy.deepcopy(repo)
        untagged.inputs.pop("tags")
        assert [v["policy"] for v in check_all([untagged]) if v["policy"] == "required-tags"] == [
            "required-tags"
        ]
