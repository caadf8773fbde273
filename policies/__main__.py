"""CrossGuard policy pack: the pure rules of policies/rules.py enforced at `pulumi preview/up`
(`pulumi preview --policy-pack policies`). The offline plan runs the same rules over the mock run."""

import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies.rules import RULES  # noqa: E402


def _policy(rule):
    def validate(args, report_violation):
        for message in rule.check(args.resource_type, dict(args.props)):
            report_violation(message)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=validate,
    )


PolicyPack(name="pipeline-infra", enforcement_level=EnforcementLevel.MANDATORY,
           policies=[_policy(rule) for rule in RULES])
