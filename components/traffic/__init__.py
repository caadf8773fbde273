"""Ingest DNS: the blue-green weighted records and the DR failover pair (components.traffic.component),
with pure naming and weighting helpers (components.traffic.routing)."""
