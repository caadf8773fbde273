#!/bin/bash
# Daily verification of the ScyllaDB backups (seed 003 Backup Verification; seed 000 Backup ScyllaDB
# Data): Scylla Manager's own client lists the snapshots of the cluster in the backup location newer
# than MAX_AGE_HOURS. Exit 1 if there is none; the CronJob's failure raises BackupVerificationFailed.
# Environment: SCYLLA_MANAGER_URL, CLUSTER (namespace/name), LOCATION (s3:<bucket>), MAX_AGE_HOURS.
set -euo pipefail
since=$(date -u -d "-${MAX_AGE_HOURS} hours" +%Y-%m-%dT%H:%M:%SZ)
listing=$(sctool --api-url "$SCYLLA_MANAGER_URL" backup list --cluster "$CLUSTER" \
  --location "$LOCATION" --min-date "$since")
echo "$listing"
count=$(grep -c 'sm_[0-9]\{14\}UTC' <<<"$listing" || true)
if [ "$count" -lt 1 ]; then
  echo "backup verification failed: no ScyllaDB snapshot of $CLUSTER in $LOCATION since $since" >&2
  exit 1
fi
echo "$CLUSTER: $count snapshot(s) since $since"
