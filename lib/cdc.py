"""The CDC tables of seed 000: the Scylla schema (keyspace and CDC tables) and the streaming layer
(topics, connector table lists) are both derived from these."""

from __future__ import annotations

from pydantic import Field, model_validator

from lib.settings import Strict, repeated

IDENT = r"^[a-z][a-z0-9_]{0,47}$"


class CdcTable(Strict):
    """One CDC-enabled Scylla table, replicated to PostgreSQL `cdc_data.<name>` (seed 000)."""

    name: str = Field(
        pattern=IDENT,
        description="table name in the keyspace, the topic's last part and the sink table's name",
    )
    primary_key: list[str] = Field(
        min_length=1, description="primary key columns (each one of columns), the sink's upsert key"
    )
    columns: dict[str, str] = Field(min_length=1, description="column name -> CQL type, such as uuid or text")

    @model_validator(mode="after")
    def _pk(self) -> CdcTable:
        """every primary_key column is one of columns.
        primary_key names each column once.
        """
        missing = [c for c in self.primary_key if c not in self.columns]
        if missing:
            raise ValueError(f"primary_key columns {missing} are not in columns")
        twice = repeated(self.primary_key)
        if twice:
            raise ValueError(f"primary_key names {', '.join(twice)} more than once")
        return self


def default_tables() -> list[CdcTable]:
    # seed 000: the runbook's examples replicate app_data.users (cdc.scylla.users-value subject).
    return [
        CdcTable(
            name="users",
            primary_key=["user_id"],
            columns={"user_id": "uuid", "email": "text", "name": "text", "created_at": "timestamp"},
        ),
        CdcTable(
            name="orders",
            primary_key=["order_id"],
            columns={
                "order_id": "uuid",
                "user_id": "uuid",
                "amount": "decimal",
                "status": "text",
                "created_at": "timestamp",
            },
        ),
    ]
