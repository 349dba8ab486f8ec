#!/usr/bin/env bash
# Figure 1 in instructions: each side of record_total_vs_otelhttp run alone under callgrind,
# twice (-rounds 1 and -rounds 3), the difference divided by the calls between them. The
# difference takes out what does not depend on the rounds: the runtime's start, the
# database's creation and migration, the warm-up. What is left is 2 x CALLS calls with their
# rounds' flushes and collections, in this process (PostgreSQL's own work is not in it).
#
#   bench/callgrind.sh            # CALLS=1000 by default; about 30 s
#
# GOMAXPROCS=1: valgrind runs one thread at a time, and with a second P the Go scheduler's
# idle threads spin looking for work, which under valgrind's serialization inflates the
# count by several times, by an amount that depends on timing (the otel side, whose span
# processor wakes a goroutine per span, most). With one P the count is of the work done.
# GODEBUG=asyncpreemptoff=1 keeps preemption signals out of it.
set -euo pipefail
cd "$(dirname "$0")"
calls=${CALLS:-1000} # figure 1's round: one production-sized flush per round
out=$(mktemp -d)
go build -o "$out/record" ./record
declare -A per
for side in bare recorded otel; do
	for rounds in 1 3; do
		GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind \
			--callgrind-out-file="$out/callgrind.$side.$rounds" \
			"$out/record" -side "$side" -rounds "$rounds" -calls "$calls" -warmup 100 \
			>"$out/stdout.$side.$rounds" 2>"$out/stderr.$side.$rounds"
	done
	ir1=$(awk '/^totals:/ {print $2}' "$out/callgrind.$side.1")
	ir3=$(awk '/^totals:/ {print $2}' "$out/callgrind.$side.3")
	per[$side]=$(((ir3 - ir1) / (2 * calls)))
	echo "IR $side ${per[$side]} instructions/call"
done
awk -v b="${per[bare]}" -v r="${per[recorded]}" -v o="${per[otel]}" 'BEGIN {
	printf "IR recorded/otel %.3f x (record_total_vs_otelhttp in instructions)\n", r / o
	printf "IR recorded-added/otel-added %.2f x\n", (r - b) / (o - b)
}'
echo "callgrind files (callgrind_annotate FILE): $out"
