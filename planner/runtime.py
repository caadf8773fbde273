"""Run the real program (stacks/program.py main()) under Pulumi's mock runtime and record what it
declares: every resource with its parent and resolved inputs, and the stack outputs.

Secrets stay secret: a secret input or output is recorded as "[secret]", never its value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from planner.mocks import PlanMocks
from stacks.settings import OFFLINE_SECRET, PROJECT, SettingsError, StackSettings

REPO = Path(__file__).resolve().parent.parent
SECRET = "[secret]"
UNKNOWN = "[unknown]"

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
    # Resource options as the engine receives them, only those set (see _options).
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "inputs": self.inputs,
            "dependencies": list(self.dependencies),
            **({"options": self.options} if self.options else {}),
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
            return SECRET
        if sig == _RESOURCE_SIG:
            return value.get("urn")
        if sig == _ASSET_SIG:
            return {"asset": value.get("text") or value.get("path") or value.get("uri")}
        if sig == _ARCHIVE_SIG:
            return {"archive": value.get("path") or value.get("uri") or sorted(value.get("assets") or {})}
        if sig == _OUTPUT_SIG:
            return SECRET if value.get("secret") else plain(value.get("value", UNKNOWN))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == _UNKNOWN_VALUE:
        return UNKNOWN
    return value


def canonical(value: Any) -> Any:
    """The same data with every mapping's keys in sorted order, so that a plan is byte-stable."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def _dependencies(request: Any) -> tuple[str, ...]:
    """depends_on plus the resources whose outputs the inputs use (a read has neither)."""
    deps = set(getattr(request, "dependencies", ()) or ())
    for prop in getattr(request, "propertyDependencies", {}).values():
        deps |= set(prop.urns)
    return tuple(sorted(deps))


def _options(request: Any) -> dict[str, Any]:
    """protect, retainOnDelete, ignoreChanges, replaceOnChanges, deleteBeforeReplace, aliases and
    provider of a RegisterResourceRequest, each only when set (a read request has none of them)."""
    out: dict[str, Any] = {}
    for key in ("protect", "retainOnDelete"):
        if getattr(request, key, False):
            out[key] = True
    for key in ("ignoreChanges", "replaceOnChanges"):
        values = list(getattr(request, key, ()) or ())
        if values:
            out[key] = sorted(values)
    if getattr(request, "deleteBeforeReplaceDefined", False):
        out["deleteBeforeReplace"] = bool(request.deleteBeforeReplace)
    # The provider SDK's own aliases of a renamed resource type (a spec of only `type`, on every
    # resource of that type) are left out: they are not the program's.
    aliases = []
    for a in getattr(request, "aliases", ()) or ():
        spec = json_format.MessageToDict(a.spec) if not a.urn else {}
        if a.urn or set(spec) - {"type", "parentUrn", "noParent"} or spec.get("parentUrn"):
            aliases.append(a.urn or spec)
    aliases += list(getattr(request, "aliasURNs", ()) or ())
    if aliases:
        out["aliases"] = aliases
    provider = getattr(request, "provider", "")
    if provider:
        out["provider"] = provider.rsplit("::", 1)[0]  # a provider reference is <urn>::<id>
    return out


class RecordingMonitor(runtime_mocks.MockMonitor):
    """The SDK's mock monitor, also recording parent, custom flag and the raw (secret-aware) inputs."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.records: list[Resource] = []
        self.stack_urn = ""

    def _record(self, urn: str, request: Any, props: Any, custom: bool) -> None:
        inputs = canonical(plain(json_format.MessageToDict(props, preserving_proto_field_name=True)))
        registered = self.resources.get(urn)
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
                options=_options(request),
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
        self._record(response.urn, request, request.properties, True)
        return response


# --- stack files ----------------------------------------------------------------------------------
def read_stack_file(path: Path, source: str) -> dict[str, Any]:
    if not path.is_file():
        raise SettingsError(source, "-", "stack file not found")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise SettingsError(source, "-", f"not valid YAML{where}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict) or not isinstance(doc.get("config", {}), dict):
        raise SettingsError(source, "config", "a stack file is a mapping with a `config:` mapping")
    unknown = sorted(
        set(doc) - {"config", "encryptionsalt", "secretsprovider", "encryptedkey", "environment"}
    )
    if unknown:
        raise SettingsError(
            source,
            unknown[0],
            "unknown top-level key; allowed: config, encryptionsalt, "
            "secretsprovider, encryptedkey, environment",
        )
    return dict(doc.get("config") or {})


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


def _strip_secure(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return OFFLINE_SECRET, True
        found = False
        out = {}
        for k, v in value.items():
            out[k], s = _strip_secure(v)
            found |= s
        return out, found
    if isinstance(value, list):
        items = [_strip_secure(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def to_runtime_config(config: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The flat string map the engine hands a program: structured values as JSON text; `secure:`
    values (which only the stack's secrets provider can decrypt) as offline placeholders."""
    flat: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        value, secret = _strip_secure(value)
        if secret:
            secret_keys.append(key)
        flat[key] = value if isinstance(value, str) else json.dumps(value)
    return flat, secret_keys


# --- the run --------------------------------------------------------------------------------------
def run_plan(
    stack: str | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    config_path: str | Path | None = None,
    monitor: RecordingMonitor | None = None,
) -> Plan:
    """Evaluate a stack (or any stack file) offline. Raises SettingsError for invalid configuration,
    before any resource is registered."""
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
    flat, secret_keys = to_runtime_config(config)
    region = flat.get("aws:region") or "us-east-1"

    monitor = monitor or RecordingMonitor(PlanMocks(region=region))
    runtime_settings.ROOT.set(None)
    runtime_mocks.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    runtime_config.set_all_config(flat, secret_keys)

    from stacks.program import main

    holder: dict[str, StackSettings] = {}

    def program() -> None:
        holder["settings"] = main(source=source, offline=True)

    _sync_await(run_pulumi_func(program))
    outputs = _resolve_outputs()
    return Plan(
        stack=stack,
        source=source,
        settings=holder["settings"],
        # Registration order depends on when outputs resolve; sorted by URN, a plan is deterministic.
        resources=sorted(monitor.records, key=lambda r: r.urn),
        outputs=outputs,
        stack_urn=monitor.stack_urn,
    )


def _resolve_outputs() -> dict[str, Any]:
    root = runtime_settings.get_root_resource()
    result: dict[str, Any] = {}
    for name, value in sorted(getattr(root, "outputs", {}).items()):
        out = pulumi.Output.from_input(value)
        if _sync_await(out.is_secret()):
            result[name] = SECRET
            continue
        resolved = _sync_await(out.future())
        result[name] = canonical(_jsonable(resolved))
    return result


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
