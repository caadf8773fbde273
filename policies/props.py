"""Reading resource properties the way the analyzer hands them over. Pure: no Pulumi imports needed.

At `pulumi preview` the policy analyzer (pulumi_policy) wraps a resource's inputs in read-only
Mapping/Sequence proxies that raise `UnknownValueError` when a value is not known yet (the id of a
resource still to be created, a computed string). The offline plan hands plain dicts in which such a
value is the string "[unknown]" and a secret is "[secret]". The helpers here read both, and turn an
unknown value into `UNKNOWN` for that field only, so that a rule still checks every field it can see.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

try:  # the analyzer's exception; absent where pulumi_policy is not installed (offline use)
    from pulumi_policy.proxy import UnknownValueError as _AnalyzerUnknown
except ImportError:  # pragma: no cover - pulumi_policy is a dev dependency

    class _AnalyzerUnknown(Exception):  # type: ignore[no-redef]
        pass


# The engine's unknown sentinels (pulumi_policy/proxy.py, sdk/go/common/resource/properties.go).
_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
        "[unknown]",  # the offline plan's marker (planner.runtime.UNKNOWN)
    }
)
SECRET_MARKER = "[secret]"  # the offline plan's stand-in for a Pulumi secret's value


class _Unknown:
    """A value that is not known yet (preview). Falsy, equal only to itself."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Any = _Unknown()
_MISSING = object()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN or (isinstance(value, str) and value in _SENTINELS)


def opaque(value: Any) -> bool:
    """Unknown, or a secret whose value the offline plan hides: nothing to check in it."""
    return is_unknown(value) or value == SECRET_MARKER


def _child(node: Any, key: Any) -> Any:
    try:
        if isinstance(node, Mapping):
            if key not in node:
                return _MISSING
            value = node[key]
        elif isinstance(node, Sequence) and not isinstance(node, str) and isinstance(key, int):
            if not -len(node) <= key < len(node):
                return _MISSING
            value = node[key]
        else:
            return _MISSING
    except _AnalyzerUnknown:
        return UNKNOWN
    return UNKNOWN if is_unknown(value) else value


def get(node: Any, *path: Any, default: Any = None) -> Any:
    """The value at path (keys and list indexes); UNKNOWN if it or a parent is unknown; default when
    absent."""
    for key in path:
        if is_unknown(node):
            return UNKNOWN
        node = _child(node, key)
        if node is _MISSING:
            return default
    return UNKNOWN if is_unknown(node) else node


def keys(node: Any) -> list[Any]:
    if isinstance(node, Mapping):
        return list(iter(node))
    return []


def items(node: Any) -> Iterator[tuple[Any, Any]]:
    """(key, value) of a mapping, each value UNKNOWN where unknown; nothing for anything else."""
    if isinstance(node, Mapping):
        for key in list(iter(node)):
            yield key, get(node, key)


def each(node: Any, *path: Any) -> list[Any]:
    """The elements of the list at path (UNKNOWN for an unknown element); [] if absent or unknown."""
    seq = get(node, *path) if path else node
    if is_unknown(seq) or not isinstance(seq, Sequence) or isinstance(seq, str):
        return []
    return [get(seq, i) for i in range(len(seq))]


def number(value: Any) -> float | None:
    """A number the engine sent (always a float on the wire) or a numeric string; None otherwise."""
    if isinstance(value, bool) or opaque(value) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def truthy(value: Any) -> bool | None:
    """True/False for booleans and "true"/"false" strings (launch templates send strings); None when
    unknown or absent."""
    if opaque(value) or value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every leaf (path, value) of a property tree; unknown subtrees yield (path, UNKNOWN)."""
    if is_unknown(node):
        yield path, UNKNOWN
    elif isinstance(node, Mapping):
        for key, value in items(node):
            yield from walk(value, (*path, key))
    elif isinstance(node, Sequence) and not isinstance(node, str):
        for i, value in enumerate(each(node)):
            yield from walk(value, (*path, i))
    else:
        yield path, node


def plain(node: Any) -> Any:
    """The analyzer's proxies as plain dicts and lists (unknown values as None)."""
    if is_unknown(node):
        return None
    if isinstance(node, Mapping):
        return {k: plain(v) for k, v in items(node)}
    if isinstance(node, Sequence) and not isinstance(node, str):
        return [plain(v) for v in each(node)]
    return node


def dotted(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path))


@dataclass(frozen=True)
class Res:
    """One resource as a rule sees it: the analyzer's (a ResourceValidationArgs or a PolicyResource),
    the offline plan's (planner.runtime.Resource) or the estate's JSON, in one shape."""

    type: str
    urn: str
    name: str
    props: Mapping[str, Any]
    # protect, ignoreChanges, deleteBeforeReplace, retainOnDelete (what the source knows of them)
    options: Mapping[str, Any] = field(default_factory=dict)
    dependencies: tuple[str, ...] = ()
    parent: str | None = None

    @property
    def stack(self) -> str:
        """The stack name in the URN (urn:pulumi:<stack>::<project>::<type>::<name>)."""
        head = self.urn.split("::", 1)[0]
        return head.split(":", 2)[2] if head.count(":") >= 2 else ""

    @property
    def kind(self) -> str:
        value = get(self.props, "kind")
        return value if isinstance(value, str) else ""

    @property
    def namespace(self) -> str:
        value = get(self.props, "metadata", "namespace")
        return value if isinstance(value, str) else ""

    @property
    def label(self) -> str:
        return self.name


def from_plan(resource: Any) -> Res:
    """planner.runtime.Resource (or anything with type, urn, name, inputs, options, dependencies)."""
    return Res(
        type=resource.type,
        urn=resource.urn,
        name=resource.name,
        props=resource.inputs,
        options=dict(getattr(resource, "options", None) or {}),
        dependencies=tuple(getattr(resource, "dependencies", ()) or ()),
        parent=getattr(resource, "parent", None),
    )


def from_json(resource: Mapping[str, Any]) -> Res:
    """A resource of the plan JSON (the estate's)."""
    return Res(
        type=resource["type"],
        urn=resource["urn"],
        name=resource["name"],
        props=resource.get("inputs") or {},
        options=dict(resource.get("options") or {}),
        dependencies=tuple(resource.get("dependencies") or ()),
        parent=resource.get("parent"),
    )
