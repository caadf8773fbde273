"""Kafka Connect: `KafkaConnect` in component.py; connector configs in config.py; manifests in
manifests.py."""
