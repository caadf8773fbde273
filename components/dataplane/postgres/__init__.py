"""PostgreSQL (CloudNativePG): `Postgres` and `PostgresReplica` in component.py; pure renderers in
manifests.py and sql.py."""
