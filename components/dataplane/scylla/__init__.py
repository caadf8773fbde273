"""ScyllaDB: `ScyllaDb` in component.py; pure renderers in manifests.py and cql.py; the operator's
admission rules in webhook.py."""
