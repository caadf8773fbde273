"""Run build_streaming alone under the mock runtime (the planner's recorder and mocks) with a stack
file's settings, a stand-in cluster provider and a stand-in Strimzi release: every resource it
declares, with resolved inputs, and its outputs."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from planner.mocks import PlanMocks
from planner.runtime import (
    REPO,
    RecordingMonitor,
    Resource,
    _resolve_outputs,
    apply_overrides,
    read_stack_file,
)
from stacks.settings import PROJECT, StackSettings, load_settings

CONTACT_POINTS = "scylla-client.scylla.svc:9042"
JDBC_URL = "jdbc:postgresql://warehouse-rw.postgres.svc:5432/warehouse"


@dataclass
class StreamingPlan:
    settings: StackSettings
    resources: list[Resource]
    outputs: dict[str, Any]

    def custom_resources(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Kubernetes custom resources as manifests (apiVersion, kind, metadata, spec)."""
        out = []
        for r in self.resources:
            if r.type.startswith("kubernetes:") and "strimzi.io" in r.type:
                manifest = {
                    k: r.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec") if k in r.inputs
                }
                if kind is None or manifest.get("kind") == kind:
                    out.append(manifest)
        return out

    def of_type(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.type == typ]


def settings_of(stack: str, overrides: dict[str, Any] | None = None) -> StackSettings:
    source = f"Pulumi.{stack}.yaml"
    config = apply_overrides(read_stack_file(REPO / source, source), overrides)
    return load_settings(config, source=source, offline=True)


@functools.cache
def _run(stack: str, overrides: tuple[tuple[str, Any], ...]) -> StreamingPlan:
    settings = settings_of(stack, dict(overrides))
    region = settings.region or "us-east-1"
    from planner.estate import references_for
    from tests.conftest import estate_of

    # StackReferences answer with the referenced stacks' own plan outputs (the estate).
    monitor = RecordingMonitor(PlanMocks(region=region, references=references_for(estate_of(), stack)))
    runtime_settings.ROOT.set(None)
    runtime_mocks.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)

    def program() -> None:
        import pulumi_aws.iam as iam
        import pulumi_kubernetes as k8s

        from lib.kube.target import KubeTarget
        from stacks.compose.streaming import build_streaming

        def irsa_role(name: str, namespace: str, sa: str, policy: pulumi.Input[str]) -> pulumi.Output[str]:
            role = iam.Role(f"irsa-{name}", assume_role_policy="{}", description=f"IRSA: {namespace}/{sa}")
            iam.RolePolicy(f"irsa-{name}", role=role.id, policy=policy)
            return role.arn

        kube = KubeTarget(
            provider=k8s.Provider("kube"),
            storage_class="gp3-encrypted",
            zones=tuple(f"{region}{z}" for z in "abc"),
            region=region,
            irsa_role=irsa_role,
        )
        strimzi = pulumi.ComponentResource("test:operators:Strimzi", "strimzi")
        password = pulumi.Output.secret("sink-password-value")
        outputs = build_streaming(
            settings,
            kube,
            strimzi=strimzi,
            scylla_contact_points=CONTACT_POINTS,
            scylla_datacenter=region,
            postgres_jdbc_url=JDBC_URL,
            postgres_sink_user="cdc_sink",
            postgres_sink_password=password,
        )
        for key, value in outputs.items():
            pulumi.export(key, value)

    _sync_await(run_pulumi_func(program))
    return StreamingPlan(settings=settings, resources=list(monitor.records), outputs=_resolve_outputs())


def streaming_plan(
    stack: str, overrides: dict[str, Any] | None = None
) -> StreamingPlan:
    return _run(stack, tuple(sorted((overrides or {}).items())))
