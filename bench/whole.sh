#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# whole.sh - `make bench-whole`: the whole process, start-up and output
# included, as an operator runs it: `bouncectl classify --json FILE...`
# against Sisimai (Debian's libsisimai-perl, `Sisimai->make($path)` per
# file in one perl process, one line printed per result) on the same
# files (issue 8: >= 20x less CPU).  The in-process figures of `make
# bench` leave out start-up (loading libraries; the built-in rules are
# compiled at build time, src/tools/rules_gen.c).
#
# Two figures each:
#  - CPU time (user + system), the median of BENCH_RUNS (default 5) runs,
#    the two programs alternately so that load on the host hits both
#    (bounced's run is the mean of 20 in a row: time(1) counts in 10 ms);
#  - instructions under valgrind --tool=callgrind (one run each; the
#    figure does not depend on the host's load), when valgrind is
#    installed and BENCH_CALLGRIND is not 0.  Sisimai's run takes a
#    minute or two.
# Sisimai not installed: bounced's figures only.  Not a test.
# Files: BENCH_FILES (a shell glob), default ../shared/corpus/emails/*.eml.
srcdir=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${TOP_BUILDDIR:-.}
runs=${BENCH_RUNS:-5}
ctl="$builddir/bouncectl"
# shellcheck disable=SC2086
set -- ${BENCH_FILES:-"$srcdir/../shared/corpus/emails"/*.eml}
if [ ! -f "$1" ]; then
	echo "bench-whole: no files ($1)" >&2
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-whole.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
sisimai='use Sisimai; $|=0; for my $f (@ARGV) { my $v = Sisimai->make($f)
    or next; print join("\t", $f, $_->recipient->address, $_->reason),
    "\n" for @$v }'
have_sis=no
perl -MSisimai -e 1 2>/dev/null && have_sis=yes

# cpu N CMD...: user + system seconds of one run, the mean of N runs in a
# row (time(1) counts in hundredths: bounced takes a few of them)
cpu() {
	n=$1
	shift
	/usr/bin/time -f '%U %S' -o "$tmp/t" sh -c 'n=$1; shift; i=0
	    while [ "$i" -lt "$n" ]; do "$@"; i=$((i + 1)); done' sh "$n" \
	    "$@" >/dev/null 2>&1
	awk -v n="$n" '{ printf "%.4f\n", ($1 + $2) / n }' "$tmp/t"
}

median() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

echo "files: $# ($(cat "$@" | wc -c | awk '{ printf "%.1f MB", $1 / 1e6 }'))"
: > "$tmp/b"
: > "$tmp/s"
i=0
while [ "$i" -lt "$runs" ]; do
	cpu 20 "$ctl" classify --json "$@" >> "$tmp/b"
	[ "$have_sis" = yes ] && cpu 1 perl -e "$sisimai" "$@" >> "$tmp/s"
	i=$((i + 1))
done
b=$(median "$tmp/b")
echo "bounced: $b s CPU (median of $runs, bouncectl classify --json)"
if [ "$have_sis" = yes ]; then
	s=$(median "$tmp/s")
	echo "Sisimai $(perl -MSisimai -e 'print $Sisimai::VERSION'): $s s" \
	    "CPU (median of $runs, Sisimai->make per file)"
	awk -v b="$b" -v s="$s" 'BEGIN { if (b > 0)
	    printf "CPU time: bounced uses %.1fx less than Sisimai\n", s / b }'
else
	echo "Sisimai not installed (libsisimai-perl): no comparison"
fi

[ "${BENCH_CALLGRIND:-1}" != 0 ] && command -v valgrind >/dev/null 2>&1 ||
    exit 0
# instr CMD...: instructions of one run under callgrind
instr() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$@" \
	    >/dev/null 2>"$tmp/vg"
	sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$tmp/vg"
}
bi=$(instr "$ctl" classify --json "$@")
echo "bounced: $bi instructions (callgrind)"
if [ "$have_sis" = yes ]; then
	si=$(instr perl -e "$sisimai" "$@")
	echo "Sisimai: $si instructions (callgrind)"
	awk -v b="$bi" -v s="$si" 'BEGIN { if (b > 0)
	    printf "instructions: bounced runs %.1fx fewer than Sisimai\n",
	    s / b }'
fi
exit 0
