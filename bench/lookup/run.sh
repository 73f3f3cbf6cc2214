#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/lookup/run.sh N - lookups per second of `bouncectl status -`:
# a database of N/2 known recipients (a tenth of them suppressed by
# import, the rest suppressed then unsuppressed, so active with events),
# then N addresses asked in one process, half known and half never seen,
# in each output format (written to a file).
#
#	make bench-lookup		(N = 100000)
set -eu
n=${1:-100000}
ctl=${TOP_BUILDDIR:-.}/bouncectl
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

# the known half: every other address of the list; a tenth suppressed
awk -v n="$n" 'BEGIN {
	print "address,state,reason"
	for (i = 0; i < n; i += 2)
		printf "user%d@domain%d.example,%s,hard\n", i, i % 997,
		    (i % 20 == 0) ? "suppressed" : "active"
}' >"$t/known.csv"
awk -v n="$n" 'BEGIN {
	for (i = 0; i < n; i += 2)
		if (i % 20 != 0) printf "user%d@domain%d.example\n", i, i % 997
}' >"$t/active.txt"
awk -v n="$n" 'BEGIN {
	for (i = 0; i < n; i++) printf "user%d@domain%d.example\n", i, i % 997
}' >"$t/ask.txt"
"$ctl" --db "$t/b.db" --create import "$t/known.csv" >/dev/null
# known but active: suppressed, then unsuppressed (both kept as events)
"$ctl" --db "$t/b.db" suppress -f "$t/active.txt" >/dev/null
"$ctl" --db "$t/b.db" unsuppress -f "$t/active.txt" >/dev/null
known=$("$ctl" --db "$t/b.db" --csv list | tail -n +2 | wc -l)
echo "database: $known recipients known, $n addresses asked"

for fmt in --json --csv ""; do
	s=$(date +%s.%N)
	rc=0
	"$ctl" --db "$t/b.db" $fmt status - <"$t/ask.txt" >"$t/out" || rc=$?
	e=$(date +%s.%N)
	lines=$(wc -l <"$t/out")
	awk -v s="$s" -v e="$e" -v n="$n" -v f="${fmt:-table}" -v rc="$rc" \
	    -v l="$lines" 'BEGIN {
		printf "status - %-7s %d addresses in %.3f s: %.0f lookups/s " \
		    "(exit %d, %d lines out)\n", f, n, e - s, n / (e - s), rc, l
	}'
done
