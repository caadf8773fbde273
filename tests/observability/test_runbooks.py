"""Runbooks: every alert links a runbook that exists in seed 002's template, and every runbook names
only alerts that exist (and all the alerts that name it)."""

from __future__ import annotations

import shutil

from components.observability import rules, runbooks

# seed 003 Alert Definitions: the seed's 18 runbook names, each a document now
SEED_003_RUNBOOKS = {
    "runbook-alpha-ingestion-stopped",
    "runbook-alpha-parse-errors",
    "runbook-alpha-buffer-full",
    "runbook-alpha-source-connection",
    "runbook-alpha-validation-spike",
    "runbook-beta-transformation-stopped",
    "runbook-beta-quality-low",
    "runbook-beta-enrichment-cache",
    "runbook-beta-queue-growth",
    "runbook-beta-latency",
    "runbook-gamma-delivery-stopped",
    "runbook-gamma-dlq-growth",
    "runbook-gamma-destination-down",
    "runbook-gamma-latency",
    "runbook-gamma-circuit-breaker",
    "runbook-pipeline-throughput",
    "runbook-pipeline-latency-sla",
    "runbook-multiple-circuit-breakers",
}
# the procedures an operator needs from the platform (seed 003 Runbook G/K, State Recovery, Database
# Recovery; seed 000 Restore ScyllaDB, Restore Kafka Connect Offsets; seed 003 Backup Verification)
PROCEDURES = {
    "emergency-shutdown-restart",
    "module-state-restore",
    "postgres-pitr",
    "scylla-restore",
    "connect-offsets-restore",
}


def test_every_link_between_alerts_and_runbooks_holds():
    assert runbooks.check(rules.alerts()) == []


def test_the_seed_runbooks_and_procedures_exist():
    stems = {p.stem for p in runbooks.FOLDER.glob("*.md")}
    assert stems >= SEED_003_RUNBOOKS | PROCEDURES


def test_alert_annotation_links_the_runbook_file():
    for group in rules.rule_groups():
        for rule in (r for r in group["rules"] if "alert" in r):
            url = rule["annotations"]["runbook_url"]
            assert url == f"docs/runbooks/{rule['annotations']['runbook']}.md"
            assert (runbooks.FOLDER.parents[1] / url).is_file(), url


def _copy(tmp_path):
    folder = tmp_path / "runbooks"
    shutil.copytree(runbooks.FOLDER, folder)
    return folder


def test_a_missing_runbook_is_reported(tmp_path):
    folder = _copy(tmp_path)
    (folder / "runbook-postgres-down.md").unlink()
    assert runbooks.check(rules.alerts(), folder) == [
        "PostgresDown: runbook runbook-postgres-down.md does not exist"
    ]


def test_a_runbook_naming_a_missing_alert_is_reported(tmp_path):
    folder = _copy(tmp_path)
    path = folder / "runbook-postgres-down.md"
    path.write_text(
        path.read_text().replace("- Alerts: `PostgresDown`", "- Alerts: `PostgresDown`, `PostgresGone`")
    )
    assert runbooks.check(rules.alerts(), folder) == [
        "runbook-postgres-down.md: names alert PostgresGone, which does not exist"
    ]


def test_an_orphan_runbook_an_unlisted_alert_and_a_broken_template_are_reported(tmp_path):
    folder = _copy(tmp_path)
    orphan = (folder / "runbook-postgres-down.md").read_text()
    (folder / "runbook-postgres-gone.md").write_text(orphan)
    path = folder / "runbook-kafka-broker-down.md"
    path.write_text(
        path.read_text().replace(", `KafkaNoActiveController`", "").replace("## Prevention", "## Notes")
    )
    errors = runbooks.check(rules.alerts(), folder)
    assert "runbook-postgres-gone.md: no alert names this runbook" in errors
    assert "runbook-postgres-gone.md: not listed in README.md" in errors
    assert "runbook-kafka-broker-down.md: does not list KafkaNoActiveController, which names it" in errors
    assert any(e.startswith("runbook-kafka-broker-down.md: sections") for e in errors)
    assert len(errors) == 4, errors
