"""Reads the hashed requirements files `make lock` writes (uv pip compile --generate-hashes) and
compares them. Pure functions over text, so the tests can feed them violating fixtures."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


@dataclass(frozen=True)
class Pinned:
    version: str
    marker: str
    hashes: frozenset[str]


_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+?)(?:\s*;\s*(?P<marker>.+?))?$")


def parse(text: str) -> tuple[dict[str, Pinned], list[str]]:
    """name -> pin, and every line that is not `name==version [; marker]` with its hashes."""
    pins: dict[str, Pinned] = {}
    problems: list[str] = []
    # Drop the comment lines (uv's `# via` annotations), then join the backslash continuations.
    kept = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    logical = re.sub(r"\\\n", " ", kept)
    for line in (part.strip() for part in logical.splitlines()):
        if not line:
            continue
        head, *options = re.split(r"\s+(?=--)", line)
        m = _PIN.match(head.strip())
        hashes = frozenset(o.removeprefix("--hash=") for o in options if o.startswith("--hash=sha256:"))
        if not m:
            problems.append(f"not an exact pin: {head.strip()}")
            continue
        name = canonicalize_name(m["name"])
        if not hashes or len(hashes) != len(options):
            problems.append(f"{name}: every pin needs --hash=sha256 options only")
        pins[name] = Pinned(m["version"], (m["marker"] or "").strip(), hashes)
    return pins, problems


def out_of_sync(runtime: dict[str, Pinned], lock: dict[str, Pinned]) -> list[str]:
    """A runtime pin that is not the lock's: absent there, another version, marker or hash set."""
    out = []
    for name, pin in sorted(runtime.items()):
        locked = lock.get(name)
        if locked is None:
            out.append(f"{name}=={pin.version} is not in requirements-dev.lock")
        elif locked != pin:
            field = next(f for f in ("version", "marker", "hashes") if getattr(pin, f) != getattr(locked, f))
            out.append(f"{name}: requirements.txt and requirements-dev.lock differ in {field}")
    return out


def unmet(requirements: list[str], pins: dict[str, Pinned]) -> list[str]:
    """A pyproject requirement the pins leave out or pin outside its specifier."""
    out = []
    for text in requirements:
        req = Requirement(text)
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            out.append(f"{req.name} is not pinned")
        elif not req.specifier.contains(pin.version, prereleases=True):
            out.append(f"{req.name}=={pin.version} is outside {req.specifier}")
    return out


def installed_closure(requirements: list[str]) -> set[str]:
    """The distributions these requirements pull in on this machine, read from the installed
    packages' metadata (markers evaluated here, no extras)."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        todo += [Requirement(r) for r in metadata.requires(name) or []]
    return seen


def applies_here(pin: Pinned) -> bool:
    return not pin.marker or Marker(pin.marker).evaluate()
