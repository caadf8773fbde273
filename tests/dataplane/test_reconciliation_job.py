"""The daily CDC reconciliation as the AWS stacks render it (seed 000 Best Practices > Operations: "Run
daily reconciliation"): the CronJob, the Cluster's custom query ConfigMap and the staleness alert."""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from components.dataplane.postgres import reconciliation
from components.observability import rules
from lib import versions
from lib.cdc import default_tables

CRONJOB = "kubernetes:batch/v1:CronJob"


def _job(plan) -> dict:
    (job,) = [r.inputs for r in plan.of_type(CRONJOB) if r.inputs["metadata"]["name"] == reconciliation.JOB]
    return copy.deepcopy({k: v for k, v in job.items() if not k.startswith("__")})


def _pod(job: dict) -> dict:
    return job["spec"]["jobTemplate"]["spec"]["template"]["spec"]


@pytest.mark.parametrize("stack", ["staging", "prod", "prod-dr"])
def test_the_cronjob_is_valid_and_counts_every_replicated_table(plan_of, stack):
    job = _job(plan_of(stack))
    kubernetes_validate.validate(job, "1.33", strict=True)
    # seed 000 daily; reconciliation.yaml: after seed 003's 01:00-03:00 database backup window
    assert job["spec"]["schedule"] == "30 3 * * *" == reconciliation.settings()["schedule"]
    pod = _pod(job)
    (count,), (record,) = pod["initContainers"], pod["containers"]
    assert count["image"] == versions.IMAGES["scylla"] and record["image"] == versions.IMAGES["postgres"]
    env = {e["name"]: e.get("value") for c in (count, record) for e in c["env"]}
    assert env["TABLES"].split(",") == [t.name for t in default_tables()]  # lib/cdc.py (seed 000)
    assert env["KEYSPACE"] == "app_data" and env["SCYLLA_HOST"] == "scylla-client.scylla.svc"
    assert env["PGDATABASE"] == "warehouse" and env["PGSSLMODE"] == "require"
    # credentials only as files of the reconciler's Secret; nothing secret in the environment
    assert not [e for c in (count, record) for e in c["env"] if "valueFrom" in e]
    (secret,) = [v for v in pod["volumes"] if "secret" in v]
    assert secret["secret"]["secretName"].endswith("-cdc-reconciler")
    assert {"name": "credentials", "mountPath": reconciliation.CREDENTIALS_DIR, "readOnly": True} in record[
        "volumeMounts"
    ]
    assert "credentials" not in {m["name"] for m in count["volumeMounts"]}
    for c in (count, record):
        assert c["securityContext"]["readOnlyRootFilesystem"] and c["resources"]["limits"]["memory"]
    assert pod["securityContext"]["runAsNonRoot"] and pod["automountServiceAccountToken"] is False


def test_a_standby_suspends_it_and_promotion_resumes_it(plan_of):
    assert _job(plan_of("prod"))["spec"]["suspend"] is False
    assert _job(plan_of("prod-dr"))["spec"]["suspend"] is True
    assert _job(plan_of("prod-dr", {"dr.role": "primary"}))["spec"]["suspend"] is False


def test_the_cluster_exports_the_custom_query_of_the_rendered_configmap(plan_of):
    plan = plan_of("prod")
    (cluster,) = [r.inputs for r in plan.resources if r.inputs.get("kind") == "Cluster"]
    (ref,) = cluster["spec"]["monitoring"]["customQueriesConfigMap"]
    (cm,) = [
        r.inputs
        for r in plan.of_type("kubernetes:core/v1:ConfigMap")
        if r.inputs["metadata"]["name"] == ref["name"]
    ]
    assert cm["metadata"]["namespace"] == cluster["metadata"]["namespace"]
    queries = yaml.safe_load(cm["data"][ref["key"]])
    assert list(queries) == [reconciliation.QUERY]
    q = queries[reconciliation.QUERY]
    assert q["target_databases"] == ["warehouse"]
    assert "WHERE table_name IN ('users', 'orders')" in q["query"]


def test_the_staleness_alert_waits_stale_after_hours():
    (alert,) = [r for r in rules.alerts() if r["alert"] == "cdc_reconciliation_stale"]
    hours = reconciliation.settings()["stale_after_hours"]
    assert hours == 26  # a daily run plus its one-hour deadline, and margin
    assert re.search(rf"> {hours * 3600}$", alert["expr"].strip())


# The shape of a cqlsh result as the CQL documentation shows SELECT COUNT(*) (the header " count", a
# line of dashes, the value, a blank line, the row count). Written from that format, not captured from
# a cluster: only a live run proves cqlsh prints it so.
CQLSH_OUTPUT = """Consistency level set to LOCAL_QUORUM.

 count
-------
  1234

(1 rows)
"""


def _parse(text: str, tmp_path: Path) -> str:
    script = reconciliation.scripts()["count_scylla.sh"]
    program = re.search(r"awk '([^']+)'", script).group(1)
    return subprocess.run(["awk", program], input=text, capture_output=True, text=True, check=True).stdout


def test_the_count_script_parses_the_count_and_nothing_else(tmp_path):
    path = tmp_path / "count_scylla.sh"
    path.write_text(reconciliation.scripts()["count_scylla.sh"])
    assert subprocess.run(["sh", "-n", str(path)]).returncode == 0
    assert _parse(CQLSH_OUTPUT, tmp_path).strip() == "1234"
    assert _parse("Connection error: ('Unable to connect')\n", tmp_path).strip() == ""
