"""Run the real program (stacks/program.py main()) under Pulumi's mock runtime and record what it
declares: every resource with its parent and resolved inputs, and the stack outputs.

Secrets stay secret: a secret input or output is recorded as "[secret]", never its value (a secret
mapping, such as a Kubernetes Secret's stringData, keeps its keys, each value "[secret]").
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from planner.mocks import PlanMocks
from planner.references import References
from stacks.settings import PROJECT, SettingsError, StackSettings
from stacks.settings.files import check_secure_values, read_stack_file, to_runtime_config

__all__ = ["read_stack_file", "to_runtime_config", "apply_overrides", "run_plan", "Plan", "Resource"]

REPO = Path(__file__).resolve().parent.parent
SECRET = "[secret]"
UNKNOWN = "[unknown]"
# The organisation of the offline plan: the one the DIY backends report.
ORGANIZATION = "organization"

# Signatures of the Pulumi wire format (sdk/go/common/resource/sig).
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    id: str = ""
    # URNs this resource waits for (depends_on and the resources whose outputs its inputs use).
    dependencies: tuple[str, ...] = ()
    # Resource options from the RegisterResource request (protect, retainOnDelete, ignoreChanges,
    # replaceOnChanges, deleteBeforeReplace, aliases, provider).
    options: dict[str, Any] = field(default_factory=dict)
    # input property -> the URNs whose outputs it uses (what is unknown at a preview of a new stack)
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # A few outputs the provider computes that the estate checks follow (load balancer names, the EKS
    # endpoint): planner.runtime.STATE_FIELDS.
    state: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "inputs": self.inputs,
            "dependencies": list(self.dependencies),
            "options": self.options,
            **({"state": self.state} if self.state else {}),
        }


@dataclass
class Plan:
    stack: str
    source: str
    settings: StackSettings
    resources: list[Resource]
    outputs: dict[str, Any]
    stack_urn: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # The exported values themselves, secrets included: handed to the stacks that reference this one
    # (as secrets), never serialised.
    raw_outputs: dict[str, Any] = field(default_factory=dict, repr=False)
    secret_outputs: tuple[str, ...] = ()
    # What this stack's StackReferences asked for, and the invokes that failed (planner.mocks).
    reads: list[dict[str, Any]] = field(default_factory=list)
    invoke_errors: list[dict[str, Any]] = field(default_factory=list)
    # Every provider function the program called (planner.mocks): what its deployer and the CI preview
    # role must be allowed to call.
    invokes: list[dict[str, Any]] = field(default_factory=list)

    def of_type(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.type == typ]

    def named(self, name: str) -> Resource:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def children(self, urn: str) -> list[Resource]:
        return [r for r in self.resources if r.parent == urn]

    def kubernetes(self) -> list[Resource]:
        return [r for r in self.resources if r.type.startswith("kubernetes:") and r.custom]


def plain(value: Any) -> Any:
    """Turn wire-format property values into plain JSON data; secrets become "[secret]"."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            return _redacted(value.get("value"))
        if sig == _RESOURCE_SIG:
            return value.get("urn")
        if sig == _ASSET_SIG:
            return {"asset": value.get("text") or value.get("path") or value.get("uri")}
        if sig == _ARCHIVE_SIG:
            return {"archive": value.get("path") or value.get("uri") or sorted(value.get("assets") or {})}
        if sig == _OUTPUT_SIG:
            if value.get("secret"):
                return _redacted(value.get("value"))
            return plain(value.get("value", UNKNOWN))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == _UNKNOWN_VALUE:
        return UNKNOWN
    return value


def _redacted(value: Any) -> Any:
    """A secret value: "[secret]"; a secret mapping keeps its keys (not secret: a Secret's stringData
    names its keys in every manifest) with each value "[secret]"."""
    if isinstance(value, dict) and value.get(_SIG) is None and value:
        return {str(k): SECRET for k in value}
    return SECRET


def canonical(value: Any) -> Any:
    """The same data with every mapping's keys in sorted order, so that a plan is byte-stable."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def _provider_urn(ref: str) -> str | None:
    """A provider reference is "<urn>::<id>"; the default provider is the empty string."""
    return ref.rsplit("::", 1)[0] if ref else None


def _options(request: Any, read: bool) -> dict[str, Any]:
    """The resource options a RegisterResource (or ReadResource) request carries, as the engine sees
    them. Only options that are set are recorded, so that a plan stays short."""
    out: dict[str, Any] = {}
    provider = _provider_urn(getattr(request, "provider", "") or "")
    if provider:
        out["provider"] = provider
    if read:
        out["read"] = True
        return out
    if request.protect:
        out["protect"] = True
    if request.retainOnDelete:
        out["retainOnDelete"] = True
    if request.deleteBeforeReplace:
        out["deleteBeforeReplace"] = True
    if list(request.ignoreChanges):
        out["ignoreChanges"] = sorted(request.ignoreChanges)
    if list(request.replaceOnChanges):
        out["replaceOnChanges"] = sorted(request.replaceOnChanges)
    aliases = [json_format.MessageToDict(a, preserving_proto_field_name=True) for a in request.aliases]
    aliases += [{"urn": u} for u in request.aliasURNs]
    if aliases:
        out["aliases"] = aliases
    if request.deletedWith:
        out["deletedWith"] = request.deletedWith
    return out


def _property_dependencies(request: Any) -> dict[str, tuple[str, ...]]:
    return {
        key: tuple(sorted(prop.urns))
        for key, prop in sorted(getattr(request, "propertyDependencies", {}).items())
        if prop.urns
    }


def _dependencies(request: Any) -> tuple[str, ...]:
    """depends_on plus the resources whose outputs the inputs use (a read has neither)."""
    deps = set(getattr(request, "dependencies", ()) or ())
    for prop in getattr(request, "propertyDependencies", {}).values():
        deps |= set(prop.urns)
    return tuple(sorted(deps))


# type -> output properties recorded beside the inputs (what other resources reach them by).
STATE_FIELDS: dict[str, tuple[str, ...]] = {
    "aws:lb/loadBalancer:LoadBalancer": ("arn", "dnsName"),
    "aws:lb/targetGroup:TargetGroup": ("arn",),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("prefixListId",),
    "aws:eks/cluster:Cluster": ("endpoint",),
    "kubernetes:core/v1:Service": ("status",),
}


class RecordingMonitor(runtime_mocks.MockMonitor):
    """The SDK's mock monitor, also recording parent, custom flag and the raw (secret-aware) inputs."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.records: list[Resource] = []
        self.stack_urn = ""

    def _record(self, urn: str, request: Any, props: Any, custom: bool, read: bool = False) -> None:
        inputs = canonical(plain(json_format.MessageToDict(props, preserving_proto_field_name=True)))
        registered = self.resources.get(urn)
        wanted = STATE_FIELDS.get(request.type, ())
        state = {k: canonical(plain(registered.state.get(k))) for k in wanted
                 if registered and isinstance(registered.state, dict) and registered.state.get(k) is not None}
        self.records.append(
            Resource(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=custom,
                inputs=inputs,
                id=str(registered.id) if registered and registered.id else "",
                dependencies=_dependencies(request),
                options=_options(request, read),
                property_dependencies=_property_dependencies(request),
                state=state,
            )
        )

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = response.urn
        else:
            self._record(response.urn, request, request.object, bool(request.custom))
        return response

    def ReadResource(self, request):  # noqa: N802
        response = super().ReadResource(request)
        self._record(response.urn, request, request.properties, True, read=True)
        return response


# --- stack files ---------------------------------------------------------------------------------
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _full_key(key: str) -> tuple[str, list[str | int]]:
    """'dr.role' -> ('pipeline-infra:dr', ['role']); 'aws:region' -> ('aws:region', [])."""
    namespace, sep, rest = key.partition(":")
    if not sep:
        namespace, rest = PROJECT, key
    parts: list[str | int] = [
        m.group(1) if m.group(1) is not None else int(m.group(2)) for m in _PATH_PART.finditer(rest)
    ]
    if not parts:
        raise SettingsError("SET", key, "empty key")
    return f"{namespace}:{parts[0]}", parts[1:]


def apply_overrides(config: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Set `key.path=value` pairs into a copy of a stack's config (what-if evaluation)."""
    result = json.loads(json.dumps(config))
    for key, value in (overrides or {}).items():
        top, path = _full_key(key)
        if not path:
            result[top] = value
            continue
        node = result.setdefault(top, {})
        for i, part in enumerate(path[:-1]):
            nxt: Any = [] if isinstance(path[i + 1], int) else {}
            if isinstance(part, int):
                if not isinstance(node, list) or part >= len(node):
                    raise SettingsError("SET", key, f"no list element [{part}] to set")
                node = node[part]
            else:
                if not isinstance(node, dict):
                    raise SettingsError("SET", key, f"{part!r} is not inside a mapping")
                node = node.setdefault(part, nxt)
        last = path[-1]
        if isinstance(last, int):
            if not isinstance(node, list) or last >= len(node):
                raise SettingsError("SET", key, f"no list element [{last}] to set")
        elif not isinstance(node, dict):
            raise SettingsError("SET", key, "cannot set a key inside a value that is not a mapping")
        node[last] = value
    return result


# --- the run --------------------------------------------------------------------------------------
def run_plan(
    stack: str | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    config_path: str | Path | None = None,
    monitor: RecordingMonitor | None = None,
    references: References | None = None,
    declared: dict[str, set[str]] | None = None,
    organization: str = ORGANIZATION,
) -> Plan:
    """Evaluate a stack (or any stack file) offline. Raises SettingsError for invalid configuration,
    before any resource is registered.

    `references` are what this stack's StackReferences resolve to (planner.estate builds them from the
    referenced stacks' plans); without them every reference is to a stack outside the estate, and its
    reads are unknown. `declared`: hosted zones and parameters the estate declares (strict mocks).
    `organization`: what pulumi.get_organization() answers (the organisation the stack is deployed in;
    the program qualifies its StackReferences with it)."""
    if config_path is not None:
        path = Path(config_path)
        source = str(config_path)
        stack = stack or path.name.removeprefix("Pulumi.").removesuffix(".yaml").removesuffix(".yml")
    else:
        if not stack:
            raise SettingsError("-", "STACK", "name a stack, such as local, staging or prod")
        path = REPO / f"Pulumi.{stack}.yaml"
        source = path.name
    config = apply_overrides(read_stack_file(path, source), overrides)
    check_secure_values(config, source)
    flat, secret_keys = to_runtime_config(config)
    region = flat.get("aws:region") or "us-east-1"

    monitor = monitor or RecordingMonitor(PlanMocks(region=region, references=references, declared=declared))
    context = _ReadContext(monitor.mocks.references if isinstance(monitor.mocks, PlanMocks) else References())
    _install_reference_hooks()
    runtime_settings.ROOT.set(None)
    runtime_mocks.set_mocks(
        monitor.mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor, organization=organization
    )
    runtime_config.set_all_config(flat, secret_keys)

    from stacks.program import main

    holder: dict[str, StackSettings] = {}

    def program() -> None:
        holder["settings"] = main(source=source, offline=True)

    _ACTIVE["context"] = context
    try:
        _sync_await(run_pulumi_func(program))
    except BaseException:
        # The runtime stops at the first failed registration and leaves the others pending on its
        # event loop: they would run, and fail again, in the next plan of this process.
        _cancel_pending()
        raise
    finally:
        _ACTIVE.pop("context", None)
    outputs, raw, secret_names = _resolve_outputs_full()
    return Plan(
        stack=stack,
        source=source,
        settings=holder["settings"],
        # Registration order depends on when outputs resolve; sorted by URN, a plan is deterministic.
        resources=sorted(monitor.records, key=lambda r: r.urn),
        outputs=outputs,
        stack_urn=monitor.stack_urn,
        raw_outputs=raw,
        secret_outputs=secret_names,
        reads=context.reads,
        invoke_errors=list(getattr(monitor.mocks, "invoke_errors", [])),
        invokes=list(getattr(monitor.mocks, "invokes", [])),
    )


def _cancel_pending() -> None:
    """Cancel what a failed program left behind: the tasks on the runtime's event loop and the outputs
    it tracks (the mock settings keep that set from one run to the next), then let them go quietly
    (their failures were the failed plan's, already raised)."""
    loop = _ensure_event_loop()
    with runtime_settings.SETTINGS.lock:
        outputs = list(runtime_settings.SETTINGS.outputs)
        runtime_settings.SETTINGS.outputs.clear()
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, _context: None)
    try:
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        for task in outputs:
            if task.done() and not task.cancelled():
                task.exception()
        del outputs, pending
        runtime_settings.ROOT.set(None)  # the failed stack resource holds what its children await
        gc.collect()
        # Futures of the failed registrations that are still referenced would report their (already
        # raised) failure when collected at exit: mark them seen.
        for obj in gc.get_objects():
            if isinstance(obj, asyncio.Future) and obj.done() and not obj.cancelled():
                obj.exception()
    finally:
        loop.set_exception_handler(previous)


def _resolve_outputs() -> dict[str, Any]:
    """The stack's outputs as printed: secrets "[secret]"."""
    return _resolve_outputs_full()[0]


def _resolve_outputs_full() -> tuple[dict[str, Any], dict[str, Any], tuple[str, ...]]:
    """The stack's outputs as printed (secrets "[secret]"), their values, and the secret names."""
    root = runtime_settings.get_root_resource()
    result: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    secret: list[str] = []
    for name, value in sorted(getattr(root, "outputs", {}).items()):
        out = pulumi.Output.from_input(value)
        resolved = canonical(_jsonable(_sync_await(out.future())))
        raw[name] = resolved
        if _sync_await(out.is_secret()):
            result[name] = SECRET
            secret.append(name)
            continue
        result[name] = resolved
    return result, raw, tuple(secret)


# --- StackReference reads -------------------------------------------------------------------------
@dataclass
class _ReadContext:
    references: References
    reads: list[dict[str, Any]] = field(default_factory=list)


_ACTIVE: dict[str, _ReadContext] = {}


def _unknown_output() -> pulumi.Output:
    """An output whose value is not known (a reference not resolved yet): applies on it do not run."""
    loop = asyncio.get_event_loop()
    value, known, secret = loop.create_future(), loop.create_future(), loop.create_future()
    value.set_result(None)
    known.set_result(False)
    secret.set_result(False)
    return pulumi.Output(set(), value, known, secret)


def _install_reference_hooks() -> None:
    """Record every output a StackReference reads (get_output / require_output): the estate checks
    each against what the referenced stack exports. A read of a reference that is not resolved, or
    of an output that is not exported, is unknown instead of failing the run, so that the whole
    estate is still evaluated and every such read is reported."""
    cls = pulumi.StackReference
    if getattr(cls, "_planner_hooked", False):
        return
    original_init = cls.__init__

    def __init__(self, name, stack_name=None, opts=None):  # noqa: N807 (hooked method)
        self._planner_name = name
        self._planner_target = stack_name if stack_name is not None else name
        original_init(self, name, stack_name, opts)

    def hook(method: str, required: bool):
        original = getattr(cls, method)

        def hooked(self, output_name):
            context = _ACTIVE.get("context")
            if context is None or not isinstance(output_name, str):
                return original(self, output_name)
            target = self._planner_target
            status = context.references.status(target)
            context.reads.append(
                {
                    "reference": self._planner_name,
                    "stack": target,
                    "output": output_name,
                    "required": required,
                }
            )
            exported = context.references.exported(target) or set()
            if status != "resolved" or output_name not in exported:
                return _unknown_output()
            return original(self, output_name)

        return hooked

    cls.__init__ = __init__
    cls.get_output = hook("get_output", False)
    cls.require_output = hook("require_output", True)
    cls._planner_hooked = True


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
