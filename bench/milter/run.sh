#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# bench/milter/run.sh - `make bench-milter`: a private bounced (database
# and socket in a temporary folder) driven by milterbench over the milter
# protocol, one line of figures per run:
#   1. new bounces (a new recipient each), BENCH_N of them, BENCH_C at once
#   2. ordinary mail (accepted at MAIL FROM), BENCH_N messages
#   3. the same bounces and ordinary mail through noop_milter, a milter
#      that does nothing (bench/postfix/noop_milter.c): libmilter's floor;
#      and the same milter on bounced's engine (noop_engine): its floor
#   4. hostile bounces (bench/milter/hostile.py), BENCH_HOSTILE_C at once,
#      with the milter's peak memory (a fresh bounced)
#   5. with BENCH_ROUNDS=R: R rounds of new bounces, bounced then the
#      no-op milter on libmilter and on the engine each round, and the median and least CPU per bounce
#      of each: a shared host's speed drifts by tens of percent from one
#      minute to the next, and alternating puts both under the same drift
# Environment: TOP_BUILDDIR, BENCH_N (10000), BENCH_C (8), BENCH_HOSTILE_C
# (64), BENCH_SYNC (empty: the default; FULL or NORMAL to compare),
# BENCH_ROUNDS (0).
set -eu
b=${TOP_BUILDDIR:-.}
here=$(cd "$(dirname "$0")" && pwd)
n=${BENCH_N:-10000}
c=${BENCH_C:-8}
hc=${BENCH_HOSTILE_C:-64}
dir=$(mktemp -d "${TMPDIR:-/tmp}/bounced-bench.XXXXXX")
chmod 0755 "$dir"
user=$(id -un)
[ "$(id -u)" = 0 ] && user=nobody && chown nobody "$dir"
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && sleep 1
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

start() {
	rm -f "$dir/sock"
	cat >"$dir/bounced.conf" <<CONF
Socket unix:$dir/sock
UserID $user
Database $dir/bounced.db
Syslog no
LogLevel ${BENCH_LOGLEVEL:-info}
CONF
	"$b/bounced" -f -c "$dir/bounced.conf" >>"$dir/bounced.log" 2>&1 &
	pid=$!
	i=0
	while [ ! -S "$dir/sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 0.5	# the database opened
}

stop() {
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
}

start_noop() {
	rm -f "$dir/sock"
	"$b/bench/${1:-postfix/noop_milter}" "unix:$dir/sock" >>"$dir/noop.log" 2>&1 &
	pid=$!
	i=0
	while [ ! -S "$dir/sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}

start
echo "warm-up: $("$b/bench/milter/milterbench" -s "unix:$dir/sock" -n 200 -c "$c" -t warm)"
echo "new bounces: $("$b/bench/milter/milterbench" -s "unix:$dir/sock" -p "$pid" -n "$n" -c "$c" -t "r$$")"
echo "ordinary mail: $("$b/bench/milter/milterbench" -s "unix:$dir/sock" -p "$pid" -n "$n" -c "$c" -m ordinary)"
echo "ordinary mail, 1 at a time: $("$b/bench/milter/milterbench" -s "unix:$dir/sock" -p "$pid" -n 2000 -c 1 -m ordinary)"
echo "bounces, 1 at a time: $("$b/bench/milter/milterbench" -s "unix:$dir/sock" -p "$pid" -n 2000 -c 1 -t "s$$")"
stop
# The floor: a milter that does nothing (bench/postfix/noop_milter.c), the
# same messages; what libmilter and the round trips cost before any work.
start_noop
echo "noop milter, bounces: $("$b/bench/milter/milterbench" -s "unix:$dir/sock" -p "$pid" -n "$n" -c "$c" -t "n$$")"
echo "noop milter, ordinary mail: $("$b/bench/milter/milterbench" -s "unix:$dir/sock" -p "$pid" -n "$n" -c "$c" -m ordinary)"
stop
start_noop milter/noop_engine
echo "noop milter on bounced's engine, bounces: $("$b/bench/milter/milterbench" -s "unix:$dir/sock" -p "$pid" -n "$n" -c "$c" -t "e$$")"
stop
python3 "$here/hostile.py" "$dir"
for f in parts deep msgchain rcpts headers; do
	start
	echo "hostile $f x$hc: $("$b/bench/milter/milterbench" -s "unix:$dir/sock" -p "$pid" -n "$hc" -c "$hc" -f "$dir/$f.eml" || true)"
	stop
done

rounds=${BENCH_ROUNDS:-0}
[ "$rounds" -gt 0 ] || exit 0
: >"$dir/rounds"
for r in $(seq 1 "$rounds"); do
	start
	"$b/bench/milter/milterbench" -s "unix:$dir/sock" -n 200 -c "$c" -t "w$r" >/dev/null
	echo "bounced $("$b/bench/milter/milterbench" -s "unix:$dir/sock" -p "$pid" -n "$n" -c "$c" -t "a$r$$")" >>"$dir/rounds"
	stop
	start_noop
	echo "noop $("$b/bench/milter/milterbench" -s "unix:$dir/sock" -p "$pid" -n "$n" -c "$c" -t "z$r$$")" >>"$dir/rounds"
	stop
	start_noop milter/noop_engine
	echo "noop_engine $("$b/bench/milter/milterbench" -s "unix:$dir/sock" -p "$pid" -n "$n" -c "$c" -t "y$r$$")" >>"$dir/rounds"
	stop
done
# one line each: the CPU per bounce of every round, then median and least
for m in bounced noop noop_engine; do
	sed -n "s/^$m .*cpu_ms_per_msg=\([0-9.]*\).*/\1/p" "$dir/rounds" |
	    sort -n | awk -v m="$m" '
		{ v[NR] = $1; all = all " " $1 }
		END {
			if (NR == 0)
				exit
			med = v[int((NR + 1) / 2)]
			if (NR % 2 == 0)
				med = (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%s, %d rounds: ms CPU per bounce%s; median %.3f, least %.3f\n", m, NR, all, med, v[1]
		}'
done
