"""Helpers over the estate JSON for the checks (pure: no Pulumi)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

UNKNOWN = "[unknown]"
SECRET = "[secret]"


def stacks(estate: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from sorted(estate.get("stacks", {}).items())


def resources(stack: dict[str, Any], typ: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    out = []
    for r in stack.get("resources", []):
        if typ is not None and r["type"] != typ:
            continue
        if kind is not None and (r.get("inputs") or {}).get("kind") != kind:
            continue
        out.append(r)
    return out


def get(doc: Any, *path: str | int, default: Any = None) -> Any:
    for part in path:
        if isinstance(part, int):
            if not isinstance(doc, list) or part >= len(doc):
                return default
            doc = doc[part]
        else:
            if not isinstance(doc, dict) or part not in doc:
                return default
            doc = doc[part]
    return doc


def known(value: Any) -> bool:
    return value not in (None, UNKNOWN, SECRET)


def label(r: dict[str, Any]) -> str:
    """A resource as findings name it: its name and type."""
    kind = (r.get("inputs") or {}).get("kind")
    return f"{r['name']} [{r['type']}{' ' + kind if kind and 'apiextensions' in r['type'] else ''}]"
