#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench.sh - `make bench`: time the classifier on the shared corpus in one
# process, one thread (emails/s with parsing, classify() strings/s, peak
# RSS), and, when libsisimai-perl is installed, Sisimai on the same files.
srcdir=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${TOP_BUILDDIR:-.}
emails="$srcdir/../shared/corpus/emails"
if [ ! -d "$emails" ]; then
	echo "bench: no corpus at $emails" >&2
	exit 77
fi
echo "== bounced (bench/bench_classify, single thread)"
"$builddir/bench/bench_classify" -t "${BENCH_SECONDS:-3}" "$emails"/*.eml ||
    exit 1

if perl -MSisimai -e 1 2>/dev/null; then
	echo "== Sisimai $(perl -MSisimai -e 'print $Sisimai::VERSION') \
(Sisimai->rise or ->make on the same files, one pass)"
	perl -MSisimai -MTime::HiRes=time -e '
		my ($n, $r, $t0) = (0, 0, time);
		for my $f (@ARGV) {
			my $v = (Sisimai->can("rise") ? Sisimai->rise($f)
			    : Sisimai->make($f)) // [];
			$n++; $r += scalar @$v;
		}
		my $t = time - $t0;
		printf "emails:      %d files, %d results, %.0f emails/s\n",
		    $n, $r, $n / $t;
		open my $fh, "<", "/proc/self/status";
		while (<$fh>) { printf "peak RSS:    %.1f MB\n", $1 / 1024
		    if /^VmHWM:\s+(\d+)/ }
	' "$emails"/*.eml 2>/dev/null
else
	echo "== Sisimai not installed (libsisimai-perl): no comparison"
fi
