#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# bench/milter/sends.sh - `make bench-sends`: what RecordSends (the trust
# policy's sends, issue 10) adds to an ordinary message.  A private
# bounced (database and socket in a temporary folder, the default
# synchronous=FULL store) is driven by milterbench over the milter
# protocol with ordinary mail, one message at a time, alternately with
# "RecordSends no" (accepted at MAIL FROM, nothing kept) and "RecordSends
# yes" (accepted at the end of the header, the sends queued and written
# by the writer thread), BENCH_ROUNDS times each; then BENCH_C at once.
# Prints every run, the median of the rounds, and the difference:
#   mean_ms   wall time per message (run time / messages), one at a time
#   p50_ms    median latency of a message, MAIL FROM to the last answer
#   cpu_ms    the milter's CPU time per message (its threads, all of them)
# and checks at the end that every send reached the database.
# Environment: TOP_BUILDDIR, BENCH_N (3000), BENCH_ROUNDS (5), BENCH_C (8).
set -eu
b=${TOP_BUILDDIR:-.}
n=${BENCH_N:-3000}
rounds=${BENCH_ROUNDS:-5}
c=${BENCH_C:-8}
mb=$b/bench/milter/milterbench
dir=$(mktemp -d "${TMPDIR:-/tmp}/bounced-sends.XXXXXX")
chmod 0755 "$dir"
user=$(id -un)
[ "$(id -u)" = 0 ] && user=nobody && chown nobody "$dir"
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

start() {	# RecordSends yes|no
	rm -f "$dir/sock"
	cat >"$dir/bounced.conf" <<CONF
Socket unix:$dir/sock
UserID $user
Database $dir/bounced.db
Syslog no
LogLevel info
RecordSends $1
CONF
	"$b/bounced" -f -c "$dir/bounced.conf" >>"$dir/bounced.log" 2>&1 &
	pid=$!
	i=0
	while [ ! -S "$dir/sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 0.5
	"$mb" -s "unix:$dir/sock" -n 200 -c 1 -m ordinary -t "w$1" >/dev/null
}

stop() {
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
}

# field NAME LINE - the value of NAME=... in a milterbench line
field() {
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

: >"$dir/results"
r=1
while [ $r -le "$rounds" ]; do
	for rs in no yes; do
		start $rs
		line=$("$mb" -s "unix:$dir/sock" -p "$pid" -n "$n" -c 1 \
		    -m ordinary -t "r$r$rs")
		stop
		echo "RecordSends $rs, round $r: $line"
		echo "$rs $(field seconds "$line") $(field p50_ms "$line") \
$(field cpu_ms_per_msg "$line")" >>"$dir/results"
	done
	r=$((r + 1))
done
awk -v n="$n" '
function median(a, k,    i, j, t) {
	for (i = 1; i <= k; i++)
		for (j = i + 1; j <= k; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{ k[$1]++; m[$1, k[$1]] = $2 * 1000 / n; p[$1, k[$1]] = $3
  u[$1, k[$1]] = $4 }
END {
	for (s in k) {
		for (i = 1; i <= k[s]; i++) {
			x[i] = m[s, i]; y[i] = p[s, i]; z[i] = u[s, i]
		}
		mm[s] = median(x, k[s]); pp[s] = median(y, k[s])
		uu[s] = median(z, k[s])
		printf "median of %d rounds, RecordSends %-3s: mean_ms=%.3f " \
		    "p50_ms=%.3f cpu_ms=%.3f\n", k[s], s, mm[s], pp[s], uu[s]
	}
	printf "added by RecordSends per ordinary message: mean_ms=%+.3f " \
	    "p50_ms=%+.3f cpu_ms=%+.3f\n", mm["yes"] - mm["no"],
	    pp["yes"] - pp["no"], uu["yes"] - uu["no"]
}' "$dir/results"
for rs in no yes; do
	start $rs
	echo "RecordSends $rs, $c at once: $("$mb" -s "unix:$dir/sock" \
	    -p "$pid" -n "$((n * 3))" -c "$c" -m ordinary -t "c$rs")"
	stop
done
python3 - "$dir/bounced.db" "$n" "$rounds" "$c" <<'PY'
import sqlite3, sys
db, n, rounds, c = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
got = sqlite3.connect(db).execute(
    "SELECT COUNT(*) FROM sends WHERE queue_id LIKE 'Dr%yes%' OR "
    "queue_id LIKE 'Dcyes%'").fetchone()[0]
want = n * rounds + n * 3
print("sends in the database: %d of %d%s" % (got, want,
    "" if got == want else "  <-- MISSING"))
sys.exit(0 if got == want else 1)
PY
