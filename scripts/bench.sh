#!/usr/bin/env bash
# Runs every benchmark recorded in docs/BENCHMARKS.md, each group in its own process (so one
# group's heap does not colour another's memory figures), and prints the machine first.
# PostgreSQL benchmarks need 127.0.0.1:5432 or TEST_DATABASE_URL.
# Usage: scripts/bench.sh [extra go test flags, e.g. -count 3]
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version)"

echo "== envelope: normalized handler vs bare Echo (same JSON), error path vs Echo's default"
go test -run '^$' -bench 'Success|Error' -benchtime 200000x -count 3 "$@" ./internal/normalize/

echo "== outbound call: bare vs recording transport vs synchronous insert per call"
go test -run '^$' -bench 'BenchmarkCall' -benchtime 1x "$@" ./internal/integration/
go test -run '^$' -bench 'RecorderOverhead' -benchtime 200000x -count 3 "$@" ./internal/integration/
go test -run '^$' -bench 'FlusherBuild|RedactBody' -benchtime 20000x -count 3 "$@" ./internal/integration/

echo "== flush: COPY through the buffer vs psql \\copy of the same rows"
go test -run '^$' -bench 'FlushPostgres' -benchtime 1x "$@" ./internal/integration/

echo "== memory: 1 000 000 records with the database down"
go test -run '^$' -bench 'BurstDBDown' -benchtime 1x "$@" ./internal/integration/

echo "== prune: 1 000 000 expired rows while inserts continue"
go test -run '^$' -bench 'Prune' -benchtime 1x -timeout 30m "$@" ./internal/jobs/
