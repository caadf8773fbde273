"""Every resource rule passes its passing case and fires on each violating case (one field of the
passing resource changed): called directly (the offline plan's path) and through pulumi-policy's
analyzer over gRPC, as a `pulumi up` sends the resource (all inputs known) and as a `pulumi preview`
of a new stack does (the inputs computed from other resources unknown)."""

from __future__ import annotations

import pytest

from policies import RULES
from policies.props import Res
from policies.rules import RULES_BY_NAME
from tests.policies.analyzer import Sent
from tests.policies.cases import CASES, Case, mutate

IDS = [c.rule for c in CASES]


def variants(case: Case) -> list[tuple[str, dict, dict]]:
    out = [(f"{path}={value!r}", mutate(case.props, path, value), case.options) for path, value in case.bad]
    out += [(f"options={o}", case.props, o) for o in case.bad_options]
    return out


def direct(case: Case, props: dict, options: dict) -> list[str]:
    return RULES_BY_NAME[case.rule].run(Res(case.type, case.urn, case.name, props, options))


def sent(case: Case, props: dict, options: dict) -> Sent:
    return Sent(case.type, case.urn, case.name, props, options, computed=case.computed)


def test_every_rule_has_a_case_and_every_case_a_violation():
    assert {c.rule for c in CASES} == {r.name for r in RULES}
    for case in CASES:
        assert variants(case), case.rule


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_rule_direct(case):
    assert direct(case, case.props, case.options) == []
    for label, props, options in variants(case):
        assert direct(case, props, options), f"{case.rule} does not fire on {label}"


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_rule_through_the_analyzer(case, preview, analyzer):
    def mine(diags):
        return [d for d in diags if d.policy == case.rule]

    passing = analyzer.analyze(sent(case, case.props, case.options), preview)
    assert mine(passing) == []
    # no rule gives up on the whole resource because another input is unknown (review B1)
    assert [d for d in passing if "during preview" in d.message] == []
    for label, props, options in variants(case):
        found = mine(analyzer.analyze(sent(case, props, options), preview))
        assert found, (
            f"{case.rule} does not fire through the analyzer on {label} ({'preview' if preview else 'up'})"
        )
        rule = RULES_BY_NAME[case.rule]
        assert {d.enforcement for d in found} == {rule.enforcement}


def test_an_unknown_checked_field_is_skipped_for_that_field_only(analyzer):
    """httpTokens unknown: the IMDS rule cannot decide it and says nothing (no advisory for the whole
    resource); the hop limit, still known, is checked."""
    case = next(c for c in CASES if c.rule == "imdsv2-required")
    props = mutate(
        mutate(case.props, "metadataOptions.httpTokens", "[unknown]"),
        "metadataOptions.httpPutResponseHopLimit",
        2,
    )
    assert [d for d in analyzer.analyze(sent(case, props, {}), True) if d.policy == case.rule] == []
    props = mutate(case.props, "userData", "[unknown]")
    props = mutate(props, "metadataOptions.httpTokens", "optional")
    found = analyzer.analyze(sent(case, props, {}), True)
    assert [d.enforcement for d in found if d.policy == case.rule] == ["mandatory"]


def test_catalogue_entries_are_complete():
    for r in RULES:
        assert r.severity in ("low", "medium", "high", "critical"), r.name
        assert r.enforcement in ("advisory", "mandatory"), r.name
        assert r.source and r.description, r.name
    assert len(RULES) >= 30


def test_a_joining_datacenter_with_seeds_unknown_at_preview_is_not_a_missing_backup(analyzer):
    """The DR site's ScyllaDB joins the primary's cluster (externalSeeds from a StackReference, unknown
    at a preview of a new stack) and is backed up by the primary's task: no finding. With no seeds and
    no task it is one."""
    case = next(c for c in CASES if c.rule == "datastore-backup-schedule")
    no_task = mutate(case.props, "spec.backups", [])
    joining = mutate(no_task, "spec.externalSeeds", "[unknown]")
    assert [d for d in analyzer.analyze(sent(case, joining, {}), True) if d.policy == case.rule] == []
    assert direct(case, mutate(no_task, "spec.externalSeeds", ["scylla-0.example"]), {}) == []
    assert direct(case, no_task, {}) == ["ScyllaCluster has no backup task (spec.backups)"]
