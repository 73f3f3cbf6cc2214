#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# bench/postfix/run.sh - `make bench-postfix`: bounces through a real
# Postfix (the private instance of tests/e2e/lib.sh: loopback, smtp-sink
# refusing every recipient of bulk.test), with bounced as the milter and
# then with noop_milter, a milter that does nothing, on the same harness,
# alternately (issue 11: bounced >= 0.9x the no-op milter's rate).
#
# One round: BENCH_N messages over one SMTP session, each refused by the
# remote, so Postfix makes BENCH_N DSNs, each filtered by the milter
# (non_smtpd_milters) and delivered to the sender's sink; the rate is
# BENCH_N over the time from the first message sent to the last DSN
# delivered.  The messages pass the milter too (smtpd_milters), as
# ordinary mail.  bounced logs at info, as in production.
# Environment: TOP_SRCDIR, TOP_BUILDDIR, BENCH_N (300), BENCH_ROUNDS (3).
# Needs root and Postfix, as the end-to-end tests; not a test.
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export TOP_SRCDIR=$top
. "$top/tests/faults/faults.sh"

n=${BENCH_N:-300}
rounds=${BENCH_ROUNDS:-3}
noop=${TOP_BUILDDIR:-.}/bench/postfix/noop_milter
noop_pid=

e2e_need_postfix
e2e_mkdir
e2e_write_bounced_conf
sed -i 's/^LogLevel debug$/LogLevel info/' "$E2E_CONF"
e2e_start_bounced
e2e_start_postfix "$FAULT_DOMAIN=hard"

# use_milter bounced|noop - that milter on the socket Postfix uses
use_milter()
{
	if [ -n "$E2E_BOUNCED_PID" ]; then
		e2e_stop_bounced
	fi
	if [ -n "$noop_pid" ]; then
		kill "$noop_pid" 2>/dev/null
		wait "$noop_pid" 2>/dev/null
		noop_pid=
	fi
	if [ "$1" = bounced ]; then
		e2e_start_bounced
		return
	fi
	rm -f "$E2E_SOCK"
	"$noop" "unix:$E2E_SOCK" >>"$E2E_DIR/noop.log" 2>&1 &
	noop_pid=$!
	E2E_PIDS+=("$noop_pid")
	for _ in $(seq 1 100); do
		[ -S "$E2E_SOCK" ] && return 0
		sleep 0.1
	done
	e2e_error "noop_milter made no socket"
}

returned=0
# one_round MILTER TAG - sets rate, the round's bounces/s (not in a
# subshell: use_milter keeps the running milter's pid)
one_round()
{
	local t0 t1

	use_milter "$1"
	t0=$(date +%s.%N)
	f_send_bulk "$n" "$2"
	returned=$((returned + n))
	e2e_wait_returned "$returned" 600 ||
	    e2e_error "$1: $returned DSNs not all delivered"
	t1=$(date +%s.%N)
	rate=$(echo "$n $t0 $t1" | awk '{ printf "%.1f", $1 / ($3 - $2) }')
}

one_round bounced warm
rates_b=() rates_n=()
for r in $(seq 1 "$rounds"); do
	one_round bounced "b$r"
	rates_b+=("$rate")
	one_round noop "n$r"
	rates_n+=("$rate")
	echo "round $r: bounced ${rates_b[-1]} bounces/s, noop milter" \
	    "${rates_n[-1]} bounces/s"
done
median()
{
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
	    END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
mb=$(median "${rates_b[@]}")
mn=$(median "${rates_n[@]}")
echo "median of $rounds rounds of $n: bounced $mb bounces/s, noop milter" \
    "$mn bounces/s, ratio $(echo "$mb $mn" | awk '{ printf "%.2f", $1 / $2 }')"
# the yardstick only counts if bounced did its work: every DSN it saw
# recorded (the noop milter's rounds' DSNs are not bounced's business)
e2e_check "bounces recorded by bounced in its rounds" \
    "$(f_db_count b | awk '{ print $2 }')" $((rounds * n))
e2e_finish
