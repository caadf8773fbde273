"""Checks across the stacks of the project (the estate): every committed `Pulumi.<stack>.yaml`, read with
load_settings, the stack being evaluated standing in for its committed file.

A stack contradicting another is one SettingsError naming the evaluated stack's file and key and the
other stack's file. They need no plan: `check_stack_in_estate` runs before anything is registered (the
program calls it after load_settings), and `estate_errors` checks the whole estate at once. Pure: no
Pulumi.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from components.traffic.settings import TrafficSettings

from . import PROJECT, SettingsError, StackSettings

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Member:
    """One stack of the estate: its name, the file it is read from, its settings."""

    name: str
    source: str
    settings: StackSettings


Estate = Mapping[str, Member]


def committed_stack_files(root: Path = PROJECT_DIR) -> dict[str, Path]:
    """Stack name -> its committed stack file (Pulumi.yaml, the project file, is none)."""
    return {
        p.name.removeprefix("Pulumi.").removesuffix(".yaml"): p
        for p in sorted(root.glob("Pulumi.*.yaml"))
        if p.name != "Pulumi.yaml"
    }


@functools.cache
def _read(path: str, mtime_ns: int, size: int) -> StackSettings:
    from .files import settings_of_file

    return settings_of_file(Path(path), Path(path).name)


def _member(name: str, path: Path) -> Member:
    stat = path.stat()
    return Member(name, path.name, _read(str(path), stat.st_mtime_ns, stat.st_size))


def load_estate(root: Path = PROJECT_DIR, evaluated: Member | None = None) -> dict[str, Member]:
    """Every committed stack, read and validated; `evaluated` replaces the committed file of its name (or
    joins the estate, a what-if file of a new name). A committed file that does not load raises its
    own SettingsError (the estate cannot be checked around it)."""
    estate = {
        name: _member(name, path)
        for name, path in committed_stack_files(root).items()
        if evaluated is None or name != evaluated.name
    }
    if evaluated is not None:
        estate[evaluated.name] = evaluated
    return estate


def check_stack_in_estate(
    name: str, settings: StackSettings, source: str, root: Path = PROJECT_DIR
) -> None:
    """Raise the first contradiction between stack `name` and the rest of the estate."""
    estate = load_estate(root, Member(name, source, settings))
    check_stack(name, estate)


def estate_errors(root: Path = PROJECT_DIR) -> list[SettingsError]:
    """Every stack's first contradiction with the others, over the committed files alone."""
    estate = load_estate(root)
    errors = []
    for name in estate:
        try:
            check_stack(name, estate)
        except SettingsError as error:
            errors.append(error)
    return errors


def traffic_switch_of(name: str, root: Path = PROJECT_DIR) -> TrafficSettings | None:
    """The traffic switch of environment `name`: the committed `traffic` of the traffic stack whose
    `environment_stack` is `name` (prod -> Pulumi.prod-traffic.yaml), or None. The environment's
    Prometheus labels its fleets' series active/idle from it, as the switch's DNS records route them;
    read from the stack file, not by StackReference (the traffic stack reads the environment)."""
    for member in load_estate(root).values():
        s = member.settings
        if s.role == "traffic" and s.traffic is not None and short(s.environment_stack or "") == name:
            return s.traffic
    return None


# --- the rules ------------------------------------------------------------------------------------
def short(stack: str) -> str:
    """A stack reference's stack name: org/project/prod -> prod."""
    return stack.rsplit("/", 1)[-1]


def _key(*parts: str) -> str:
    return "aws:region" if parts == ("region",) else f"{PROJECT}:" + ".".join(parts)


def domain_in_zone(domain: str, zone: str) -> bool:
    """Whether a DNS name lies in a hosted zone (the zone's apex or a name below it)."""
    domain, zone = domain.rstrip(".").lower(), zone.rstrip(".").lower()
    return domain == zone or domain.endswith("." + zone)


def _networks(s: StackSettings) -> list[tuple[str, str]]:
    """(key, network) of the outside networks a stack routes to: sources, enrichment, destinations."""
    if s.network is None:
        return []
    return [
        (key, cidr)
        for key in ("source_cidrs", "enrichment_cidrs", "destination_cidrs")
        for cidr in getattr(s.network, key)
    ]


def check_stack(name: str, estate: Estate) -> None:
    """The rules between stack `name` and the others, each from `name`'s side (its file, its key)."""
    me = estate[name]
    s, source = me.settings, me.source
    others = [m for n, m in sorted(estate.items()) if n != name]
    if s.network is not None:
        ours = ipaddress.ip_network(s.network.cidr)
        for other in others:
            net = other.settings.network
            if net is None:
                continue
            theirs = ipaddress.ip_network(net.cidr)
            if ours.overlaps(theirs):
                how = "repeats" if ours == theirs else "overlaps"
                raise SettingsError(
                    source,
                    _key("network", "cidr"),
                    f"{ours} {how} {other.source}'s network.cidr {theirs}: every stack's VPC needs its "
                    "own network (peering, routes between sites and to the sources)",
                )
            for key, cidr in _networks(other.settings):
                if ours.overlaps(ipaddress.ip_network(cidr)):
                    raise SettingsError(
                        source,
                        _key("network", "cidr"),
                        f"{ours} overlaps {other.source}'s network.{key} {cidr}: a VPC cannot also be a "
                        "network another stack routes to",
                    )
        for key, cidr in _networks(s):
            for other in others:
                if other.settings.network is not None and ipaddress.ip_network(cidr).overlaps(
                    ipaddress.ip_network(other.settings.network.cidr)
                ):
                    raise SettingsError(
                        source,
                        _key("network", key),
                        f"{cidr} overlaps {other.source}'s VPC network.cidr {other.settings.network.cidr}: "
                        "sources, enrichment and destinations are outside networks",
                    )
    if s.dr is not None:
        _check_dr_peer(me, estate)
        _check_dns_pair(me, estate)
    if s.role == "fleet-colour":
        _check_colour_environment(me, estate)
    if s.role == "traffic" and s.traffic is not None:
        _check_traffic(me, estate)


def _check_dr_peer(me: Member, estate: Estate) -> None:
    """A DR site and its primary name each other and agree on regions and networks."""
    s, source = me.settings, me.source
    assert s.dr is not None
    peer_name = short(s.dr.peer_stack)
    if peer_name == me.name:
        raise SettingsError(source, _key("dr", "peer_stack"), f"names this stack itself ({me.name})")
    if peer_name not in estate:
        raise SettingsError(
            source,
            _key("dr", "peer_stack"),
            f"no stack {peer_name} in the project (Pulumi.{peer_name}.yaml); stacks: {', '.join(estate)}",
        )
    peer = estate[peer_name]
    p = peer.settings
    if p.dr is None or p.network is None:
        raise SettingsError(
            source,
            _key("dr", "peer_stack"),
            f"{peer.source} is not the other site of a DR pair (it has no dr or no network section)",
        )
    if p.dr.site == s.dr.site:
        kind = "primaries" if s.dr.site == "primary" else "DR sites"
        raise SettingsError(
            source,
            _key("dr", "site"),
            f"two {kind}: {peer.source} is dr.site {p.dr.site} too; a DR pair is one primary and one dr",
        )
    if short(p.dr.peer_stack) != me.name:
        raise SettingsError(
            source,
            _key("dr", "peer_stack"),
            f"{peer.source} pairs with {p.dr.peer_stack}, not with this stack ({me.name})",
        )
    if s.dr.peer_region != p.region:
        raise SettingsError(
            source,
            _key("dr", "peer_region"),
            f"must be {peer.source}'s aws:region {p.region} (got {s.dr.peer_region!r})",
        )
    if s.dr.peer_cidr != p.network.cidr:
        raise SettingsError(
            source,
            _key("dr", "peer_cidr"),
            f"must be {peer.source}'s network.cidr {p.network.cidr} (got {s.dr.peer_cidr!r})",
        )


def _check_colour_environment(me: Member, estate: Estate) -> None:
    """A colour stack attaches to an AWS environment of its own name and region, whose fleets are colour
    stacks (it has the traffic switch)."""
    s, source = me.settings, me.source
    env_name = short(s.environment_stack or "")
    if env_name == me.name:
        raise SettingsError(source, _key("environment_stack"), f"names this stack itself ({me.name})")
    if env_name not in estate:
        raise SettingsError(
            source,
            _key("environment_stack"),
            f"no stack {env_name} in the project (Pulumi.{env_name}.yaml); stacks: {', '.join(estate)}",
        )
    env = estate[env_name]
    e = env.settings
    if (e.role, e.target) != ("environment", "aws"):
        raise SettingsError(
            source, _key("environment_stack"), f"{env.source} is not an AWS environment (role {e.role})"
        )
    if e.environment != s.environment:
        raise SettingsError(
            source,
            _key("environment"),
            f"must be its environment stack's environment {e.environment!r} ({env.source}; got "
            f"{s.environment!r})",
        )
    if e.region != s.region:
        raise SettingsError(
            source,
            _key("region"),
            f"must be its environment's region {e.region} ({env.source}): the fleets join its VPC "
            f"(got {s.region!r})",
        )
    if e.fleets is not None:
        raise SettingsError(
            source,
            _key("environment_stack"),
            f"{env.source} declares its own fleets: a colour stack attaches to an environment whose "
            "fleets are colour stacks (no fleets section)",
        )


def _check_dns_pair(me: Member, estate: Estate) -> None:
    """Both sites of a DR pair carry the same `dns` (zone and ingest domain): the failover pair is one
    name in one zone (the DR site also checks its dns against the primary's outputs at deploy time)."""
    s, source = me.settings, me.source
    assert s.dr is not None
    peer = estate[short(s.dr.peer_stack)]
    if s.dns != peer.settings.dns:
        ours = "none" if s.dns is None else f"{s.dns.ingest_domain} in {s.dns.zone_name}"
        theirs = (
            "none"
            if peer.settings.dns is None
            else f"{peer.settings.dns.ingest_domain} in {peer.settings.dns.zone_name}"
        )
        raise SettingsError(
            source,
            _key("dns"),
            f"must be {peer.source}'s dns ({theirs}; got {ours}): both sites of a DR pair carry the "
            "same zone and ingest domain",
        )


def _check_traffic(me: Member, estate: Estate) -> None:
    """A traffic stack's environment is an AWS environment of its name whose fleets are colour stacks
    and which carries `dns`; it declares the failover record exactly when that environment is the
    primary of a DR pair; its colour stacks exist, hold their colour and attach to that environment."""
    s, source = me.settings, me.source
    traffic = s.traffic
    assert traffic is not None
    env_name = short(s.environment_stack or "")
    env = estate.get(env_name)
    if env is None or env_name == me.name:
        raise SettingsError(
            source,
            _key("environment_stack"),
            f"no environment stack {env_name} in the project (Pulumi.{env_name}.yaml); stacks: "
            f"{', '.join(estate)}",
        )
    e = env.settings
    if (e.role, e.target) != ("environment", "aws") or e.fleets is not None or e.dns is None:
        raise SettingsError(
            source,
            _key("environment_stack"),
            f"{env.source} must be an AWS environment whose fleets are colour stacks (no fleets) and "
            f"which carries dns (it is role {e.role}, target {e.target}, "
            f"{'with' if e.fleets is not None else 'no'} fleets, {'with' if e.dns else 'no'} dns)",
        )
    if e.environment != s.environment:
        raise SettingsError(
            source,
            _key("environment"),
            f"must be its environment stack's environment {e.environment!r} ({env.source}; got "
            f"{s.environment!r})",
        )
    primary = e.dr is not None and e.dr.site == "primary"
    if traffic.failover != primary:
        raise SettingsError(
            source,
            _key("traffic", "failover"),
            f"must be {str(primary).lower()}: {env.source} is {'' if primary else 'not '}the primary "
            "site of a DR pair (the PRIMARY failover record lives with the primary's traffic switch)",
        )
    for colour, stack in sorted(traffic.colour_stacks.items()):
        key = _key("traffic", "colour_stacks", colour)
        member = estate.get(short(stack))
        if member is None:
            missing = short(stack)
            raise SettingsError(source, key, f"no stack {missing} in the project (Pulumi.{missing}.yaml)")
        c = member.settings
        if c.role != "fleet-colour" or c.colour != colour or short(c.environment_stack or "") != env_name:
            raise SettingsError(
                source,
                key,
                f"{member.source} must be a fleet-colour stack of colour {colour} attached to {env_name} "
                f"(it is role {c.role}, colour {c.colour}, environment_stack {c.environment_stack})",
            )


# One line per `raise SettingsError` of the rules above, in their order (docs/settings.md; the count is
# kept in step by tests/settings/test_estate.py).
ESTATE_RULES: tuple[str, ...] = (
    "No two stacks' `network.cidr` overlap or repeat.",
    "No stack's `network.cidr` overlaps another stack's `source_cidrs`, `enrichment_cidrs` or "
    "`destination_cidrs`.",
    "No stack's `source_cidrs`, `enrichment_cidrs` or `destination_cidrs` overlap another stack's "
    "`network.cidr`.",
    "`dr.peer_stack` does not name the stack itself.",
    "`dr.peer_stack` is a stack of the project (its `Pulumi.<stack>.yaml` exists).",
    "The DR peer has `dr` and `network` sections.",
    "A DR pair is one `dr.site: primary` and one `dr.site: dr` (not two primaries, not two DR sites).",
    "The DR peer's `dr.peer_stack` names this stack back.",
    "`dr.peer_region` is the peer's aws:region.",
    "`dr.peer_cidr` is the peer's `network.cidr`.",
    "A fleet-colour stack's `environment_stack` does not name the stack itself.",
    "A fleet-colour stack's `environment_stack` is a stack of the project.",
    "A fleet-colour stack's `environment_stack` is an AWS environment.",
    "A fleet-colour stack has its environment stack's `environment`.",
    "A fleet-colour stack is in its environment stack's aws:region.",
    "A fleet-colour stack's environment has no `fleets` (its fleets are colour stacks).",
    "Both sites of a DR pair carry the same `dns` (zone and ingest domain).",
    "A traffic stack's `environment_stack` is a stack of the project.",
    "A traffic stack's `environment_stack` is an AWS environment without `fleets` that carries `dns`.",
    "A traffic stack has its environment stack's `environment`.",
    "A traffic stack's `traffic.failover` is true exactly when its environment is the primary of a DR pair.",
    "Each of `traffic.colour_stacks` is a stack of the project.",
    "Each of `traffic.colour_stacks` is a fleet-colour stack of that colour attached to the traffic "
    "stack's environment.",
)
ESTATE_CHECKS = ("check_stack", "_check_dr_peer", "_check_colour_environment", "_check_dns_pair",
                 "_check_traffic")
