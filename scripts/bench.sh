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

echo "== recorded call vs otelhttp: total cost, and what recording adds to a 2 ms call (bench/)"
(cd bench && go run ./record)

echo "== the buffer's goroutine: building one record (redaction, header JSON, sanitize)"
go test -run '^$' -bench 'Build' -benchmem -count 3 "$@" ./internal/integration/
go test -run '^$' -bench 'Body1KiBJSON|SecretsAdd' -benchmem -count 3 "$@" ./internal/redact/

echo "== flush: COPY through the buffer vs psql \\copy of the same rows"
go test -run '^$' -bench 'FlushPostgres' -benchtime 1x "$@" ./internal/integration/

echo "== memory: 1 000 000 records with the database down, each variant in its own process"
go test -run '^$' -bench 'BurstDBDown/defaults' -benchtime 1x "$@" ./internal/integration/
go test -run '^$' -bench 'BurstDBDown/bytes-bound' -benchtime 1x "$@" ./internal/integration/

echo "== prune: 1 000 000 expired rows while inserts continue"
go test -run '^$' -bench 'Prune' -benchtime 1x -timeout 30m "$@" ./internal/jobs/
