"""The committed stacks run every check in CI: their findings today are exactly the known ones
(tests/planner/known_findings.py, each with its review item). `make plan-all` exits 1 on them; the
[deployable] issue fixes the stacks and deletes the lines it fixes. A check is never weakened to pass."""

from __future__ import annotations

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
    # stateful safety since protection (item 10) and autoscaled capacity in ignore_changes (item 8); the
    # DR site's ScyllaDB seeds (name resolution, reachability) and seed 000's data accuracy metric
    # (observability) remain
    assert failed_mandatory(results) == [
        "name-resolution",
        "reachability",
        "observability",
    ]
