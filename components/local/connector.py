"""A Kafka Connect connector as a Pulumi resource (a dynamic provider over components/local/connect_rest.py).

`pulumi up` creates it with the config map and returns once the connector and its tasks.max tasks are
RUNNING (a FAILED connector or task fails the step with its trace); a changed config is an update
(PUT, then the same wait); a new name replaces it; `pulumi destroy` deletes it; `pulumi refresh`
reads its config back. The provider runs in the `pulumi` process on the machine with Docker, so it
reaches the worker on its published loopback port.

The config must hold no secret (the sink's password is a config-provider reference such as
${file:...}); the inputs are recorded in the state as they are.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from components.local.connect_rest import ConnectClient

# Fields of the resource's inputs and outputs.
URL, NAME, CONFIG, TIMEOUT, STATUS = "connect_url", "name", "config", "timeout_s", "status"


class ConnectorProvider(ResourceProvider):
    """CRUD of one connector against the worker at props["connect_url"]."""

    def _client(self, props: dict[str, Any]) -> ConnectClient:
        return ConnectClient(str(props[URL]))

    def _apply(self, props: dict[str, Any]) -> dict[str, Any]:
        config = {str(k): str(v) for k, v in dict(props[CONFIG]).items()}
        status = self._client(props).apply(str(props[NAME]), config, timeout_s=float(props[TIMEOUT]))
        return {**props, STATUS: status.summary()}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=str(props[NAME]), outs=self._apply(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in (URL, NAME, CONFIG) if olds.get(k) != news.get(k)]
        replaces = [k for k in (URL, NAME) if k in changed]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client = self._client(props)
        config = client.get_config(id_)
        if config is None:  # deleted outside Pulumi: refresh drops it from the state
            return ReadResult(id_="", outs={})
        status = client.status(id_)
        return ReadResult(
            id_=id_, outs={**props, CONFIG: config, STATUS: status.summary() if status else "UNKNOWN"}
        )

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._client(props).delete(id_)


class Connector(Resource, module="local", name="Connector"):
    """pulumi-python:dynamic/local:Connector, one connector of the worker at `connect_url`."""

    status: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        connect_url: str,
        config: dict[str, str],
        timeout_s: int = 300,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if config.get("name") != name:
            raise ValueError(f"connector {name}: config name is {config.get('name')!r}")
        props = {URL: connect_url, NAME: name, CONFIG: dict(config), TIMEOUT: timeout_s, STATUS: None}
        super().__init__(ConnectorProvider(), name, props, opts)
