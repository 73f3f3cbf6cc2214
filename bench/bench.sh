#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench.sh - `make bench`: time bounced on the shared corpus in one
# process, one thread, in CPU time (bench/bench_classify: emails/s parse +
# classify, classify() strings/s, peak RSS, the targets of issue 3) and,
# when libsisimai-perl is installed, Sisimai on the same emails the same
# way (bench/sisimai_bench.pl).  Not a test: figures depend on the host.
# BENCH_SECONDS (default 2) of CPU time per run, BENCH_RUNS (default 3)
# runs, best run reported.
srcdir=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${TOP_BUILDDIR:-.}
emails="$srcdir/../shared/corpus/emails"
secs=${BENCH_SECONDS:-2}
runs=${BENCH_RUNS:-3}
if [ ! -d "$emails" ]; then
	echo "bench: no corpus at $emails" >&2
	exit 77
fi
out=$(mktemp "${TMPDIR:-/tmp}/bench.XXXXXX") || exit 1
trap 'rm -f "$out" "$out.sis"' EXIT INT TERM

echo "== bounced: bench/bench_classify"
"$builddir/bench/bench_classify" -t "$secs" -k "$runs" "$emails"/*.eml |
    tee "$out"
[ -s "$out" ] || exit 1

if perl -MSisimai -e 1 2>/dev/null; then
	echo "== Sisimai $(perl -MSisimai -e 'print $Sisimai::VERSION') \
(libsisimai-perl): bench/sisimai_bench.pl, same emails, one Perl process"
	perl "$srcdir/bench/sisimai_bench.pl" "$secs" "$runs" \
	    "$emails"/*.eml | tee -a "$out.sis" || exit 1
	awk '$1 == "emails:" { r[FILENAME] = $2 }
	    END { if (r[ARGV[2]] > 0)
		printf "bounced/Sisimai: %.1fx the emails/s\n",
		    r[ARGV[1]] / r[ARGV[2]] }' "$out" "$out.sis"
	rm -f "$out.sis"
else
	echo "== Sisimai not installed (libsisimai-perl): no comparison"
fi
exit 0
