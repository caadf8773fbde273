#!/bin/sh
# The source side of the daily CDC reconciliation (seed 000): the rows of each CDC table in ScyllaDB,
# counted by cqlsh at LOCAL_QUORUM, written to $COUNTS_DIR/<table>.count for the recording step.
# Environment: SCYLLA_HOST, SCYLLA_PORT, KEYSPACE, TABLES (comma-separated), REQUEST_TIMEOUT (s),
# COUNTS_DIR. A count that cannot be read fails the run (no file, so no row is recorded).
set -eu

# cqlsh prints a result as a header line (" count"), a line of dashes, then the value.
parse_count() {
    awk 'found { gsub(/[[:space:]]/, ""); print; exit } /^[[:space:]]*-+[[:space:]]*$/ { found = 1 }'
}

for table in $(printf '%s' "$TABLES" | tr ',' ' '); do
    printf 'CONSISTENCY LOCAL_QUORUM;\nSELECT COUNT(*) FROM %s.%s;\n' "$KEYSPACE" "$table" > /tmp/count.cql
    out=$(cqlsh "$SCYLLA_HOST" "$SCYLLA_PORT" --no-color --request-timeout="$REQUEST_TIMEOUT" -f /tmp/count.cql)
    rows=$(printf '%s\n' "$out" | parse_count)
    case "$rows" in
        '' | *[!0-9]*)
            echo "cannot read the row count of $KEYSPACE.$table from cqlsh: $out" >&2
            exit 1
            ;;
    esac
    printf '%s\n' "$rows" > "$COUNTS_DIR/$table.count"
    echo "source $KEYSPACE.$table: $rows rows"
done
