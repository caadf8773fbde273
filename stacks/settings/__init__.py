"""Typed, validated stack settings.

`load_settings` turns a stack's Pulumi config (the flat `namespace:key -> value` map the engine hands
the program, or the parsed stack file) into a `StackSettings`, or raises `SettingsError`: one line
naming the stack file, the key path and what is allowed. Nothing is registered before this succeeds.
"""

from __future__ import annotations

import ipaddress
import json
import types
import typing
from collections.abc import Collection, Mapping
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError

from lib.capacity import load_plan
from lib.catalog import nearest_first, provider_keys, region_partitions
from lib.settings import MODULES, PROJECT

from .stack import ALERTING_SECRETS, FORBIDDEN, REQUIRED, StackSettings

__all__ = ["PROJECT", "MODULES", "SettingsError", "StackSettings", "load_settings", "OFFLINE_SECRET"]

# Namespaces of provider configuration a stack file may carry beside the project's own keys.
PROVIDER_NAMESPACES = ("aws", "kubernetes", "docker", "random", "pulumi")
# Their configuration keys, from each provider's schema (the engine's `pulumi:` keys are not checked).
PROVIDER_KEYS = provider_keys()
# Stands in for a secret the offline plan cannot decrypt or that is not set on this machine.
OFFLINE_SECRET = "offline-placeholder-secret"
_NOT_SECRET = (
    "is a Pulumi secret (secure:), but this key is plain configuration: "
    "pulumi config set {key} <value> (secrets are the keys marked secret in docs/settings.md)"
)
# Stands in for fleets.ami_id in the offline plan of a stack file that does not pin it yet.
OFFLINE_AMI = "ami-00000000000000000"
_SECRET_FIELDS = {
    name
    for name, f in StackSettings.model_fields.items()
    if f.annotation is not None and SecretStr in typing.get_args(f.annotation)
} | {"kubernetes"}


class SettingsError(Exception):
    """A stack configuration that cannot be deployed. str() is the one line shown to the user."""

    def __init__(self, source: str, key: str, message: str) -> None:
        super().__init__(f"{source}: {key}: {message}")
        self.source, self.key, self.message = source, key, message


def _parse(value: Any) -> Any:
    # The engine hands structured values to the program as JSON text; a parsed stack file has them
    # already. Scalars stay as they are (pydantic coerces "3" to 3 where an int is wanted).
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _key(loc: tuple[Any, ...]) -> str:
    if not loc:
        return "config"
    head, rest = loc[0], loc[1:]
    out = "aws:region" if head == "region" else f"{PROJECT}:{head}"
    for part in rest:
        if part == "[key]":  # pydantic's marker for an invalid key of a mapping: the key itself is named
            continue
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The settings model a location points into (to list the keys allowed there)."""
    model: Any = StackSettings
    item = False  # the next part is a mapping's key or a list's index
    for part in loc:
        if item or isinstance(part, int) or not (isinstance(model, type) and issubclass(model, BaseModel)):
            item = False
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        model = _unwrap(field.annotation)
        inner = typing.get_origin(_optional_of(field.annotation))
        item = inner in (dict, list)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _optional_of(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return args[0] if union and args else annotation


def _unwrap(annotation: Any) -> Any:
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        for inner in typing.get_args(arg):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return annotation


def secret_allowed(full_key: str, path: Collection[Any] = ()) -> bool:
    """Whether a `secure:` value may stand at a key path: a secret field of the settings (or a key that
    is one secret as a whole, such as kubernetes), or a provider key (the provider decrypts it; the
    program reads aws:region itself, in plain text)."""
    namespace, _, name = full_key.partition(":")
    if namespace != PROJECT:
        return full_key != "aws:region"
    if name not in StackSettings.model_fields or name == "region":
        return False
    if not path:
        return name in _SECRET_FIELDS
    annotation: Any = StackSettings.model_fields[name].annotation
    for part in path:
        model = _unwrap(annotation)
        if isinstance(part, int) or not (isinstance(model, type) and issubclass(model, BaseModel)):
            return False
        field = model.model_fields.get(str(part))
        if field is None:
            return False
        annotation = field.annotation
    return annotation is SecretStr or SecretStr in typing.get_args(annotation)


def _allowed_keys(model: type[BaseModel] | None, wrong: str = "") -> str:
    """The keys allowed in a model, the nearest to the wrong one first."""
    if model is None:
        return ""
    names = [n for n in model.model_fields if not (model is StackSettings and n == "region")]
    return "allowed: " + ", ".join(nearest_first(wrong, names))


def _describe(err: Mapping[str, Any]) -> tuple[str, str]:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        return _key(loc), f"unknown key; {_allowed_keys(_model_at(loc[:-1]), str(loc[-1]))}"
    if kind == "missing":
        return _key(loc), "required key is missing"
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    msg = msg.replace("Input should be", "must be").replace("input should be", "must be")
    if kind == "literal_error":
        msg = f"must be one of {err['ctx']['expected']}"
    value = err.get("input")
    secret = loc and loc[0] in _SECRET_FIELDS
    if not secret and not isinstance(value, dict | list) and value is not None:
        msg += f" (got {value!r})"
    return _key(loc), msg


def load_settings(
    config: Mapping[str, Any],
    *,
    source: str,
    secret_keys: Collection[str] = (),
    offline: bool = False,
) -> StackSettings:
    """Validate a stack's configuration. `offline` (the plan) stands placeholders in for secrets."""
    values: dict[str, Any] = {}
    for full_key in sorted(config):
        namespace, sep, name = full_key.partition(":")
        if not sep:
            raise SettingsError(source, full_key, f"config keys are namespaced, such as {PROJECT}:role")
        if namespace == PROJECT:
            if name not in StackSettings.model_fields or name == "region":
                raise SettingsError(source, full_key, f"unknown key; {_allowed_keys(StackSettings, name)}")
            if name in _SECRET_FIELDS and full_key not in secret_keys:
                raise SettingsError(
                    source,
                    full_key,
                    "must be a Pulumi secret, never plain text: "
                    f"pulumi config set --secret {full_key} <value>",
                )
            if name not in _SECRET_FIELDS and full_key in secret_keys:
                raise SettingsError(source, full_key, _NOT_SECRET.format(key=full_key))
            values[name] = _parse(config[full_key])
        elif full_key == "aws:region":
            if full_key in secret_keys:
                raise SettingsError(source, full_key, _NOT_SECRET.format(key=full_key))
            values["region"] = config[full_key]
        elif namespace not in PROVIDER_NAMESPACES:
            allowed = nearest_first(namespace, (PROJECT, *PROVIDER_NAMESPACES))
            raise SettingsError(
                source, full_key, f"unknown namespace {namespace!r}; allowed: {', '.join(allowed)}"
            )
        elif namespace in PROVIDER_KEYS and name.split(".")[0] not in PROVIDER_KEYS[namespace]:
            known = PROVIDER_KEYS[namespace]
            allowed = ", ".join(nearest_first(name, known)) if known else "none (it takes no configuration)"
            raise SettingsError(
                source,
                full_key,
                f"unknown key of the {namespace} provider (lib/provider-config.yaml); allowed: {allowed}",
            )
    try:
        settings = StackSettings.model_validate(values)
    except ValidationError as exc:
        errors = exc.errors()
        key, message = _describe(errors[0])
        if len(errors) > 1:
            message += f" (+{len(errors) - 1} more)"
        raise SettingsError(source, key, message) from None
    _check_combination(settings, source)
    return _fill_secrets(_pin_fleet_image(settings, source, offline), source, offline)


def _check_combination(s: StackSettings, source: str) -> None:
    combo = (s.role, s.target)
    if (
        s.kubernetes is not None
        and s.kubernetes.kubeconfig is not None
        and s.connect is not None
        and s.connect.image_repository is None
    ):
        # An existing cluster has no IRSA, so the Connect build cannot push to the stack's own ECR.
        raise SettingsError(
            source,
            f"{PROJECT}:connect.image_repository",
            "required on an existing cluster (kubernetes.kubeconfig): the registry the Kafka Connect "
            "image is pushed to, with connect.push_secret",
        )
    if s.postgres is not None and s.postgres.restore is not None:
        if s.target != "aws":
            raise SettingsError(source, _key(("postgres", "restore")), "only on target aws (CloudNativePG)")
        if s.dr is not None and s.dr.site == "dr":
            raise SettingsError(
                source,
                _key(("postgres", "restore")),
                "not on a DR site: its cluster is a replica of the primary's; restore the primary",
            )
    if combo not in REQUIRED:
        raise SettingsError(
            source,
            f"{PROJECT}:target",
            f"a {s.role} stack runs on target aws only (got {s.target!r})",
        )
    for name in REQUIRED[combo]:
        if getattr(s, name) is None:
            raise SettingsError(
                source, _key((name,)), f"required in a stack of role {s.role} on target {s.target}"
            )
    for name in FORBIDDEN[combo]:
        if getattr(s, name) is not None:
            raise SettingsError(
                source, _key((name,)), f"not allowed in a stack of role {s.role} on target {s.target}"
            )
    if s.fleets is not None and s.capacity is None:
        raise SettingsError(source, _key(("capacity",)), "required when fleets are declared")
    if combo == ("environment", "aws") and s.dns is None and (s.dr is not None or s.fleets is None):
        raise SettingsError(
            source,
            _key(("dns",)),
            "required on a site of a DR pair and where the fleets are colour stacks: the Route 53 "
            "zone of the ingest records (dns.zone_name), the same on both sites",
        )
    if s.dr is not None and s.network is not None:
        ours, peer = ipaddress.ip_network(s.network.cidr), ipaddress.ip_network(s.dr.peer_cidr)
        if ours.overlaps(peer):
            raise SettingsError(
                source,
                _key(("dr", "peer_cidr")),
                f"{peer} overlaps this stack's network.cidr {ours}; peered VPCs need disjoint CIDRs",
            )
        if s.dr.peer_region == s.region:
            raise SettingsError(source, _key(("dr", "peer_region")), "must be another region than aws:region")
    if (
        s.cluster is not None
        and s.network is not None
        and s.scylla is not None
        and "scylla" in s.cluster.node_groups
        and (s.kubernetes is None or s.kubernetes.kubeconfig is None)
    ):
        # One ScyllaDB member per node (required anti-affinity), a rack per availability zone.
        need = s.network.az_count * s.scylla.members_per_rack
        have = s.cluster.node_groups["scylla"].min
        if have < need:
            raise SettingsError(
                source,
                _key(("cluster", "node_groups", "scylla", "min")),
                f"must be at least network.az_count x scylla.members_per_rack = {need} "
                f"(one ScyllaDB member per node, a rack per zone; got {have})",
            )
    if s.scylla is not None and s.network is not None:
        nodes = s.network.az_count * s.scylla.members_per_rack
        if s.scylla.replication_factor > nodes:
            raise SettingsError(
                source,
                _key(("scylla", "replication_factor")),
                f"must be at most the datacenter's members, network.az_count x scylla.members_per_rack = "
                f"{nodes} (got {s.scylla.replication_factor})",
            )
    if s.target == "docker":
        # The local stack runs each data service as one container, whatever the counts say.
        for section, name in (
            ("scylla", "members_per_rack"), ("scylla", "replication_factor"), ("kafka", "brokers"),
            ("kafka", "controllers"), ("postgres", "instances"),
        ):
            value = getattr(getattr(s, section), name, 1) if getattr(s, section) is not None else 1
            if value != 1:
                raise SettingsError(
                    source,
                    _key((section, name)),
                    f"must be 1 on target docker: the local stack runs one {section} container (got {value})",
                )
    _check_colour_name(s, source)
    if (
        s.backups is not None
        and s.backups.replicate_to_region is not None
        and s.backups.replicate_to_region == s.region
    ):
        raise SettingsError(
            source,
            _key(("backups", "replicate_to_region")),
            f"must be another region than aws:region {s.region} (replicas protect against a region's loss)",
        )
    partitions = region_partitions()
    for loc, other in ((("dr", "peer_region"), s.dr and s.dr.peer_region),
                       (("backups", "replicate_to_region"), s.backups and s.backups.replicate_to_region)):
        if other and s.region and partitions[other] != partitions[s.region]:
            raise SettingsError(
                source,
                _key(loc),
                f"{other} is in partition {partitions[other]}, aws:region {s.region} in "
                f"{partitions[s.region]}: peering and replication stay within one partition",
            )
    if s.dr is not None and s.dr.promotion_token is not None and s.dr.role != "primary":
        raise SettingsError(source, _key(("dr", "promotion_token")), "only used with dr.role primary")
    if s.scylla is not None and s.scylla.external_seeds and (s.dr is None or s.dr.site != "dr"):
        raise SettingsError(
            source, _key(("scylla", "external_seeds")), "only used on a DR site (dr.site: dr)"
        )
    if s.fleets is not None and s.capacity is not None:
        _check_fleets(s, source)
    if s.fleets is not None and "alpha" not in s.fleets.modules and (s.role == "fleet-colour" or s.dr):
        # The ingest DNS (weighted records, DR failover) points at alpha's load balancer.
        raise SettingsError(
            source,
            _key(("fleets", "modules")),
            "must include alpha here: the ingest DNS of a colour stack or a DR site points at it",
        )
    _check_colour_ports(s, source)
    if s.fleets is not None and s.network is not None:
        fleet_ports = {s.fleets.handoff_port, s.fleets.health_port, s.fleets.metrics_port}
        clash = sorted(set(s.network.source_ports) & fleet_ports)
        if clash:
            raise SettingsError(
                source,
                _key(("network", "source_ports")),
                f"{clash} are the fleets' handoff, health or metrics ports; choose other source ports",
            )


def stack_name(source: str) -> str:
    """The stack a stack file is for: Pulumi.<stack>.yaml (any folder), else the file's name."""
    name = PurePath(source).name
    return name.removeprefix("Pulumi.").removesuffix(".yaml").removesuffix(".yml")


def _check_colour_name(s: StackSettings, source: str) -> None:
    """A fleet-colour stack named `<environment>-<colour>` (as prod-blue) holds that colour and that
    environment; a name that names no colour (a what-if file) is not read."""
    if s.role != "fleet-colour" or s.fleets is None:
        return
    name = stack_name(source)
    base, _, last = name.rpartition("-")
    named = last if last in ("blue", "green") else None
    if named is not None and named != s.fleets.colour:
        raise SettingsError(
            source,
            _key(("fleets", "colour")),
            f"the stack {name} is named for colour {named}, its fleets.colour is {s.fleets.colour!r}",
        )
    if named is not None and base and base != s.environment:
        raise SettingsError(
            source,
            _key(("environment",)),
            f"the stack {name} is named for environment {base}, its environment is {s.environment!r}",
        )


def _check_colour_ports(s: StackSettings, source: str) -> None:
    """Fleet-colour stacks listen on the default ports (they have no network section, and their
    listeners must be known when they are declared); the environment's security groups are built
    for the same ports. Either side changing them alone would silently drop traffic."""
    from components.fleet.settings import FleetSettings
    from components.network.settings import NetworkSettings

    if s.role == "fleet-colour" and s.fleets is not None:
        for port in ("handoff_port", "health_port", "metrics_port"):
            default = FleetSettings.model_fields[port].default
            if getattr(s.fleets, port) != default:
                raise SettingsError(
                    source,
                    _key(("fleets", port)),
                    f"a colour stack keeps the default {default}: its environment's security groups allow it",
                )
    if (s.role, s.target) == ("environment", "aws") and s.fleets is None and s.network is not None:
        default_ports = NetworkSettings.model_fields["source_ports"].default_factory()  # type: ignore[misc]
        if list(s.network.source_ports) != default_ports:
            raise SettingsError(
                source,
                _key(("network", "source_ports")),
                f"must stay {default_ports} where the fleets are colour stacks: they listen on it",
            )


def _check_fleets(s: StackSettings, source: str) -> None:
    """Overrides against the sizing the program will use (stacks/sizing.py: the stack's profile, a
    promoted DR site sizing as production, its AZs)."""
    from stacks.sizing import effective_profile, fleet_sizing

    assert s.fleets is not None and s.capacity is not None
    for module in s.fleets.overrides:
        if module not in s.fleets.modules:
            raise SettingsError(
                source,
                _key(("fleets", "overrides", module)),
                f"module {module} is not in fleets.modules {s.fleets.modules}",
            )
    plan = load_plan()
    production = effective_profile(s) == "production"
    for module, sized in fleet_sizing(s).items():
        key = ("fleets", "overrides", module)
        baseline = plan.modules[module].reserved_baseline
        if production and sized.min < baseline:
            raise SettingsError(
                source,
                _key((*key, "min")),
                f"must be at least the reserved baseline {baseline} of capacity-plan.yaml (got {sized.min})",
            )
        if not sized.min <= sized.desired <= sized.max:
            raise SettingsError(
                source,
                _key(key),
                f"needs min <= desired <= max (got {sized.min}/{sized.desired}/{sized.max})",
            )


def _pin_fleet_image(s: StackSettings, source: str, offline: bool) -> StackSettings:
    if s.fleets is None or s.target != "aws" or s.fleets.ami_id is not None:
        return s
    if not offline:
        raise SettingsError(
            source,
            f"{PROJECT}:fleets.ami_id",
            f"required: the Debian 12 (bookworm) amd64 AMI of {s.region or 'the stack region'}, its id "
            "or the dated parameter /aws/service/debian/release/bookworm/<YYYYMMDD>-<build>/amd64 "
            "(docs/fleets.md \"Image\": aws ec2 describe-images --owners 136693071363 ...)",
        )
    return s.model_copy(update={"fleets": s.fleets.model_copy(update={"ami_id": OFFLINE_AMI})})


def _fill_secrets(s: StackSettings, source: str, offline: bool) -> StackSettings:
    if (s.role, s.target) != ("environment", "aws"):
        return s
    present = [name for name in ALERTING_SECRETS if getattr(s, name) is not None]
    if s.secrets_source == "secretsmanager":
        if present:
            raise SettingsError(
                source,
                f"{PROJECT}:{present[0]}",
                f"the receiver secrets are read from AWS Secrets Manager ({s.alertmanager_secret_name}); "
                "remove it here, or set secrets.source: config",
            )
        return s
    missing = [name for name in ALERTING_SECRETS if getattr(s, name) is None]
    if missing and not offline:
        key = f"{PROJECT}:{missing[0]}"
        raise SettingsError(
            source, key, f"required secret is not set: pulumi config set --secret {key} <value>"
        )
    return s.model_copy(update={name: SecretStr(OFFLINE_SECRET) for name in missing})

