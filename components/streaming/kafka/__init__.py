"""Kafka (Strimzi, KRaft): `KafkaCluster` and `MirrorMaker2` in component.py; pure renderers in
manifests.py."""
