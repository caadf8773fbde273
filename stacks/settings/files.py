"""Reading a stack file (`Pulumi.<stack>.yaml`) into its config mapping, and the checks that need the
file itself rather than the values: where `secure:` values stand and the secrets provider's key.

Every failure is a SettingsError naming the file as the user gave it. Pure: no Pulumi.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from lib.catalog import nearest_first

from . import OFFLINE_SECRET, PROJECT, SettingsError, StackSettings, load_settings, secret_allowed

TOP_LEVEL = ("config", "encryptionsalt", "secretsprovider", "encryptedkey", "environment")
# Secrets providers of a stack file (Pulumi's stack settings file reference): the cloud KMS ones keep
# the stack's data key encrypted in `encryptedkey`; the passphrase provider keeps its salt in
# `encryptionsalt`; `default` (the Pulumi Cloud service) needs neither.
CLOUD_SECRETS_PROVIDERS = ("awskms://", "azurekeyvault://", "gcpkms://", "hashivault://")


# Bounds of a stack file: the committed ones are a few KiB, a few levels deep, with no aliases.
MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_NODES = 100_000
MAX_ALIASES = 100


class _FileError(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key, self.message = key, message


def _line(mark: Any) -> str:
    return f"line {mark.line + 1}" if mark is not None else "an unknown line"


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, bounded: nesting at most MAX_DEPTH while composing (its composer
    recurses), aliases at most MAX_ALIASES; timestamps stay text (as the engine reads them)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise _FileError("-", f"more than {MAX_ALIASES} aliases (*name), at {_line(mark)}")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _FileError("-", f"nested more than {MAX_DEPTH} levels deep, at {_line(mark)}")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def _refuse(tag: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        raise _FileError("-", f"{tag} values are not configuration, at {_line(node.start_mark)}")

    return construct


for _tag in ("binary", "set", "omap", "pairs"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse(f"!!{_tag}"))


def _key_path(path: tuple[str, ...]) -> str:
    """('config', 'pipeline-infra:kafka', 'brokers') -> 'pipeline-infra:kafka.brokers'."""
    parts = path[1:] if path[:1] == ("config",) and len(path) > 1 else path
    out = ""
    for part in parts:
        out += part if part.startswith("[") or not out else f".{part}"
    return out or "-"


def _check_nodes(root: yaml.Node) -> None:
    """Repeated keys (YAML keeps the last one silently); the size once every alias is expanded (a
    small file can stand for millions of nodes: the billion laughs); recursive aliases. Iterative,
    and each node is looked at once, so the check is bounded by the file's own size."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    done: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[str, ...], bool]] = [(root, (), False)]
    on_path: set[int] = set()
    while stack:
        node, path, children_done = stack.pop()
        nid = id(node)
        if children_done:
            on_path.discard(nid)
            kids = _children(node)
            size[nid] = 1 + sum(size[id(k)] for k in kids)
            depth[nid] = 1 + max((depth[id(k)] for k in kids), default=0)
            if size[nid] > MAX_NODES:
                raise _FileError("-", f"expands to more than {MAX_NODES} nodes once its aliases are "
                                      f"expanded (at {_line(node.start_mark)})")
            if depth[nid] > MAX_DEPTH:
                raise _FileError("-", f"nested more than {MAX_DEPTH} levels deep once its aliases are "
                                      f"expanded (at {_line(node.start_mark)})")
            done.add(nid)
            continue
        if nid in done:
            continue
        if nid in on_path:
            raise _FileError("-", f"an alias refers to itself (at {_line(node.start_mark)})")
        on_path.add(nid)
        stack.append((node, path, True))
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                if name is not None and name in seen:
                    raise _FileError(
                        _key_path((*path, str(name))),
                        f"duplicate key at {_line(key.start_mark)} (first at {_line(seen[name])}): "
                        "YAML would keep only the last value",
                    )
                if name is not None:
                    seen[name] = key.start_mark
                stack.append((key, path, False))
                stack.append((value, (*path, str(name)), False))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, (*path, f"[{i}]"), False) for i, child in enumerate(node.value))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise _FileError("-", f"{size} bytes: a stack file is at most {MAX_BYTES} bytes")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _FileError("-", f"not UTF-8 text: byte {exc.start} (line {line}) is not UTF-8") from None
    for i, char in enumerate(text):
        if (ord(char) < 32 and char not in "\t\n\r") or char == "\x7f":
            line = text.count("\n", 0, i) + 1
            raise _FileError("-", f"binary content: control character U+{ord(char):04X} at line {line}")
    return text


def _load_yaml(path: Path) -> Any:
    text = _text(path)
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise _FileError("-", f"the stack file is empty: it needs `config:` with {PROJECT}:role and the "
                              "sections of its role (docs/settings.md)")
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_stack_file(path: Path, source: str) -> dict[str, Any]:
    """The `config:` mapping of a stack file, as the engine would read it, or a SettingsError naming
    the file as given (`source`): missing, too large, not UTF-8 text, not YAML, repeated keys, too
    deep or expanding too far, empty, not a stack file's shape."""
    if not path.exists():
        raise SettingsError(source, "-", "stack file not found")
    if not path.is_file():
        raise SettingsError(source, "-", "not a file")
    try:
        doc = _load_yaml(path)
    except _FileError as exc:
        raise SettingsError(source, exc.key, exc.message) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at {_line(mark)}" if mark else ""
        problem = getattr(exc, "problem", None)
        detail = f": {problem}" if problem else ""
        raise SettingsError(source, "-", f"not valid YAML{where}{detail}") from None
    except (RecursionError, MemoryError):
        raise SettingsError(source, "-", "too deeply nested to read") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict) or not isinstance(doc.get("config", {}), dict):
        raise SettingsError(source, "config", "a stack file is a mapping with a `config:` mapping")
    unknown = sorted((k for k in doc if k not in TOP_LEVEL), key=str)
    if unknown:
        allowed = ", ".join(nearest_first(str(unknown[0]), TOP_LEVEL))
        raise SettingsError(source, str(unknown[0]), f"unknown top-level key; allowed: {allowed}")
    check_secrets_provider(doc, source)
    config = dict(doc.get("config") or {})
    for key in config:
        if not isinstance(key, str):
            raise SettingsError(source, f"config.{key}", f"config keys are text, such as {PROJECT}:role")
    return config


def check_secrets_provider(doc: dict[str, Any], source: str) -> None:
    """A cloud secrets provider has its `encryptedkey`, the passphrase provider its `encryptionsalt`,
    and neither key stands without its provider."""
    provider = doc.get("secretsprovider")
    key, salt = doc.get("encryptedkey"), doc.get("encryptionsalt")
    cloud = isinstance(provider, str) and provider.startswith(CLOUD_SECRETS_PROVIDERS)
    if provider is not None and not (cloud or provider in ("default", "passphrase")):
        raise SettingsError(
            source,
            "secretsprovider",
            "must be default, passphrase or a KMS URL (awskms://, azurekeyvault://, gcpkms://, "
            f"hashivault://) (got {provider!r})",
        )
    if cloud and not key:
        raise SettingsError(
            source,
            "encryptedkey",
            f"required with secretsprovider {provider}: the stack's data key encrypted by it "
            "(pulumi stack change-secrets-provider writes it)",
        )
    if key and not cloud:
        raise SettingsError(source, "encryptedkey", "only used with a KMS secretsprovider (awskms://, ...)")
    if provider == "passphrase" and not salt:
        raise SettingsError(
            source, "encryptionsalt", "required with secretsprovider passphrase (pulumi stack init writes it)"
        )
    if salt and cloud:
        raise SettingsError(
            source, "encryptionsalt", f"only used with the passphrase provider, not {provider}"
        )


def _secure_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return [path]
        return [p for k, v in value.items() for p in _secure_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _secure_paths(v, (*path, i))]
    return []


def check_secure_values(config: dict[str, Any], source: str) -> None:
    """Every `secure:` value stands where a secret is allowed (otherwise the plan would read the
    offline stand-in, and the real program a secret, as plain configuration)."""
    for full_key in sorted(config, key=str):
        for path in _secure_paths(config[full_key]):
            if not secret_allowed(str(full_key), path):
                shown = str(full_key) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
                raise SettingsError(
                    source,
                    shown,
                    "a secure: value where a secret is not allowed: this key is plain configuration "
                    f"(the secrets are {PROJECT}:pagerduty_critical_key and the others marked secret in "
                    "docs/settings.md)",
                )


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


def settings_of_file(path: Path, source: str) -> StackSettings:
    """A stack file's validated settings, as the offline plan reads it (secrets stood in for)."""
    config = read_stack_file(path, source)
    check_secure_values(config, source)
    flat, secret_keys = to_runtime_config(config)
    return load_settings(flat, source=source, secret_keys=secret_keys, offline=True)
