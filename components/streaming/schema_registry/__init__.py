"""Schema Registry: `SchemaRegistry` in component.py; pure renderers in manifests.py."""
