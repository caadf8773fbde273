#!/bin/sh
# The sink side of the daily CDC reconciliation (seed 000): for each table, reconciliation.record()
# counts the sink's rows (warehouse.cdc_data.<table>) and inserts one row with both counts and the
# accuracy, all tables in one transaction. The role's credentials are read from the Secret mounted
# under $CREDENTIALS_DIR (files), never from the pod's environment: only psql gets them.
# Environment: TABLES (comma-separated), COUNTS_DIR, CREDENTIALS_DIR, PGHOST, PGPORT, PGDATABASE,
# PGSSLMODE.
set -eu

sql=/tmp/record.sql
echo 'BEGIN;' > "$sql"
for table in $(printf '%s' "$TABLES" | tr ',' ' '); do
    case "$table" in
        '' | *[!a-z0-9_]*) echo "not a CDC table name: $table" >&2; exit 1 ;;
    esac
    rows=$(cat "$COUNTS_DIR/$table.count")
    case "$rows" in
        '' | *[!0-9]*) echo "no source row count for $table" >&2; exit 1 ;;
    esac
    printf "SELECT '%s' AS table_name, %s AS source_rows, reconciliation.record('%s', %s) AS accuracy_percentage;\n" \
        "$table" "$rows" "$table" "$rows" >> "$sql"
done
echo 'COMMIT;' >> "$sql"

test -r "$CREDENTIALS_DIR/username"
test -r "$CREDENTIALS_DIR/password"
PGUSER="$(cat "$CREDENTIALS_DIR/username")" PGPASSWORD="$(cat "$CREDENTIALS_DIR/password")" \
    exec psql -X -v ON_ERROR_STOP=1 -d "$PGDATABASE" -f "$sql"
