#!/usr/bin/env bash
# Runs the integration buffer's benchmarks once: COPY flush vs psql's \copy (needs PostgreSQL,
# see TEST_DATABASE_URL), then memory during a 1 000 000-record burst with the database down.
# The burst runs in its own process: its RSS figures would otherwise include the heap the
# flush benchmark left behind.
# Usage: scripts/bench-flush.sh [extra go test flags, e.g. -count 3]
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench 'FlushPostgres' -benchtime 1x "$@" ./internal/integration/
go test -run '^$' -bench 'BurstDBDown' -benchtime 1x "$@" ./internal/integration/
