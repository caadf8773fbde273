"""docs/settings.md, generated from the settings models (`python -m planner settings-doc`). Pure: no
Pulumi. Every key a stack file may set, with its type, default, allowed values, the stacks that need or
refuse it and its description (the models' `Field(description=...)`), and the rules between keys.

Rules of a model come from its validators' docstrings: each line of a settings validator's docstring is
one rule it enforces (a model validator has as many lines as `raise` statements). The checks across
sections in stacks/settings/__init__.py are the hand-written CROSS_SECTION_RULES, one per `raise
SettingsError` there (tests/settings/test_settings_doc.py keeps the two in step).
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import annotated_types as at
import yaml
from pydantic import AfterValidator, BaseModel, SecretStr
from pydantic.fields import FieldInfo

from components.streaming.spec import StreamingSpec
from lib.settings import MODULES, PROJECT
from stacks.settings import _SECRET_FIELDS
from stacks.settings.estate import ESTATE_RULES
from stacks.settings.stack import ALERTING_SECRETS, FORBIDDEN, REQUIRED, StackSettings

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "settings.md"
_NO_DEFAULT = object()

# The placeholder of a mapping's key in a key path, by the key's allowed values.
_KEY_NAMES = {
    frozenset(MODULES): "module",
    frozenset({"scylla", "kafka", "postgres", "platform"}): "group",
    frozenset({"blue", "green"}): "colour",
}

# One line per `raise SettingsError` of the cross-section checks in stacks/settings/__init__.py
# (_check_combination, _check_colour_name, _check_colour_ports, _check_fleets, _pin_fleet_image,
# _fill_secrets), in their order.
CROSS_SECTION_RULES: tuple[str, ...] = (
    "`connect.image_repository` is required on an existing cluster (`kubernetes.kubeconfig`): it has no "
    "IRSA to push to the stack's ECR.",
    "`postgres.restore` is used only on target aws (CloudNativePG bootstraps from the backup).",
    "`postgres.restore` is not set on a DR site: its cluster is a replica of the primary's; restore the "
    "primary.",
    "A stack of role fleet-colour runs on target aws only.",
    "Each section the stack's role and target require is set (the Stacks column above).",
    "No section the stack's role and target forbid is set (the Stacks column above).",
    "`fleets` needs `capacity`.",
    "An AWS environment of a DR pair, or whose fleets are colour stacks (no `fleets`), carries `dns` "
    "(the same zone and domain on both sites).",
    "`dr.peer_cidr` does not overlap `network.cidr` (peered VPCs need disjoint networks).",
    "`dr.peer_region` is another region than aws:region.",
    "On EKS, `cluster.node_groups.scylla.min` is at least `network.az_count` x `scylla.members_per_rack` "
    "(one ScyllaDB member per node, a rack per zone).",
    "`scylla.replication_factor` is at most the datacenter's members, `network.az_count` x "
    "`scylla.members_per_rack`.",
    "On target docker, `scylla.members_per_rack`, `scylla.replication_factor`, `kafka.brokers`, "
    "`kafka.controllers` and `postgres.instances` are 1: the local stack runs one container of each.",
    "`backups.replicate_to_region` is another region than aws:region.",
    "`dr.peer_region` and `backups.replicate_to_region` are in aws:region's partition (aws, aws-cn, "
    "aws-us-gov, ...: lib/aws/regions.yaml).",
    "`dr.promotion_token` is only used with `dr.role: primary`.",
    "`scylla.external_seeds` is only used on a DR site (`dr.site: dr`).",
    "`fleets.modules` includes alpha in a colour stack or on a DR site (the ingest DNS points at its "
    "load balancer).",
    "`network.source_ports` are none of the fleets' handoff, health and metrics ports.",
    "A fleet-colour stack named `<environment>-<colour>` (such as prod-blue) has that `fleets.colour`.",
    "A fleet-colour stack named `<environment>-<colour>` has that `environment`.",
    "A fleet-colour stack keeps the default `fleets.handoff_port`, `health_port` and `metrics_port` (its "
    "environment's security groups allow those).",
    "An AWS environment without `fleets` (its fleets are colour stacks) keeps the default "
    "`network.source_ports`: the colour stacks listen on it.",
    "Every key of `fleets.overrides` is one of `fleets.modules`.",
    "With the production profile (or a promoted DR site), each fleet's min is at least its "
    "`reserved_baseline` in capacity-plan.yaml.",
    "Each fleet's sizing, overrides applied, has min <= desired <= max.",
    "A stack with fleets on AWS pins `fleets.ami_id` (the offline plan stands `ami-00000000000000000` in).",
    "With `secrets.source: secretsmanager` (the default) an AWS environment sets none of the Alertmanager "
    "secrets in its config (they are read from AWS Secrets Manager).",
    "With `secrets.source: config` an AWS environment has every Alertmanager secret: "
    "`pagerduty_critical_key`, `pagerduty_high_key`, `slack_webhook_url`, `smtp_password`, "
    "`deadmans_switch_url` (the offline plan stands placeholders in).",
)


@dataclass(frozen=True)
class Row:
    key: str
    type: str
    default: str
    allowed: str
    description: str


# --- models -------------------------------------------------------------------------------------
def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def all_models() -> list[type[BaseModel]]:
    """Every settings model: those reachable from StackSettings, then the streaming layer's input."""
    seen: list[type[BaseModel]] = []

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for field in model.model_fields.values():
            for inner in _models_in(field.annotation):
                walk(inner)

    walk(StackSettings)
    walk(StreamingSpec)
    return seen


def undocumented_fields(models: list[type[BaseModel]]) -> list[str]:
    """`Model.field` of every field without a non-empty description."""
    return [
        f"{model.__module__}.{model.__name__}.{name}"
        for model in models
        for name, field in model.model_fields.items()
        if not (field.description or "").strip()
    ]


def _source(model: type[BaseModel]) -> str:
    return Path(inspect.getfile(model)).resolve().relative_to(ROOT).as_posix()


def _doc_lines(fn: Any) -> list[str]:
    fn = getattr(fn, "__func__", fn)
    return [line.strip() for line in textwrap.dedent(fn.__doc__ or "").strip().splitlines() if line.strip()]


def model_validators(model: type[BaseModel]) -> list[tuple[str, Any]]:
    """(name, function) of the model's own model validators."""
    decorators = model.__pydantic_decorators__.model_validators
    return [(name, dec.func) for name, dec in decorators.items()]


def field_validators(model: type[BaseModel]) -> dict[str, list[Any]]:
    """field name -> the field validators of the model that check it."""
    out: dict[str, list[Any]] = {}
    for dec in model.__pydantic_decorators__.field_validators.values():
        for name in dec.info.fields:
            out.setdefault(name, []).append(dec.func)
    return out


def _raises(fn: Any) -> int:
    fn = getattr(fn, "__func__", fn)
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    return sum(isinstance(node, ast.Raise) for node in ast.walk(tree))


def validator_rule_mismatches(models: list[type[BaseModel]]) -> list[str]:
    """Validators whose docstring does not state their rules: a model validator needs one docstring
    line per `raise`, a field validator a non-empty docstring (the Allowed column)."""
    out = []
    for model in models:
        for name, fn in model_validators(model):
            lines, raises = len(_doc_lines(fn)), _raises(fn)
            if lines != raises:
                out.append(f"{model.__name__}.{name}: {raises} raise, {lines} rule lines in its docstring")
        for dec_name, dec in model.__pydantic_decorators__.field_validators.items():
            if not _doc_lines(dec.func):
                out.append(f"{model.__name__}.{dec_name}: no docstring")
    return out


# The functions of stacks/settings/__init__.py whose `raise SettingsError` are CROSS_SECTION_RULES.
CROSS_SECTION_CHECKS = (
    "_check_combination",
    "_check_colour_name",
    "_check_colour_ports",
    "_check_fleets",
    "_pin_fleet_image",
    "_fill_secrets",
)


def settings_error_raises(source: str, functions: tuple[str, ...] = CROSS_SECTION_CHECKS) -> int:
    """How many `raise SettingsError(...)` the named functions of a module's source have."""
    count = 0
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name in functions:
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Raise)
                    and isinstance(inner.exc, ast.Call)
                    and getattr(inner.exc.func, "id", None) == "SettingsError"
                ):
                    count += 1
    return count


# --- types, defaults, bounds --------------------------------------------------------------------
def _optional(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def _key_name(annotation: Any) -> str:
    if typing.get_origin(annotation) is Literal:
        return _KEY_NAMES.get(frozenset(typing.get_args(annotation)), "key")
    return "key"


def type_name(annotation: Any) -> str:
    """A readable type: int, str, list[str], dict[<module>, str], enum(a, b), the model's name."""
    annotation = _optional(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        if any(_is_cidr(m) for m in args[1:]):
            return "cidr"
        return type_name(args[0])
    if origin is Literal:
        return "enum(" + ", ".join(str(a) for a in args) + ")"
    if origin is list:
        return f"list[{type_name(args[0])}]"
    if origin is dict:
        return f"dict[<{_key_name(args[0])}>, {type_name(args[1])}]"
    if annotation is SecretStr:
        return "str"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation)


def _is_cidr(m: Any) -> bool:
    return isinstance(m, AfterValidator) and m.func.__name__ == "_cidr"


def field_type(field: FieldInfo) -> str:
    if any(_is_cidr(m) for m in field.metadata):
        return "cidr"
    return type_name(field.annotation)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _flow(value: Any) -> str:
    """A value in YAML flow style, as it would be written in a stack file."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        # Quoted when YAML would read it as something else (a number, a comment, flow syntax).
        try:
            same = yaml.safe_load(value) == value
        except yaml.YAMLError:
            same = False
        plain = same and not any(c in value for c in ",[]{}") and ": " not in value and " #" not in value
        return value if plain else json.dumps(value)
    return str(value)


def _default_value(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    if field.is_required():
        return _NO_DEFAULT
    return field.default


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def _md(text: str) -> str:
    """Text for a Markdown table: outside `code`, | escaped and a tag-like <name> too (HTML otherwise)."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"<(?=[A-Za-z/])", "&lt;", parts[i].replace("|", "\\|"))
    return "`".join(parts)


def _bounds(field: FieldInfo, validators: list[Any]) -> str:
    parts: list[str] = []
    annotation = _optional(field.annotation)
    if typing.get_origin(annotation) is dict:
        key = typing.get_args(annotation)[0]
        if typing.get_origin(key) is Literal:
            parts.append("keys: " + ", ".join(_code(str(a)) for a in typing.get_args(key)))
    for m in field.metadata:
        if isinstance(m, at.Ge):
            parts.append(f"min {m.ge}")
        elif isinstance(m, at.Gt):
            parts.append(f"above {m.gt}")
        elif isinstance(m, at.Le):
            parts.append(f"max {m.le}")
        elif isinstance(m, at.Lt):
            parts.append(f"below {m.lt}")
        elif isinstance(m, at.MinLen):
            parts.append(f"at least {m.min_length} item{'s' if m.min_length != 1 else ''}")
        elif isinstance(m, at.MaxLen):
            parts.append(f"at most {m.max_length} items")
        elif isinstance(m, AfterValidator):
            parts += [line.rstrip(".") for line in _doc_lines(m.func)]
        elif getattr(m, "pattern", None):
            parts.append("pattern " + _code(m.pattern))
    for fn in validators:
        parts += [line.rstrip(".") for line in _doc_lines(fn)]
    return "; ".join(parts)


def _item(annotation: Any) -> tuple[str, type[BaseModel]] | None:
    """The path suffix and model of a mapping's or list's items, when they are models."""
    annotation = _optional(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is dict and isinstance(args[1], type) and issubclass(args[1], BaseModel):
        return f".<{_key_name(args[0])}>", args[1]
    if origin is list and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return "[]", args[0]
    return None


def rows(model: type[BaseModel], prefix: str, defaults: Any = _NO_DEFAULT, expand: bool = True) -> list[Row]:
    """A row per key of `model` under `prefix`, nested models, mapping and list items expanded (unless
    not `expand`). `defaults`: the instance the enclosing field defaults to (its values are this
    model's defaults)."""
    out: list[Row] = []
    checks = field_validators(model)
    for name, field in model.model_fields.items():
        key = f"{prefix}.{name}" if prefix else name
        own = _default_value(field)
        if isinstance(defaults, BaseModel):
            own = getattr(defaults, name)
        annotation = _optional(field.annotation)
        nested = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        if own is _NO_DEFAULT:
            default = "required"
        elif own is None:
            default = "unset"
        elif nested:
            default = "see below"
        else:
            default = _code(_flow(_plain(own)))
        if isinstance(own, SecretStr):
            default = "unset"
        out.append(
            Row(key, field_type(field), default, _bounds(field, checks.get(name, [])),
                (field.description or "").strip())
        )
        if not expand:
            continue
        if nested:
            out += rows(annotation, key, own if isinstance(own, BaseModel) else _NO_DEFAULT)
        item = _item(field.annotation)
        if item is not None:
            suffix, item_model = item
            doc = (item_model.__doc__ or "").strip().splitlines()
            out.append(Row(key + suffix, item_model.__name__, "", "", doc[0] if doc else ""))
            out += rows(item_model, key + suffix)
    return out


# --- stacks --------------------------------------------------------------------------------------
def _combo(combo: tuple[str, str]) -> str:
    return f"{combo[0]}/{combo[1]}"


def stacks_column(name: str) -> str:
    """Which stacks (role/target) require or forbid a top-level key (REQUIRED, FORBIDDEN, the
    Alertmanager secrets of an AWS environment)."""
    if StackSettings.model_fields[name].is_required():
        return "required in every stack"
    need = [_combo(c) for c, keys in REQUIRED.items() if name in keys]
    if name in ALERTING_SECRETS:
        need.append(_combo(("environment", "aws")))
    refuse = [_combo(c) for c, keys in FORBIDDEN.items() if name in keys]
    parts = []
    if need:
        parts.append("required: " + ", ".join(need))
    if refuse:
        parts.append("forbidden: " + ", ".join(refuse))
    return "; ".join(parts) or "optional"


def stack_key(name: str) -> str:
    return "aws:region" if name == "region" else name


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("\n", " ") for c in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(r) for r in body)]


def _rules(model: type[BaseModel], where: str) -> list[str]:
    return [f"- `{where}`: {_md(rule)}" for _, fn in model_validators(model) for rule in _doc_lines(fn)]


def render() -> str:
    """The whole of docs/settings.md."""
    fields = StackSettings.model_fields
    sections = {
        name: _optional(f.annotation)
        for name, f in fields.items()
        if isinstance(_optional(f.annotation), type) and issubclass(_optional(f.annotation), BaseModel)
    }
    combos = ", ".join(_combo(c) for c in REQUIRED)
    out = [
        "# Stack settings",
        "",
        "<!-- Generated by `make settings-doc` (python -m planner settings-doc) from the settings models; do",
        "     not edit: change the models' Field descriptions and run it again. -->",
        "",
        f"Every key a stack file (`Pulumi.<stack>.yaml`) may set under `{PROJECT}:`, plus `aws:region`. A "
        "key not listed here is an error naming the stack file, the key and the keys allowed there. "
        f"Stacks: `role/target`, one of {combos}. Types: `cidr` is an IPv4 network in CIDR notation; "
        "`<module>`, `<group>`, `<colour>` stand for a key of a mapping, `[]` for an item of a list. "
        "Secrets (`secret`) are Pulumi secrets only: "
        f"`pulumi config set --secret {PROJECT}:<key> <value>`.",
        "",
        "## Top-level keys",
        "",
        f"Model `StackSettings` (`{_source(StackSettings)}`); its sections below.",
        "",
    ]
    body = []
    for name, field in fields.items():
        secret = " (secret)" if name in _SECRET_FIELDS else ""
        row = rows_for_top(name, field)
        body.append(
            [_code(stack_key(name)), _code(row.type) + secret, row.default, _md(row.allowed),
             stacks_column(name), _md(row.description)]
        )
    out += _table(["Key", "Type", "Default", "Allowed", "Stacks", "Description"], body)
    for name, model in sections.items():
        doc = " ".join((model.__doc__ or "").split())
        folder = Path(_source(model)).parent.as_posix()
        out += [
            "",
            f"## `{PROJECT}:{name}`",
            "",
            f"Model `{model.__name__}` (`{model.__module__}`, folder `{folder}/`). {doc}".rstrip(),
            "",
            f"Stacks: {stacks_column(name)}.",
            "",
        ]
        out += _table(
            ["Key", "Type", "Default", "Allowed", "Description"],
            [[_code(r.key), _code(r.type), r.default, _md(r.allowed), _md(r.description)]
             for r in rows(model, name)],
        )
    out += [
        "",
        "## Rules between keys",
        "",
        "Within a section (the models' validators):",
        "",
    ]
    for model in all_models():
        if model is StreamingSpec or model.__module__ == StreamingSpec.__module__:
            continue
        out += _rules(model, _where(model))
    out += [
        "",
        "Across sections (`stacks/settings/__init__.py`, after the models):",
        "",
        *(f"- {_md(rule)}" for rule in CROSS_SECTION_RULES),
        "",
        "Across stacks (`stacks/settings/estate.py`): the stack evaluated against every other committed "
        "`Pulumi.<stack>.yaml` of the project, read with the same checks; the evaluated stack stands in "
        "for its committed file (a `--config` file of a new name joins them). They run before anything "
        "is registered, in the plan and in the program:",
        "",
        *(f"- {_md(rule)}" for rule in ESTATE_RULES),
        "",
        "## Not a stack key: the streaming layer's input",
        "",
        f"`StreamingSpec` (`{_source(StreamingSpec)}`) is composed from the sections `kafka`, `connect`, "
        "`schema_registry`, `scylla` and `dr` by `StackSettings.streaming()`: what the streaming components "
        "read.",
        "",
    ]
    spec_rows = rows(StreamingSpec, "StreamingSpec", expand=False)
    for name in ("scylla", "dr"):
        model = _optional(StreamingSpec.model_fields[name].annotation)
        spec_rows += rows(model, f"StreamingSpec.{name}", expand=False)
    out += _table(
        ["Field", "Type", "Default", "Description"],
        [[_code(r.key), _code(r.type), r.default, _md(r.description)] for r in spec_rows],
    )
    return "\n".join(out) + "\n"


def rows_for_top(name: str, field: FieldInfo) -> Row:
    annotation = _optional(field.annotation)
    nested = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    own = _default_value(field)
    default = "required" if own is _NO_DEFAULT else "unset" if own is None else _code(_flow(_plain(own)))
    kind = "section" if nested else field_type(field)
    return Row(name, kind, default, "" if nested else _bounds(field, []), (field.description or "").strip())


def _where(model: type[BaseModel]) -> str:
    """The first key path a model is found at (for naming its rules)."""
    for r in rows(StackSettings, ""):
        if r.type == model.__name__:
            return r.key
    for name, field in StackSettings.model_fields.items():
        if _optional(field.annotation) is model:
            return name
    return model.__name__


def write(path: Path = DOC) -> Path:
    path.write_text(render(), encoding="utf-8")
    return path
