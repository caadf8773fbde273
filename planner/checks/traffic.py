"""Fleet traffic: every environment that scrapes fleets (and is not a warm standby) labels at least one
colour of the fleets its scrape jobs discover `traffic="active"`.

The fleet alerts match `traffic="active"` (docs/fleets.md "Blue/green"), so an environment whose
scrape jobs call every discovered fleet idle pages nobody about its fleets. That happens when the
traffic switch names a colour whose stack is absent or declares no fleets, when the switch's weights
leave no colour above 0, or when the label is computed without the switch (an environment switched by
a traffic stack reads it from that stack's committed file: stacks/settings/estate.py
traffic_switch_of, stacks/compose/observability.fleet_traffic).

Read from the plans, as Prometheus sees them: a fleet scrape job's targets are the Auto Scaling groups
of the estate whose launch-propagated tags pass the job's `tag:` filters, in the job's region; the
`traffic` label of a colour is the job's relabelling applied to the group's Colour tag.

The fleets an environment scrapes may live in stacks it does not reference (prod's colour stacks
read prod, not the other way round), so the check judges only a whole estate: with committed stacks
left out of the evaluation (`left_out`, e.g. `plan --stack prod`), it cannot tell an absent fleet from
an unevaluated one and reports nothing (`make plan-all` and the tests evaluate the whole estate).
"""

from __future__ import annotations

import re
from typing import Any

from planner.checks import Check, Finding
from planner.checks.model import get, label, resources, stacks

ASG = "aws:autoscaling/group:Group"
COLOUR_TAG = "__meta_ec2_tag_Colour"


def _scrape_jobs(stack: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(Prometheus release, scrape job) of every EC2-discovered scrape job of the stack."""
    return [
        (rel, cfg)
        for rel in resources(stack, "kubernetes:helm.sh/v3:Release")
        for cfg in get(
            rel, "inputs", "values", "prometheus", "prometheusSpec", "additionalScrapeConfigs", default=[]
        )
        or []
        if cfg.get("ec2_sd_configs")
    ]


def _tags(asg: dict[str, Any]) -> dict[str, str]:
    """The tags an Auto Scaling group gives its instances (what EC2 discovery sees)."""
    return {
        str(t.get("key")): str(t.get("value"))
        for t in get(asg, "inputs", "tags", default=[]) or []
        if t.get("propagateAtLaunch")
    }


def discovered(job: dict[str, Any], estate: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(stack, Auto Scaling group) of every group of the estate whose instances the job discovers."""
    out = []
    for sd in job.get("ec2_sd_configs") or []:
        filters = {
            f["name"].removeprefix("tag:"): set(f.get("values") or [])
            for f in sd.get("filters") or []
            if str(f.get("name", "")).startswith("tag:")
        }
        for name, stack in stacks(estate):
            if sd.get("region") and stack.get("region") and sd["region"] != stack["region"]:
                continue
            for asg in resources(stack, ASG):
                tags = _tags(asg)
                if all(tags.get(key) in values for key, values in filters.items()):
                    out.append((name, asg))
    return out


def traffic_of(job: dict[str, Any], colour: str) -> str | None:
    """The `traffic` label the job's relabelling gives a target of Colour tag `colour` (Prometheus's
    replace action: source labels joined with `;`, the regex anchored, `(.*)` by default)."""
    value = None
    for rule in job.get("relabel_configs") or []:
        if rule.get("target_label") != "traffic" or rule.get("action", "replace") != "replace":
            continue
        sources = rule.get("source_labels") or []
        text = ";".join(colour if s == COLOUR_TAG else "" for s in sources)
        if re.fullmatch(rule.get("regex", "(.*)"), text):
            value = rule.get("replacement", "$1")
    return value


def _standby(stack: dict[str, Any]) -> bool:
    dr = stack.get("dr") or {}
    return dr.get("site") == "dr" and dr.get("role") == "standby"


def run(estate: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    if estate.get("left_out"):
        return findings
    for name, stack in stacks(estate):
        if _standby(stack):
            continue  # a warm standby's fleets take no traffic until it is promoted
        for rel, job in _scrape_jobs(stack):
            targets = discovered(job, estate)
            colours: dict[str, set[str]] = {}
            for owner, asg in targets:
                colours.setdefault(_tags(asg).get("Colour", ""), set()).add(owner)
            active = sorted(c for c in colours if traffic_of(job, c) == "active")
            if active:
                continue
            where = f"scrape job {job.get('job_name')}"
            if not targets:
                why = "discovers no fleet of the estate (no Auto Scaling group passes its tag filters)"
            else:
                found = ", ".join(
                    f"{c or 'no Colour tag'} ({', '.join(sorted(owners))}): "
                    f"{traffic_of(job, c) or 'unlabelled'}"
                    for c, owners in sorted(colours.items())
                )
                why = f"labels none of the fleets it discovers active ({found})"
            switch = _switch_of(name, stack, estate)
            findings.append(
                Finding(
                    "fleet-traffic",
                    name,
                    label(rel),
                    f"{where} {why}: no fleet alert of {name} fires"
                    + (f" (traffic switch: {switch})" if switch else ""),
                )
            )
    return findings


def _switch_of(name: str, stack: dict[str, Any], estate: dict[str, Any]) -> str:
    """Where the environment's traffic switch is and what it names, for the message."""
    for owner, s in [(name, stack)] + [
        (n, o)
        for n, o in stacks(estate)
        if o.get("role") == "traffic" and str(o.get("environment_stack") or "").rsplit("/", 1)[-1] == name
    ]:
        t = s.get("traffic")
        if t:
            weights = t.get("weights")
            routed = (
                f"weights {', '.join(f'{c} {w}' for c, w in sorted(weights.items()))}"
                if weights
                else f"active {t.get('active')}"
            )
            return f"{owner}'s traffic: {routed}"
    return ""


CHECK = Check(
    "fleet-traffic",
    "high",
    "mandatory",
    "every environment that scrapes fleets labels a colour it runs active (its fleet alerts can fire)",
    run,
)
