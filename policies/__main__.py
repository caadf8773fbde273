"""CrossGuard pack: the pure rules of this folder enforced by `pulumi preview/up --policy-pack policies`
and uploadable with `pulumi policy publish` (which sends only this folder).

The CLI starts a Python pack as `python -m pulumi.policy <engine> <pack folder>`, which runs this file
as a script. The folder is then loaded as the package `policies` from its own path (nothing outside it
is imported), so that the rule modules' relative imports work. Each rule reads the analyzer's own
property proxies through policies.props: an unknown input at preview is unknown for that field only.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyPack,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

PACK = Path(__file__).resolve().parent


def _load_package():
    """This folder as the package `policies` (unless it already is, as in the tests)."""
    loaded = sys.modules.get("policies")
    if loaded is not None and Path(loaded.__file__).resolve().parent == PACK:
        return loaded
    spec = importlib.util.spec_from_file_location(
        "policies", PACK / "__init__.py", submodule_search_locations=[str(PACK)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["policies"] = module
    spec.loader.exec_module(module)
    return module


pack = _load_package()
from policies.props import Res  # noqa: E402
from policies.rules import RULES  # noqa: E402
from policies.stack_rules import STACK_RULES  # noqa: E402

LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}
SEVERITY = {
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}


def _options(opts) -> dict:
    if opts is None:
        return {}
    return {
        "protect": bool(opts.protect),
        "ignoreChanges": list(opts.ignore_changes or []),
        "deleteBeforeReplace": opts.delete_before_replace,
    }


def _framework(source: str) -> PolicyComplianceFramework:
    return PolicyComplianceFramework(name="pipeline-infra baseline", reference=source)


def _resource_policy(rule) -> ResourceValidationPolicy:
    def validate(args, report_violation):
        if not rule.applies(args.resource_type):
            return
        res = Res(
            type=args.resource_type,
            urn=args.urn,
            name=args.name,
            props=args.props,
            options=_options(args.opts),
        )
        for message in rule.run(res):
            report_violation(message)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        enforcement_level=LEVELS[rule.enforcement],
        validate=validate,
        severity=SEVERITY[rule.severity],
        framework=_framework(rule.source),
        tags=["resource", rule.source],
    )


def _stack_policy(rule) -> StackValidationPolicy:
    def validate(args, report_violation):
        resources = [
            Res(
                type=r.resource_type,
                urn=r.urn,
                name=r.name,
                props=r.props,
                options=_options(r.opts),
                dependencies=tuple(d.urn for d in r.dependencies),
                parent=r.parent.urn if r.parent is not None else None,
            )
            for r in args.resources
        ]
        for urn, message in rule.run(resources):
            report_violation(message, urn or None)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        enforcement_level=LEVELS[rule.enforcement],
        validate=validate,
        severity=SEVERITY[rule.severity],
        framework=_framework(rule.source),
        tags=["stack", rule.source],
    )


PolicyPack(
    name="pipeline-infra",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[*(_resource_policy(r) for r in RULES), *(_stack_policy(r) for r in STACK_RULES)],
)
