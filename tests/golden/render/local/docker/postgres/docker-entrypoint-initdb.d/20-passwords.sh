#!/bin/sh
set -e
psql -v ON_ERROR_STOP=1 -v pw="$SINK_PASSWORD" --username postgres -c "ALTER ROLE cdc_sink WITH LOGIN PASSWORD :'pw'"
