"""Reads lib/versions.py the way Renovate does (renovate.json's own regex) and finds a pinned version
written a second time. Pure functions over text, so the tests can feed them violating fixtures."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VERSIONS = REPO / "lib" / "versions.py"
RENOVATE = REPO / "renovate.json"
# Where the code and the stack files live: a version written here must come from lib/versions.py.
SCANNED = ("components", "stacks", "planner")
SCANNED_GLOBS = ("Pulumi.*.yaml",)


@dataclass(frozen=True)
class Pin:
    name: str
    value: str
    line: int
    marker: dict[str, str]


def renovate_patterns(config: dict) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]]]:
    """The regex custom managers' file patterns and match strings, as Python regexes."""
    files, matches = [], []
    for manager in config.get("customManagers", []):
        if manager.get("customType") != "regex":
            continue
        for pattern in manager.get("managerFilePatterns", []):
            assert pattern.startswith("/") and pattern.endswith("/"), pattern  # a regex, not a glob
            files.append(re.compile(pattern[1:-1]))
        # JavaScript names a group (?<name>...), Python (?P<name>...).
        matches += [re.compile(m.replace("(?<", "(?P<")) for m in manager.get("matchStrings", [])]
    return files, matches


def load_renovate(path: Path = RENOVATE) -> dict:
    return json.loads(path.read_text())


def _literal_constants(tree: ast.Module) -> dict[str, tuple[object, int]]:
    """Module-level NAME = <str or int literal>, with its line."""
    out: dict[str, tuple[object, int]] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            target, value = node.target.id, node.value
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        else:
            continue
        if isinstance(value, ast.Constant) and isinstance(value.value, str | int):
            out[target] = (value.value, node.lineno)
    return out


_LOCATION = re.compile(r"^(?:https?|oci)://\S+$|^[a-z0-9.-]+\.[a-z]+(?:/[a-z0-9._-]+)+$")


def read_pins(source: str, match_strings: list[re.Pattern[str]]) -> tuple[list[Pin], list[str]]:
    """The pins Renovate's match strings find, and every problem: a literal constant that is neither
    a pin under a marker nor a location (URL, registry repository), a marker matching no constant."""
    tree = ast.parse(source)
    constants = _literal_constants(tree)
    lines = source.splitlines()
    pins: list[Pin] = []
    problems: list[str] = []
    found: dict[int, dict[str, str]] = {}
    for pattern in match_strings:
        for m in pattern.finditer(source):
            line = source.count("\n", 0, m.start()) + 2  # the constant's line, under the marker
            found[line] = {k: v for k, v in m.groupdict().items() if v is not None}
    for name, (value, line) in constants.items():
        if line in found and found[line]["currentValue"] == value:
            pins.append(Pin(name, value, line, found.pop(line)))
        elif name.endswith("_SHA256"):
            # the digest of the artifact a version above pins (its make target verifies and prints it):
            # it follows that version, Renovate does not manage it
            continue
        elif not (isinstance(value, str) and _LOCATION.match(value)):
            problems.append(f"lib/versions.py:{line}: {name} = {value!r} has no renovate marker")
    for line, marker in found.items():
        problems.append(f"lib/versions.py:{line - 1}: marker for {marker.get('depName')} pins no constant")
    pinned_lines = {p.line for p in pins}
    for number, text in enumerate(lines, 1):
        comment = text.lstrip()
        if comment.startswith("#") and "renovate:" in comment and number + 1 not in pinned_lines:
            problems.append(f"lib/versions.py:{number}: a marker Renovate does not read: {comment}")
    return pins, sorted(set(problems))


def version_pattern(value: str) -> re.Pattern[str]:
    """The version as a token of a string: `4.1.0` in `kafka:4.1.0` or `1.2.0-kafka-4.1.0`, and
    `v1.21.1` or `1.21.1` alike, but not `4.1.0` inside `14.1.0` or `4.1.01`."""
    bare = re.escape(value.removeprefix("v"))
    return re.compile(rf"(?<![\w.])v?{bare}(?!\w|\.\d)")


def _strings(tree: ast.AST) -> list[tuple[str, int]]:
    return [
        (n.value, n.lineno)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def repeats_in_versions(source: str, pins: list[Pin]) -> list[str]:
    """A pin's version inside any other string literal of lib/versions.py (an image tag, a chart)."""
    tree = ast.parse(source)
    out = []
    for text, line in _strings(tree):
        for pin in pins:
            if line == pin.line and text == pin.value:
                continue
            if version_pattern(pin.value).search(text):
                out.append(f"lib/versions.py:{line}: {text!r} repeats {pin.name} ({pin.value})")
    return out


def repeats_in_file(rel: str, text: str, pins: list[Pin]) -> list[str]:
    """A pin's version in a Python file's string literals, or anywhere in a YAML file."""
    if rel.endswith(".py"):
        chunks = _strings(ast.parse(text))
    else:
        chunks = [(line, n) for n, line in enumerate(text.splitlines(), 1)]
    return [
        f"{rel}:{line}: {chunk.strip()[:80]!r} repeats {pin.name} ({pin.value}); use lib.versions.{pin.name}"
        for chunk, line in chunks
        for pin in pins
        if version_pattern(pin.value).search(chunk)
    ]


def scanned_files(root: Path = REPO) -> list[Path]:
    files = [
        p
        for top in SCANNED
        for p in sorted((root / top).rglob("*"))
        if p.is_file() and p.suffix in {".py", ".yaml", ".yml", ".json"} and "__pycache__" not in p.parts
    ]
    return files + [p for g in SCANNED_GLOBS for p in sorted(root.glob(g))]
