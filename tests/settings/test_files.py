"""Class 4, files: a stack file that is not clean UTF-8 YAML of a stack file's shape and size ends in one
clear error naming the file as the user gave it. Fixtures: a committed stack file with one change."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from planner.runtime import REPO
from stacks.settings import SettingsError
from stacks.settings.files import MAX_BYTES, MAX_DEPTH, MAX_NODES, read_stack_file


def committed_text(stack: str) -> str:
    return (REPO / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")


def _laughs(levels: int = 9) -> str:
    """The billion laughs: ten aliases per level, 10**levels strings once expanded, a few hundred bytes."""
    lines = ["config:", "  pipeline-infra:lol0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"  pipeline-infra:lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


# (name, stack, the one change to its text or bytes, the key the error names, what it says)
FILES: list[tuple[str, str, Callable[[str], str | bytes], str, str]] = [
    ("a duplicate key changes the value silently", "prod-blue",
     lambda t: t.replace("    colour: blue\n", "    colour: blue\n    colour: green\n"),
     "pipeline-infra:fleets.colour", "duplicate key at line 17 (first at line 16)"),
    ("a duplicate top-level key", "prod",
     lambda t: t + "  pipeline-infra:role: fleet-colour\n",
     "pipeline-infra:role",
     f"duplicate key at line {len(committed_text('prod').splitlines()) + 1} (first at line 6)"),
    ("Latin-1 text", "staging", lambda t: (t + "# café\n").encode("latin-1"), "-", "not UTF-8 text"),
    ("UTF-16 text", "local", lambda t: t.encode("utf-16"), "-", "not UTF-8 text: byte 0"),
    ("binary content", "prod-dr", lambda t: b"\x7fELF\x02\x01\x01\x00" + t.encode(), "-", "binary content"),
    ("a NUL byte in a value", "prod-green", lambda t: t.replace("green\n", "gre\x00en\n"), "-",
     "control character U+0000 at line 16"),
    ("excessive nesting", "staging",
     lambda t: t + "  pipeline-infra:deep: " + "[" * 5000 + "]" * 5000 + "\n", "-",
     f"nested more than {MAX_DEPTH} levels deep"),
    ("nesting just beyond the bound", "prod",
     lambda t: t + "  pipeline-infra:deep: " + "{a: " * MAX_DEPTH + "1" + "}" * MAX_DEPTH + "\n", "-",
     f"nested more than {MAX_DEPTH} levels deep"),
    ("billion laughs", "local", lambda t: t + _laughs().split("\n", 1)[1], "-",
     f"expands to more than {MAX_NODES} nodes"),
    ("an alias that refers to itself", "prod-blue", lambda t: t + "  pipeline-infra:x: &r [*r]\n", "-",
     "an alias refers to itself"),
    ("an empty file", "staging", lambda t: "", "-", "the stack file is empty"),
    ("only comments", "prod", lambda t: "\n".join(ln for ln in t.splitlines() if ln.startswith("#")), "-",
     "the stack file is empty"),
    ("a huge file", "prod-dr", lambda t: t + "# " + "x" * MAX_BYTES + "\n", "-",
     f"a stack file is at most {MAX_BYTES} bytes"),
    ("a binary value", "local", lambda t: t + "  pipeline-infra:blob: !!binary aGVsbG8=\n", "-",
     "!!binary values are not configuration"),
    ("a key that is not text", "prod-green", lambda t: t + "  1: 2\n", "config.1", "config keys are text"),
    ("a tab-indented line (not YAML)", "prod", lambda t: t.replace("  pipeline-infra:postgres: {}", "\tx: 1"),
     "-", "not valid YAML at line"),
]


@pytest.mark.parametrize("name,stack,change,key,says", FILES, ids=[f[0] for f in FILES])
def test_a_bad_file_is_one_clear_error_naming_the_path_given(
    tmp_path: Path, name: str, stack: str, change, key: str, says: str
) -> None:
    content = change(committed_text(stack))
    path = tmp_path / f"Pulumi.{stack}.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    given = f"{tmp_path}/./sub/../Pulumi.{stack}.yaml"
    (tmp_path / "sub").mkdir()
    with pytest.raises(SettingsError) as info:
        read_stack_file(Path(given), given)
    line = str(info.value)
    assert "\n" not in line
    assert line.startswith(f"{given}: {key}: "), line
    assert says in line, line


def test_the_committed_files_are_read_unchanged() -> None:
    import yaml

    for path in sorted(REPO.glob("Pulumi.*.yaml")):
        if path.name == "Pulumi.yaml":
            continue
        assert read_stack_file(path, path.name) == yaml.safe_load(path.read_text())["config"]


def test_timestamps_stay_text_as_the_engine_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod-blue.yaml"
    path.write_text(committed_text("prod-blue") + "  pipeline-infra:note: 2024-01-01\n")
    assert read_stack_file(path, "x")["pipeline-infra:note"] == "2024-01-01"


def test_aliases_within_bounds_are_read(tmp_path: Path) -> None:
    small = '    resources: {cpu: "1", memory: 4Gi}\n  pipeline-infra:connect:'
    text = committed_text("staging").replace(small, small.replace("resources: {", "resources: &small {"))
    text = text.replace('    resources: {cpu: "1", memory: 3Gi}\n', "    resources: *small\n")
    assert "*small" in text and "&small" in text
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(text)
    config = read_stack_file(path, "x")
    assert config["pipeline-infra:connect"]["resources"] == {"cpu": "1", "memory": "4Gi"}


def test_the_billion_laughs_fail_fast_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.lol.yaml"
    path.write_text(_laughs(9))
    assert path.stat().st_size < 1000  # a small file that stands for 10**9 strings
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(SettingsError, match="expands to more than"):
        read_stack_file(path, str(path))
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 2.0, elapsed
    assert peak < 20 * 2**20, peak


def test_a_missing_file_and_a_folder(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="stack file not found"):
        read_stack_file(tmp_path / "Pulumi.none.yaml", "Pulumi.none.yaml")
    with pytest.raises(SettingsError, match="not a file"):
        read_stack_file(tmp_path, str(tmp_path))
