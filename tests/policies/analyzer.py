"""The policy pack served as the Pulumi CLI serves it, driven over the analyzer gRPC protocol.

The CLI starts a Python pack with `python -u -m pulumi.policy <engine address> <pack folder>` (the
pulumi-analyzer-policy-python shim) and reads the port the pack prints on stdout; it then calls
GetAnalyzerInfo, Analyze per resource and AnalyzeStack once. This module does the same, sending the
resources of an offline plan either as an `up` sends them (every input known) or as a `preview` of a
new stack does (every input computed from another resource's output is unknown)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

REPO = Path(__file__).resolve().parents[2]
PACK = REPO / "policies"
SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown string sentinel
LEVELS = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.DISABLED: "disabled",
    analyzer_pb2.REMEDIATE: "remediate",
}


@dataclass(frozen=True)
class Sent:
    """A resource to send: the plan's Resource or a test case."""

    type: str
    urn: str
    name: str
    inputs: Mapping[str, Any]
    options: Mapping[str, Any]
    dependencies: tuple[str, ...] = ()
    parent: str | None = None
    # top-level inputs unknown at a preview (computed from other resources' outputs)
    computed: tuple[str, ...] = ()


def from_plan(r: Any) -> Sent:
    return Sent(
        r.type,
        r.urn,
        r.name,
        r.inputs,
        r.options,
        r.dependencies,
        r.parent,
        tuple(sorted(getattr(r, "property_dependencies", {}) or {})),
    )


def wire(value: Any) -> Any:
    """The offline plan's values in the engine's wire format: "[secret]" as a secret, "[unknown]" as
    the unknown sentinel."""
    if value == "[secret]":
        return {SIG: SECRET_SIG, "value": "[secret]"}
    if value == "[unknown]":
        return UNKNOWN
    if isinstance(value, Mapping):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [wire(v) for v in value]
    return value


def properties(sent: Sent, preview: bool) -> struct_pb2.Struct:
    props = {k: wire(v) for k, v in sent.inputs.items()}
    if preview:
        for key in sent.computed:
            if key in props:
                props[key] = UNKNOWN
    struct = struct_pb2.Struct()
    struct.update(props)
    return struct


def options(sent: Sent) -> analyzer_pb2.AnalyzerResourceOptions:
    o = sent.options or {}
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(o.get("protect")),
        ignoreChanges=list(o.get("ignoreChanges") or []),
        deleteBeforeReplace=bool(o.get("deleteBeforeReplace")),
        deleteBeforeReplaceDefined="deleteBeforeReplace" in o,
        parent=sent.parent or "",
    )


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    enforcement: str
    urn: str
    message: str


class Analyzer:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(PACK)],
            cwd=PACK,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            self.proc.kill()
            raise RuntimeError(f"the pack did not print its port: {line!r} {self.proc.stderr.read()}")
        self.port = int(line)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def close(self) -> None:
        self.channel.close()
        self.proc.kill()
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        return self.stub.GetAnalyzerInfo(empty_pb2.Empty())

    @staticmethod
    def _diags(response: analyzer_pb2.AnalyzeResponse, urn: str = "") -> list[Diagnostic]:
        return [
            # the pack's message is "<description>\n<message>" (pulumi_policy's report_violation)
            Diagnostic(
                d.policyName,
                LEVELS[d.enforcementLevel],
                d.urn or urn,
                d.message.removeprefix(f"{d.description}\n"),
            )
            for d in response.diagnostics
        ]

    def analyze(self, sent: Sent, preview: bool) -> list[Diagnostic]:
        request = analyzer_pb2.AnalyzeRequest(
            type=sent.type,
            properties=properties(sent, preview),
            urn=sent.urn,
            name=sent.name,
            options=options(sent),
        )
        return self._diags(self.stub.Analyze(request), sent.urn)

    def analyze_stack(self, resources: Iterable[Sent], preview: bool) -> list[Diagnostic]:
        items = []
        for s in resources:
            items.append(
                analyzer_pb2.AnalyzerResource(
                    type=s.type,
                    properties=properties(s, preview),
                    urn=s.urn,
                    name=s.name,
                    options=options(s),
                    parent=s.parent or "",
                    dependencies=list(s.dependencies),
                )
            )
        return self._diags(self.stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=items)))
