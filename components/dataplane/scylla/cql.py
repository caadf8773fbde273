"""The ScyllaDB schema as idempotent CQL (pure: no Pulumi).

`cqlsh -f` runs it once per version of this script (a Kubernetes Job named after the script's
digest, lib/kube/jobs.py; on the local stack an awaited `docker run`): the keyspace with
NetworkTopologyStrategy (one replication factor per datacenter) and the CDC-enabled tables of the
settings. With more than one datacenter
(the DR site joining as a second DC) it also ALTERs the keyspace so that every DC holds replicas;
ALTER with the same replication map is a no-op, so the script stays idempotent.

Tablets: ScyllaDB 2025.1 creates keyspaces with tablets by default, and CDC is not supported on
tablet keyspaces in that release, so the keyspace is created with tablets disabled.
"""

from __future__ import annotations

import re

from components.dataplane.scylla.settings import ScyllaSettings

_DC = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _replication(datacenters: dict[str, int]) -> str:
    parts = ["'class': 'NetworkTopologyStrategy'"]
    parts += [f"'{dc}': {rf}" for dc, rf in datacenters.items()]
    return "{" + ", ".join(parts) + "}"


# CDC with the postimage: the source connector emits the whole row after each change
# (cdc.include.after full), so the sink's upsert of a partial UPDATE keeps the other columns.
_CDC = "{'enabled': true, 'postimage': true}"


def schema_cql(scylla: ScyllaSettings, datacenters: dict[str, int]) -> str:
    """CQL creating the keyspace and CDC tables of `scylla`; `datacenters` maps DC name -> RF."""
    if not datacenters:
        raise ValueError("datacenters: at least one datacenter is needed")
    for dc, rf in datacenters.items():
        if not _DC.match(dc):
            raise ValueError(f"datacenter name {dc!r} is not a valid ScyllaDB datacenter name")
        if not isinstance(rf, int) or rf < 1:
            raise ValueError(f"replication factor of {dc} must be a positive integer (got {rf!r})")
    ks = scylla.keyspace
    replication = _replication(datacenters)
    out = [
        "-- pipeline-infra ScyllaDB schema (idempotent)",
        f"CREATE KEYSPACE IF NOT EXISTS {ks} WITH replication = {replication} "
        "AND durable_writes = true AND tablets = {'enabled': false};",
    ]
    if len(datacenters) > 1:
        out.append(f"ALTER KEYSPACE {ks} WITH replication = {replication};")
    for table in scylla.tables:
        columns = ",\n".join(f"    {name} {typ}" for name, typ in table.columns.items())
        pk = ", ".join(table.primary_key)
        out.append(
            f"CREATE TABLE IF NOT EXISTS {ks}.{table.name} (\n{columns},\n    PRIMARY KEY (({pk}))\n)"
            f" WITH cdc = {_CDC};"
        )
        # A table that existed before CDC was wanted gets it switched on (no-op when already on).
        out.append(f"ALTER TABLE {ks}.{table.name} WITH cdc = {_CDC};")
    return "\n".join(out) + "\n"
