"""The data plane of seed 000 (token module `dataplane`): the operators, ScyllaDB and PostgreSQL."""
