"""The committed stacks run every check in CI: their findings today are exactly the known ones
(tests/planner/known_findings.py, each with its review item; empty now, so `make plan-all` exits 0).
A fix deletes the lines it fixes; a check is never weakened to pass."""

from __future__ import annotations

import copy

from planner.checks import failed_mandatory, run_checks
from planner.report import estate_json
from tests.conftest import estate_of
from tests.planner.known_findings import KNOWN


def _current():
    estate = estate_of()
    data = estate_json(estate)
    results = run_checks(data)
    rows = {(f"estate:{e.kind}", ",".join(e.stacks), "-", e.message) for e in estate.errors}
    rows |= {(r["check"], f["stack"], f["resource"], f["message"]) for r in results for f in r["findings"]}
    return rows, results


def test_current_findings_are_exactly_the_known_ones():
    rows, _ = _current()
    known = {row[1:] for row in KNOWN}
    assert len(known) == len(KNOWN), "a known finding is listed twice"
    new = sorted(rows - known)
    fixed = sorted(known - rows)
    assert not new, f"{len(new)} findings not in known_findings.py (fix them or list them): {new[:5]}"
    assert not fixed, (
        f"{len(fixed)} known findings no longer occur: delete them from known_findings.py: {fixed[:5]}"
    )


def test_every_known_finding_names_its_review_item():
    assert all(item and item != "?" for item, *_ in KNOWN)


def test_mandatory_checks_fail_on_the_committed_stacks():
    _, results = _current()
    # order passes since the prod-traffic stack (issue 11 item 1), permissions since the EBS key (item 4),
    # stateful safety since protection (item 10) and autoscaled capacity in ignore_changes (item 8),
    # name resolution and reachability since the DR pair's ScyllaDB seed names (review B3), observability
    # since the daily CDC reconciliation exports seed 000's data accuracy (a CloudNativePG custom query)
    assert failed_mandatory(results) == []


def test_every_environment_of_the_committed_estate_has_an_active_colour():
    """fleet-traffic passes on the committed stacks, on what it is meant to see: prod's scrape jobs
    discover both colour stacks' fleets and label blue (Pulumi.prod-traffic.yaml traffic.active)
    active; staging's own blue fleets are active; the warm standby prod-dr is not held to it."""
    from planner.checks import traffic

    data = estate_json(estate_of())
    assert traffic.run(data) == []
    seen = {}
    for name in ("prod", "staging"):
        for _, job in traffic._scrape_jobs(data["stacks"][name]):
            owners = {(o, traffic._tags(a)["Colour"]) for o, a in traffic.discovered(job, data)}
            seen[name, job["job_name"]] = (
                sorted(owners),
                sorted({c for _, c in owners if traffic.traffic_of(job, c) == "active"}),
            )
    prod = ([("prod-blue", "blue"), ("prod-green", "green")], ["blue"])
    assert seen == {
        ("prod", "fleet-modules"): prod,
        ("prod", "fleet-nodes"): prod,
        ("staging", "fleet-modules"): ([("staging", "blue")], ["blue"]),
        ("staging", "fleet-nodes"): ([("staging", "blue")], ["blue"]),
    }
    # the check reads the switch: prod with every colour idle (its label computed without the switch)
    # fails it
    idle = [{"replacement": "idle", "target_label": "traffic"}]
    data = copy.deepcopy(data)  # the plans are shared by the session's tests
    for _, job in traffic._scrape_jobs(data["stacks"]["prod"]):
        job["relabel_configs"] = idle
    assert {f.stack for f in traffic.run(data)} == {"prod"}
