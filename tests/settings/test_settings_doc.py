"""docs/settings.md: every settings field is described, the document is the generator's current output,
it names every key the committed stack files set, and its rules stay in step with the validators."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from pydantic import Field, model_validator

from lib.settings import PROJECT, Strict
from planner import settings_doc
from planner.cli import cli
from planner.settings_doc import (
    CROSS_SECTION_RULES,
    DOC,
    all_models,
    render,
    settings_error_raises,
    undocumented_fields,
    validator_rule_mismatches,
)

ROOT = Path(__file__).resolve().parents[2]
STACK_FILES = sorted(p for p in ROOT.glob("Pulumi.*.yaml"))


# --- descriptions ---------------------------------------------------------------------------------
def test_every_settings_field_has_a_description() -> None:
    missing = undocumented_fields(all_models())
    assert not missing, "settings fields without Field(description=...): " + ", ".join(missing)


def test_the_models_walked_include_nested_item_and_streaming_models() -> None:
    names = {m.__name__ for m in all_models()}
    # Nested (Resources, AlertingSettings), mapping items (NodeGroupSettings, FleetOverride), list items
    # (CdcTable) and the streaming layer's input (StreamingSpec and its own models).
    for name in ("StackSettings", "Resources", "AlertingSettings", "NodeGroupSettings", "FleetOverride",
                 "CdcTable", "StreamingSpec", "CdcSource", "Replication", "DrSettings", "KubernetesSettings"):
        assert name in names


def test_a_field_without_description_is_reported() -> None:
    class Partly(Strict):
        described: int = Field(1, description="a number")
        bare: int = 2
        blank: str = Field("x", description="  ")

    missing = undocumented_fields([Partly])
    assert [m.rsplit(".", 1)[1] for m in missing] == ["bare", "blank"]


# --- the document is current ----------------------------------------------------------------------
def test_docs_settings_md_is_the_generators_output() -> None:
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert current == render(), "docs/settings.md is stale: run make settings-doc"


def test_settings_doc_check_fails_on_a_stale_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "docs" / "settings.md"
    stale.parent.mkdir()
    stale.write_text(render().replace("| `network.cidr` |", "| `network.cidr_block` |"), encoding="utf-8")
    monkeypatch.setattr(settings_doc, "DOC", stale)
    result = CliRunner().invoke(cli, ["settings-doc", "--check"])
    assert result.exit_code == 1
    assert "make settings-doc" in result.output
    stale.write_text(render(), encoding="utf-8")
    assert CliRunner().invoke(cli, ["settings-doc", "--check"]).exit_code == 0


# --- every key of every stack file is documented --------------------------------------------------
def documented_patterns(markdown: str) -> list[re.Pattern[str]]:
    """The key column of every table of stack keys (the streaming input's table is not one)."""
    stack_part = markdown.split("\n## Not a stack key")[0]
    keys = re.findall(r"^\| `([^`]+)` \|", stack_part, flags=re.MULTILINE)
    patterns = []
    for key in keys:
        rx = re.escape(key.replace("\\|", "|"))
        rx = re.sub(r"<[a-z_]+>", r"[^.\\[\\]]+", rx).replace(re.escape("[]"), r"\[\d+\]")
        patterns.append(re.compile(rx + "$"))
    return patterns


def _flatten(path: str, value: Any) -> list[str]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _flatten(f"{path}.{k}", v)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, dict):
                out += _flatten(f"{path}[{i}]", v)
    return out


def stack_file_keys(config: dict[str, Any]) -> list[str]:
    """Every key path a stack file's config sets: `aws:region` and the project's keys, nested."""
    keys = []
    for full_key, value in config.items():
        namespace, _, name = full_key.partition(":")
        if full_key == "aws:region":
            keys.append(full_key)
        elif namespace == PROJECT:
            keys += _flatten(name, value)
    return keys


def undocumented_keys(config: dict[str, Any], markdown: str) -> list[str]:
    patterns = documented_patterns(markdown)
    return [k for k in stack_file_keys(config) if not any(p.match(k) for p in patterns)]


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_the_doc_names_every_key_of_the_stack_file(path: Path) -> None:
    config = yaml.safe_load(path.read_text(encoding="utf-8"))["config"]
    assert undocumented_keys(config, DOC.read_text(encoding="utf-8")) == []


def test_stack_files_are_found_and_nested_keys_are_checked() -> None:
    assert {p.name for p in STACK_FILES} >= {"Pulumi.local.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml"}
    staging = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text(encoding="utf-8"))["config"]
    keys = stack_file_keys(staging)
    # A mapping's item (node group) and a nested model (resources) are among the keys checked.
    assert "cluster.node_groups.scylla.instance_type" in keys
    assert "scylla.resources.memory" in keys


def test_an_undocumented_stack_key_is_reported() -> None:
    markdown = DOC.read_text(encoding="utf-8")
    config = {
        "aws:region": "us-east-1",
        f"{PROJECT}:network": {"cidr": "10.0.0.0/16", "no_such_key": 1},
        f"{PROJECT}:cluster": {"node_groups": {"kafka": {"instance_type": "r6i.large", "ram": 4}}},
        f"{PROJECT}:scylla": {"tables": [{"name": "t", "ttl": 5}]},
    }
    assert undocumented_keys(config, markdown) == [
        "network.no_such_key",
        "cluster.node_groups.kafka.ram",
        "scylla.tables[0].ttl",
    ]


# --- rules ----------------------------------------------------------------------------------------
def test_every_validator_states_its_rules() -> None:
    assert validator_rule_mismatches(all_models()) == []


def test_a_validator_with_more_raises_than_rule_lines_is_reported() -> None:
    class TwoRules(Strict):
        low: int = Field(0, description="low")
        high: int = Field(1, description="high")

        @model_validator(mode="after")
        def _order(self) -> TwoRules:
            """low <= high."""
            if self.low > self.high:
                raise ValueError("low must not exceed high")
            if self.high > 10:
                raise ValueError("high at most 10")
            return self

    assert validator_rule_mismatches([TwoRules]) == [
        "TwoRules._order: 2 raise, 1 rule lines in its docstring"
    ]


def test_cross_section_rules_are_one_per_settings_error_of_the_loader() -> None:
    source = (ROOT / "stacks" / "settings" / "__init__.py").read_text(encoding="utf-8")
    assert settings_error_raises(source) == len(CROSS_SECTION_RULES), (
        "stacks/settings/__init__.py's cross-section checks changed: update CROSS_SECTION_RULES in "
        "planner/settings_doc.py"
    )


def test_a_new_cross_section_check_changes_the_count() -> None:
    source = (ROOT / "stacks" / "settings" / "__init__.py").read_text(encoding="utf-8")
    extra = source.replace(
        "    _check_colour_ports(s, source)\n",
        "    _check_colour_ports(s, source)\n    if s.kafka is None:\n"
        '        raise SettingsError(source, "x", "new rule")\n',
    )
    assert extra != source
    assert settings_error_raises(extra) == settings_error_raises(source) + 1
