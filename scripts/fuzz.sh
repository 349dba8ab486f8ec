#!/usr/bin/env bash
# Fuzzes each target for FUZZTIME (default 30s). `make test` only replays the seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-30s}"
go test -run '^$' -fuzz '^FuzzFormat$' -fuzztime "$t" ./internal/httperr/
go test -run '^$' -fuzz '^FuzzRequestBodies$' -fuzztime "$t" ./internal/example/
