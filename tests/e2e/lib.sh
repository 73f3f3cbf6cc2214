# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# tests/e2e/lib.sh - harness for the end-to-end scenarios.
#
# Sourced (by bash) from each tests/e2e/e2e-*.sh.  It builds a private
# Postfix instance in a temporary folder, listening on loopback only on
# ports chosen at run time, with smtp-sink(1) servers standing in for the
# remote MTAs (one per behaviour: hard reject, soft reject, block, accept)
# and one more as the relayhost that receives the DSNs.  bounced runs in
# the foreground with a configuration written into the same folder and
# is wired in both as smtpd_milters (remote bounces over SMTP) and as
# non_smtpd_milters with internal_mail_filter_classes = bounce (Postfix's
# own DSNs).  See ../shared/POSTFIX-NOTES.md for why each setting is
# there.  Everything is torn down by an EXIT trap, even on failure.
#
# It never waits without a bound: every wait is a polling loop with a
# time limit.  Exit codes follow automake: 0 pass, 1 fail, 77 skip,
# 99 hard error (the harness itself could not run).
#
# Set E2E_KEEP=1 to keep the temporary folder for a post-mortem.

E2E_NAME=${0##*/}
E2E_NAME=${E2E_NAME%.sh}
E2E_HERE=$(cd "$(dirname "$0")" && pwd)
: "${TOP_SRCDIR:=$(cd "$E2E_HERE/../.." && pwd)}"
: "${TOP_BUILDDIR:=$PWD}"
BOUNCED=${BOUNCED:-$TOP_BUILDDIR/bounced}
BOUNCECTL=${BOUNCECTL:-$TOP_BUILDDIR/bouncectl}
E2E_DATA=$E2E_HERE/data
# the user bounced drops to (it refuses to keep running as root); as
# another user (miltertest scenario) it runs as that user.  As root its
# group is postfix, so that Postfix's cleanup and smtpd can reach the
# socket (made mode 0660 through umask 007, as a service's UMask= would).
if [ "$(id -u)" = 0 ]; then
	E2E_USER=${E2E_USER:-nobody}
	if [ -z "${E2E_GROUP+set}" ] && getent group postfix >/dev/null; then
		E2E_GROUP=postfix
	fi
else
	E2E_USER=${E2E_USER:-$(id -un)}
fi
E2E_GROUP=${E2E_GROUP:-}
E2E_SENDER=alice@sender.test
E2E_FAILS=0
E2E_DIR=
E2E_PIDS=()
E2E_POSTFIX_UP=0
E2E_BOUNCED_PID=
E2E_T0=$EPOCHREALTIME
# This scenario's own loopback address, 127.64.0.0/10 plus its shell's
# process id (< 2^22, unique among running processes): all of 127/8 is
# the loopback interface on Linux, so every scenario listens on an
# address no concurrent scenario uses, and ports cannot collide however
# many run at once (issue 11: two scenarios run by make -j2 once received
# each other's mail through a port both had chosen).
E2E_ADDR=${E2E_ADDR:-127.$((64 + ($$ >> 16 & 63))).$(($$ >> 8 & 255)).$(($$ & 255))}
export E2E_ADDR
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

# --- reporting ----------------------------------------------------------

e2e_log()
{
	printf '%s: %s\n' "$E2E_NAME" "$*"
}

e2e_skip()
{
	e2e_log "SKIP: $*"
	exit 77
}

# e2e_error - the harness could not do its job: not a verdict on bounced
e2e_error()
{
	e2e_log "ERROR: $*"
	e2e_dump
	exit 99
}

# e2e_check WHAT GOT WANT - one assertion; prints "got X, want Y" on failure
e2e_check()
{
	if [ "$2" = "$3" ]; then
		e2e_log "ok:   $1 (got $2)"
	else
		e2e_log "FAIL: $1: got '$2', want '$3'"
		E2E_FAILS=$((E2E_FAILS + 1))
	fi
}

# e2e_check_match WHAT TEXT ERE - TEXT must match the extended regex ERE
e2e_check_match()
{
	if printf '%s\n' "$2" | grep -Eiq -- "$3"; then
		e2e_log "ok:   $1 (matches /$3/)"
	else
		e2e_log "FAIL: $1: got '$(printf '%s' "$2" | tr '\n' ' ' |
		    cut -c1-300)', want a match for /$3/"
		E2E_FAILS=$((E2E_FAILS + 1))
	fi
}

# e2e_check_nomatch WHAT TEXT ERE - TEXT must not match ERE
e2e_check_nomatch()
{
	if printf '%s\n' "$2" | grep -Eiq -- "$3"; then
		e2e_log "FAIL: $1: got '$(printf '%s' "$2" | tr '\n' ' ' |
		    cut -c1-300)', want no match for /$3/"
		E2E_FAILS=$((E2E_FAILS + 1))
	else
		e2e_log "ok:   $1 (no match for /$3/)"
	fi
}

e2e_elapsed()
{
	awk -v a="$E2E_T0" -v b="$EPOCHREALTIME" \
	    'BEGIN { printf "%.1f", b - a }'
}

# e2e_dump - what a failing run leaves to look at (of every instance)
e2e_dump()
{
	local n

	if [ ${#E2E_INSTANCES[@]} -eq 0 ]; then
		e2e_dump_one
		return 0
	fi
	for n in "${E2E_INSTANCES[@]}"; do
		e2e_with "$n" e2e_dump_one
	done
}

# e2e_dump_one - what the current instance leaves to look at
e2e_dump_one()
{
	local f

	[ -n "$E2E_DIR" ] && [ -d "$E2E_DIR" ] || return 0
	[ -n "$E2E_INSTANCE" ] &&
	    echo "===== instance $E2E_INSTANCE ($E2E_ADDR, $E2E_DIR) ====="
	for f in "$E2E_DIR"/bounced.log "$E2E_DIR"/maillog \
	    "$E2E_DIR"/postfix-start.log "$E2E_DIR"/miltertest.log \
	    "$E2E_DIR"/follow-log.log "$E2E_DIR"/ingest-log.log; do
		[ -s "$f" ] || continue
		echo "----- ${f##*/} (last 60 lines) -----"
		tail -n 60 "$f"
	done
	if [ "$E2E_POSTFIX_UP" = 1 ]; then
		echo "----- queue -----"
		postqueue -c "$E2E_DIR/etc" -p 2>&1 | tail -n 30
	fi
	echo "-----"
}

# e2e_finish - the verdict of the scenario
e2e_finish()
{
	if [ "$E2E_FAILS" -ne 0 ]; then
		e2e_dump
		e2e_log "$E2E_FAILS check(s) failed in $(e2e_elapsed) s"
		exit 1
	fi
	e2e_log "all checks passed in $(e2e_elapsed) s"
	exit 0
}

# --- teardown -----------------------------------------------------------

# e2e_stop_bounced - SIGTERM, bounded wait, then SIGKILL
e2e_stop_bounced()
{
	local i

	[ -n "$E2E_BOUNCED_PID" ] || return 0
	kill -TERM "$E2E_BOUNCED_PID" 2>/dev/null
	for i in $(seq 1 ${1:-40}); do
		kill -0 "$E2E_BOUNCED_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$E2E_BOUNCED_PID" 2>/dev/null
	wait "$E2E_BOUNCED_PID" 2>/dev/null
	E2E_BOUNCED_PID=
}

# e2e_stop_postfix - postfix stop, bounded wait for its master, then SIGKILL
e2e_stop_postfix()
{
	local i mpid

	[ "$E2E_POSTFIX_UP" = 1 ] || return 0
	mpid=$(head -n 1 "$E2E_DIR/spool/pid/master.pid" 2>/dev/null |
	    tr -d ' ')
	postfix -c "$E2E_DIR/etc" stop >/dev/null 2>&1
	for i in $(seq 1 100); do
		[ -n "$mpid" ] && kill -0 "$mpid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$mpid" ] && kill -KILL "$mpid" 2>/dev/null
	E2E_POSTFIX_UP=0
}

# e2e_term_bounced - SIGTERM to bounced, without waiting
e2e_term_bounced()
{
	[ -n "$E2E_BOUNCED_PID" ] && kill -TERM "$E2E_BOUNCED_PID" 2>/dev/null
	return 0
}

# e2e_remove_dir - the instance's folder (kept with E2E_KEEP=1)
e2e_remove_dir()
{
	[ -n "$E2E_DIR" ] && [ -d "$E2E_DIR" ] || return 0
	if [ "${E2E_KEEP:-0}" = 1 ]; then
		e2e_log "kept $E2E_DIR"
	else
		rm -rf "$E2E_DIR"
	fi
}

e2e_cleanup()
{
	local rc=$? p h

	trap - EXIT INT TERM HUP
	# bounced first: libmilter takes seconds to exit on SIGTERM, which
	# overlaps with Postfix's stop; it is killed if still there after.
	e2e_each e2e_term_bounced
	e2e_each e2e_stop_postfix
	e2e_each e2e_stop_bounced 10
	for p in "${E2E_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${E2E_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	e2e_each e2e_remove_dir
	# what the scenario started besides (a PostgreSQL server), last:
	# bounced and Postfix are gone by now
	for h in "${E2E_AT_EXIT[@]}"; do
		eval "$h"
	done
	exit "$rc"
}

# e2e_at_exit COMMAND - run COMMAND (eval) at the end of e2e_cleanup
e2e_at_exit()
{
	E2E_AT_EXIT+=("$1")
}

# e2e_traps - (again) the harness's own traps; tests/pg/lib.sh's
# pg_start sets its own, which e2e_pg_start replaces with these
e2e_traps()
{
	trap e2e_cleanup EXIT
	trap 'exit 99' INT TERM HUP
}

# --- several instances in one scenario ----------------------------------
#
# A scenario may run more than one relay (Postfix and bounced), e.g. a
# fleet sharing one PostgreSQL database.  Every function of this file
# works on the current instance, whose state is in the variables below;
# e2e_instance NAME starts a new one (with an address of its own) and
# e2e_use NAME switches between them.  The teardown stops them all.

E2E_IVARS="E2E_ADDR E2E_DIR E2E_SOCK E2E_DB E2E_CONF E2E_MAILLOG
E2E_BOUNCED_PID E2E_POSTFIX_UP P_SMTPD P_RETURN P_HARD P_SOFT P_BLOCK
P_OK P_FLIP E2E_FOLLOW_PID E2E_LOCK_PID"
E2E_INSTANCES=()
E2E_INSTANCE=
E2E_AT_EXIT=()
declare -A E2E_IV=()

# e2e_instance_addr N - the loopback address of the scenario's N-th
# instance (N = 0, 1, 2): the same process id bits as E2E_ADDR under
# another second octet (64-127 for the first, 128-191, 192-255), so no
# instance of a concurrent scenario has it either
e2e_instance_addr()
{
	printf '127.%d.%d.%d\n' $((64 * ($1 + 1) + ($$ >> 16 & 63))) \
	    $(($$ >> 8 & 255)) $(($$ & 255))
}

# e2e_instance_save - keep the current instance's variables
e2e_instance_save()
{
	local v

	[ -n "$E2E_INSTANCE" ] || return 0
	for v in $E2E_IVARS; do
		E2E_IV[$E2E_INSTANCE:$v]=${!v}
	done
}

# e2e_use NAME - make NAME (of e2e_instance) the current instance
e2e_use()
{
	local v

	[ "$1" = "$E2E_INSTANCE" ] && return 0
	[ -n "${E2E_IV[$1:E2E_ADDR]+set}" ] ||
	    e2e_error "e2e_use: no instance $1"
	e2e_instance_save
	for v in $E2E_IVARS; do
		printf -v "$v" '%s' "${E2E_IV[$1:$v]}"
	done
	E2E_INSTANCE=$1
}

# e2e_instance NAME - a new instance, made current: nothing started yet
# (e2e_up or e2e_mkdir next).  The first keeps E2E_ADDR (the first
# instance's address), the others get e2e_instance_addr's.
e2e_instance()
{
	local v

	[ -z "${E2E_IV[$1:E2E_ADDR]+set}" ] ||
	    e2e_error "e2e_instance: $1 exists"
	[ ${#E2E_INSTANCES[@]} -lt 3 ] ||
	    e2e_error "e2e_instance: three instances at most"
	e2e_instance_save
	if [ ${#E2E_INSTANCES[@]} -gt 0 ]; then
		for v in $E2E_IVARS; do
			printf -v "$v" '%s' ""
		done
		E2E_POSTFIX_UP=0
		E2E_ADDR=$(e2e_instance_addr ${#E2E_INSTANCES[@]})
	fi
	E2E_INSTANCES+=("$1")
	E2E_INSTANCE=$1
	e2e_instance_save
}

# e2e_with NAME COMMAND [ARG]... - COMMAND on instance NAME, then back to
# the current one
e2e_with()
{
	local back=$E2E_INSTANCE rc

	e2e_use "$1"
	shift
	"$@"
	rc=$?
	e2e_use "$back"
	return $rc
}

# e2e_each COMMAND [ARG]... - COMMAND on every instance (on the only one
# when the scenario made none with e2e_instance)
e2e_each()
{
	local n

	if [ ${#E2E_INSTANCES[@]} -eq 0 ]; then
		"$@"
		return 0
	fi
	for n in "${E2E_INSTANCES[@]}"; do
		e2e_with "$n" "$@"
	done
}

e2e_traps

# --- prerequisites ------------------------------------------------------

# e2e_need_bounced - bounced and bouncectl must have been built
e2e_need_bounced()
{
	[ -x "$BOUNCED" ] || e2e_error "$BOUNCED not built"
	[ -x "$BOUNCECTL" ] || e2e_error "$BOUNCECTL not built"
	command -v python3 >/dev/null || e2e_skip "python3 not installed"
	getent passwd "$E2E_USER" >/dev/null ||
	    e2e_skip "no user $E2E_USER to run bounced as"
}

# e2e_need_postfix - root and Postfix, or skip
e2e_need_postfix()
{
	[ "$(id -u)" = 0 ] || e2e_skip "not root: cannot start a Postfix instance"
	command -v postfix >/dev/null || e2e_skip "postfix not installed"
	command -v smtp-sink >/dev/null || e2e_skip "smtp-sink not installed"
	command -v postqueue >/dev/null || e2e_skip "postqueue not installed"
	e2e_need_bounced
}

# e2e_pg_start - a private PostgreSQL server for the scenario
# (tests/pg/lib.sh: on a unix socket in a folder of its own, no TCP
# port), stopped by the teardown after bounced and Postfix; skips (77)
# without the server binaries or psql.  Sets E2E_PG_DIR and
# E2E_PG_CONNINFO (its "postgres" database).
e2e_pg_start()
{
	command -v psql >/dev/null || e2e_skip "psql not installed"
	. "$TOP_SRCDIR/tests/pg/lib.sh"
	[ -n "$(pg_bindir)" ] || e2e_skip "no PostgreSQL server (postgresql)"
	if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
		e2e_skip "no postgres user to run PostgreSQL as"
	fi
	E2E_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/bounced-e2e-pg.XXXXXX") ||
	    e2e_error "mktemp failed"
	# pg_start exits 77 itself when the binaries are missing
	pg_start "$E2E_PG_DIR" >"$E2E_PG_DIR.log" 2>&1 || {
		cat "$E2E_PG_DIR.log"
		rm -f "$E2E_PG_DIR.log"
		e2e_error "PostgreSQL did not start"
	}
	rm -f "$E2E_PG_DIR.log"
	e2e_traps
	e2e_at_exit pg_stop
	# bounced, dropped to another user, must reach the socket
	chmod 0755 "$E2E_PG_DIR" "$E2E_PG_DIR/sock"
	E2E_PG_CONNINFO=$PG_CONNINFO
}

# e2e_pg_createdb NAME - a new database on e2e_pg_start's server; prints
# its conninfo (for Database, E2E_DATABASE, bouncectl --db)
e2e_pg_createdb()
{
	psql -q -X -v ON_ERROR_STOP=1 "$E2E_PG_CONNINFO" \
	    -c "CREATE DATABASE \"$1\"" >/dev/null ||
	    e2e_error "could not create the database $1"
	printf '%s\n' "${E2E_PG_CONNINFO/dbname=postgres/dbname=$1}"
}

# e2e_psql CONNINFO SQL - one query's rows, unaligned, "|" between fields
e2e_psql()
{
	psql -X -A -t -v ON_ERROR_STOP=1 "$1" -c "$2"
}

# --- set-up -------------------------------------------------------------

# e2e_free_ports N [FIRST] - N distinct TCP ports free on this scenario's own
# address E2E_ADDR.  Scenarios run side by side (make -j2 check) and each
# has an address of its own (see E2E_ADDR above), so no other scenario
# can take a port between this choice and the server's bind.  The ports
# come from 20025 up, below the kernel's ephemeral range (32768-60999),
# so that no outgoing connection's source port takes one either; a port
# something else holds (a wildcard listener, a stray server of an
# earlier run) is skipped.  FIRST (default 20025) is where to start: a
# scenario's own extra ports come from 30000 up, out of e2e_start_postfix's
# way.
e2e_free_ports()
{
	python3 -c '
import socket, sys
addr, want, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
got = []
for p in range(first, 32000):
	s = socket.socket()
	try:
		s.bind((addr, p))
		got.append(p)
	except OSError:
		pass
	finally:
		s.close()
	if len(got) == want:
		break
print(" ".join(str(p) for p in got))
' "$E2E_ADDR" "$1" "${2:-20025}"
}

# e2e_mkdir - the private folder, reachable by the postfix and bounced users
e2e_mkdir()
{
	E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/bounced-e2e.XXXXXX") ||
	    e2e_error "mktemp failed"
	chmod 0755 "$E2E_DIR"
	mkdir -p "$E2E_DIR/etc" "$E2E_DIR/run" "$E2E_DIR/db" \
	    "$E2E_DIR/returned"
	# bounced (after dropping privileges) creates its socket, pid file
	# and database here; postfix must be able to reach the socket.
	if [ "$(id -u)" = 0 ]; then
		chown "$E2E_USER${E2E_GROUP:+:$E2E_GROUP}" "$E2E_DIR/run" \
		    "$E2E_DIR/db" "$E2E_DIR/returned"
	fi
	chmod 0755 "$E2E_DIR/run" "$E2E_DIR/db" "$E2E_DIR/returned"
	E2E_SOCK=$E2E_DIR/run/bounced.sock
	# E2E_DATABASE: run the scenario on that database (PostgreSQL)
	E2E_DB=${E2E_DATABASE:-$E2E_DIR/db/bounced.db}
	E2E_CONF=$E2E_DIR/bounced.conf
	E2E_MAILLOG=$E2E_DIR/maillog
}

# e2e_write_bounced_conf [KEY VALUE]... - bounced.conf with overrides
# (E2E_HANDOFF: HandOffRelays; E2E_MAINCF_EXTRA and E2E_MASTER_EXTRA:
# lines added to the instance's main.cf and master.cf by
# e2e_start_postfix)
e2e_write_bounced_conf()
{
	{
		echo "# written by tests/e2e/lib.sh"
		echo "Socket unix:$E2E_SOCK"
		echo "UserID $E2E_USER${E2E_GROUP:+:$E2E_GROUP}"
		echo "PidFile $E2E_DIR/run/bounced.pid"
		echo "Database $E2E_DB"
		echo "Syslog no"
		echo "LogLevel debug"
		echo "BounceAction ${E2E_BOUNCE_ACTION:-continue}"
		echo "OnError tempfail"
		echo "SoftBounceLimit ${E2E_SOFT_LIMIT:-3}"
		# The smtp-sinks on loopback stand in for remote MXes: none
		# of them is a next hop of ours unless a scenario says so
		# (HandOffRelays defaults to every loopback address).
		echo "HandOffRelays ${E2E_HANDOFF:-none.invalid}"
		while [ $# -ge 2 ]; do
			echo "$1 $2"
			shift 2
		done
	} >"$E2E_CONF"
}

# e2e_start_bounced - bounced -f in the background; waits for its socket
e2e_start_bounced()
{
	local i

	rm -f "$E2E_SOCK"
	# E2E_NO_PRECHECK=1: a scenario that breaks on purpose what bounced
	# -n checks (a read-only database) and wants bounced to start anyway
	if [ "${E2E_NO_PRECHECK:-0}" != 1 ]; then
		"$BOUNCED" -c "$E2E_CONF" -n >>"$E2E_DIR/bounced.log" 2>&1 ||
		    e2e_error "bounced -n rejects $E2E_CONF"
	fi
	(umask 007 && exec "$BOUNCED" -f -c "$E2E_CONF") \
	    >>"$E2E_DIR/bounced.log" 2>&1 &
	E2E_BOUNCED_PID=$!
	for i in $(seq 1 100); do
		[ -S "$E2E_SOCK" ] && return 0
		kill -0 "$E2E_BOUNCED_PID" 2>/dev/null ||
		    e2e_error "bounced exited at start"
		sleep 0.1
	done
	e2e_error "bounced made no socket $E2E_SOCK within 10 s"
}

# e2e_wait_bounced_started - until bounced.log holds bounced's start line
# (10 s at most; empty the log first when it holds an earlier one):
# bounced makes its database after its socket, and a scenario that stops
# it to change that file must not stop it before
e2e_wait_bounced_started()
{
	e2e_wait_bounced_log 'starting bounced' 10 ||
	    e2e_error "bounced did not log its start within 10 s"
}

# e2e_wait_bounced_log ERE SECONDS - until bounced.log holds a line that
# matches ERE (case-insensitive); 1 when none came in time.  bounced logs
# its database's state after it made its socket: a check of that line
# right after e2e_start_bounced would race it.
e2e_wait_bounced_log()
{
	local i

	for i in $(seq 1 $(($2 * 10))); do
		grep -Eqi -- "$1" "$E2E_DIR/bounced.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# e2e_start_sink NAME PORT [smtp-sink options] - one fake remote MTA
e2e_start_sink()
{
	local name=$1 port=$2 i

	shift 2
	smtp-sink -u nobody "$@" "$E2E_ADDR:$port" 100 \
	    >"$E2E_DIR/sink-$name.log" 2>&1 &
	E2E_PIDS+=($!)
	for i in $(seq 1 50); do
		if (exec 3<>"/dev/tcp/$E2E_ADDR/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	e2e_error "smtp-sink $name not listening on port $port"
}

# e2e_routes ROUTE... - the transport_maps table for e2e_start_postfix
e2e_routes()
{
	local r addr kind port routes

	routes="remote.test=smtp:[$E2E_ADDR]:$P_OK"
	for r in "$@"; do
		addr=${r%%=*}
		kind=${r#*=}
		case $kind in
		hard)	port=$P_HARD ;;
		soft)	port=$P_SOFT ;;
		block)	port=$P_BLOCK ;;
		ok)	port=$P_OK ;;
		flip)	port=$P_FLIP ;;
		down)	port=${P_DOWN:?a scenario with a down route sets P_DOWN} ;;
		*)	e2e_log "ERROR: unknown route kind $kind" >&2
			return 1 ;;
		esac
		routes="$routes, $addr=smtp:[$E2E_ADDR]:$port"
	done
	printf 'inline:{ %s }\n' "$routes"
}

# e2e_start_postfix ROUTE... - the whole Postfix side.
# Each ROUTE is ADDRESS=KIND (ADDRESS may also be a domain) with KIND one
# of hard, soft, block, ok: mail to ADDRESS goes to the smtp-sink that
# behaves so; or flip: to e2e_start_flip's server, which defers or
# accepts as e2e_flip says; or down: to the scenario's port P_DOWN, where
# nothing listens until it starts a sink there.  Any other address in remote.test is
# accepted; mail to any other domain goes to the relayhost sink, which
# accepts it too.  DSNs go to the relayhost sink.
#
# E2E_MILTER_DEFAULT sets milter_default_action (tempfail), and
# E2E_MAINCF_EXTRA holds more main.cf lines (fault tests: timeouts).
#
# With E2E_BOUNCE_AT_ONCE=1 (the default) a 4xx is given up at once
# (queue lifetimes 0), so that Postfix writes a DSN; with 0 the default
# lifetimes are kept and a 4xx is only deferred and retried (every 1-2 s),
# which only the mail log tells.
e2e_start_postfix()
{
	local routes lifetimes=

	read -r P_SMTPD P_RETURN P_HARD P_SOFT P_BLOCK P_OK P_FLIP \
	    <<<"$(e2e_free_ports 7)"
	[ -n "$P_FLIP" ] || e2e_error "no free ports"
	e2e_start_sink return "$P_RETURN" -d "$E2E_DIR/returned/%H%M%S."
	e2e_start_sink hard "$P_HARD" -f RCPT \
	    -B "550 5.1.1 Error: no such user here"
	e2e_start_sink soft "$P_SOFT" -r RCPT \
	    -b "451 4.2.2 Mailbox full, try again later"
	e2e_start_sink block "$P_BLOCK" -f RCPT -B "550 5.7.1 Service \
unavailable; client [127.0.0.1] blocked using zen.spamhaus.org"
	e2e_start_sink ok "$P_OK"
	case " $* " in
	*=flip\ *)	e2e_start_flip "$P_FLIP" ;;
	esac

	routes=$(e2e_routes "$@") || e2e_error "bad routes: $*"
	if [ "${E2E_BOUNCE_AT_ONCE:-1}" = 1 ]; then
		lifetimes="maximal_queue_lifetime = 0
bounce_queue_lifetime = 0"
	fi

	mkdir -p "$E2E_DIR/spool"
	chmod 0755 "$E2E_DIR/spool"
	cat >"$E2E_DIR/etc/main.cf" <<EOF
# private test instance: see ../shared/POSTFIX-NOTES.md
compatibility_level = 3.6
myhostname = e2e-mta.test
mydomain = e2e-mta.test
myorigin = \$myhostname
queue_directory = $E2E_DIR/spool
data_directory = $E2E_DIR/data
maillog_file = $E2E_MAILLOG
maillog_file_prefixes = $E2E_DIR
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
biff = no
relayhost = [$E2E_ADDR]:$P_RETURN
transport_maps = $routes
smtpd_milters = unix:$E2E_SOCK
non_smtpd_milters = unix:$E2E_SOCK
internal_mail_filter_classes = bounce
milter_default_action = ${E2E_MILTER_DEFAULT:-tempfail}
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
$lifetimes
smtp_connect_timeout = 5s
smtp_tls_security_level = none
smtpd_tls_security_level = none
${E2E_MAINCF_EXTRA:-}
EOF
	cat >"$E2E_DIR/etc/master.cf" <<EOF
# private test instance: nothing chrooted (POSTFIX-NOTES pitfall 3)
$E2E_ADDR:$P_SMTPD inet n - n - - smtpd
pickup    unix  n - n 60  1 pickup
cleanup   unix  n - n -   0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -   - trivial-rewrite
bounce    unix  - - n -   0 bounce
defer     unix  - - n -   0 bounce
trace     unix  - - n -   0 bounce
verify    unix  - - n -   1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -   - proxymap
proxywrite unix - - n -   1 proxymap
smtp      unix  - - n -   - smtp
relay     unix  - - n -   - smtp
showq     unix  n - n -   - showq
error     unix  - - n -   - error
retry     unix  - - n -   - error
discard   unix  - - n -   - discard
anvil     unix  - - n -   1 anvil
scache    unix  - - n -   1 scache
postlog   unix-dgram n - n - 1 postlogd
${E2E_MASTER_EXTRA:-}
EOF
	postfix -c "$E2E_DIR/etc" check >"$E2E_DIR/postfix-start.log" 2>&1 ||
	    e2e_error "postfix check failed"
	postfix -c "$E2E_DIR/etc" start >>"$E2E_DIR/postfix-start.log" 2>&1 ||
	    e2e_error "postfix start failed"
	E2E_POSTFIX_UP=1
	e2e_wait_port "$P_SMTPD" 10 || e2e_error "Postfix smtpd not listening"
}

# e2e_wait_port PORT SECONDS - until something listens on E2E_ADDR:PORT
e2e_wait_port()
{
	local i

	for i in $(seq 1 $(($2 * 10))); do
		if (exec 3<>"/dev/tcp/$E2E_ADDR/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# e2e_up ROUTE... - the usual start: folder, bounced, Postfix
e2e_up()
{
	e2e_need_postfix
	e2e_mkdir
	e2e_write_bounced_conf ${E2E_CONF_EXTRA:-}
	e2e_start_bounced
	e2e_start_postfix "$@"
}

# --- mail ---------------------------------------------------------------

# e2e_send FROM RCPT [SUBJECT [MESSAGE-ID]] - one message over SMTP to
# Postfix's smtpd (a Message-ID of its own unless one is given)
e2e_send()
{
	python3 - "$P_SMTPD" "$1" "$2" "${3:-e2e test}" "${4:-}" <<'EOF' ||
import smtplib, sys, time, os
port, sender, rcpt, subject, mid = sys.argv[1:6]
now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
mid = mid or "<e2e-%d-%d-%s@sender.test>" % (os.getpid(), time.time_ns(),
    rcpt.split("@")[0])
msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nDate: %s\r\n"
       "Message-ID: %s\r\nMIME-Version: 1.0\r\n"
       "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
       "bounced end-to-end test message.\r\n") % (sender, rcpt, subject,
    now, mid)
with smtplib.SMTP(os.environ["E2E_ADDR"], int(port), timeout=30) as s:
	s.sendmail(sender, [rcpt], msg)
EOF
	e2e_error "could not send from $1 to $2 over SMTP"
}

# e2e_send_file FROM RCPT FILE - FILE as it is (LF or CRLF), FROM may be ""
e2e_send_file()
{
	python3 - "$P_SMTPD" "$1" "$2" "$3" <<'EOF' ||
import os, smtplib, sys
port, sender, rcpt, path = sys.argv[1:5]
data = open(path, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
with smtplib.SMTP(os.environ["E2E_ADDR"], int(port), timeout=30) as s:
	s.sendmail(sender, [rcpt], data)
EOF
	e2e_error "could not send $3 over SMTP"
}

# e2e_send_concurrent - messages sent at the same moment, one thread and
# SMTP session each, released together (a barrier), to any instance.
# One message a line on stdin: "ADDR:PORT FROM RCPT WHAT", FROM "<>" for
# the null sender, WHAT a subject, or file:PATH to send PATH as it is.
# Fails (after all have been tried) if one could not be sent.
e2e_send_concurrent()
{
	python3 -c '
import os, smtplib, sys, threading, time
jobs = [l.split(None, 3) for l in sys.stdin.read().splitlines() if l.strip()]
gate = threading.Barrier(len(jobs))
bad = []
def send(n, dest, sender, rcpt, what):
	host, port = dest.rsplit(":", 1)
	if what.startswith("file:"):
		msg = open(what[5:], "rb").read().replace(b"\r\n", b"\n")
		msg = msg.replace(b"\n", b"\r\n")
	else:
		now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
		msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nDate: %s\r\n"
		    "Message-ID: <e2e-%d-%d-%d@sender.test>\r\n\r\n"
		    "bounced end-to-end test message.\r\n") % (sender, rcpt,
		    what, now, os.getpid(), n, time.time_ns())
	try:
		gate.wait(30)
		with smtplib.SMTP(host, int(port), timeout=60) as s:
			s.sendmail("" if sender == "<>" else sender, [rcpt], msg)
	except Exception as e:
		bad.append("%s %s: %s" % (dest, rcpt, e))
threads = [threading.Thread(target=send, args=(n,) + tuple(j))
    for n, j in enumerate(jobs)]
for t in threads:
	t.start()
for t in threads:
	t.join()
for b in bad:
	print("not sent: " + b)
sys.exit(1 if bad else 0)
'
}

# --- waiting ------------------------------------------------------------

# e2e_count_log ERE - lines of the Postfix mail log that match
e2e_count_log()
{
	grep -Ec -- "$1" "$E2E_MAILLOG" 2>/dev/null || true
}

# e2e_wait_log ERE COUNT SECONDS - until COUNT log lines match ERE
e2e_wait_log()
{
	local i n

	for i in $(seq 1 $(($3 * 10))); do
		n=$(e2e_count_log "$1")
		[ "${n:-0}" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# e2e_returned_re - a DSN (or anything else) delivered to the sender
# through the relayhost sink, which happens only after the milter let it in
e2e_returned_re()
{
	local ip=${E2E_ADDR//./\\.}

	printf 'to=<%s>, relay=%s\\[%s\\]:%s,.* status=sent' \
	    "$E2E_SENDER" "$ip" "$ip" "$P_RETURN"
}

# e2e_wait_returned COUNT [SECONDS] - until COUNT messages reached the sender
e2e_wait_returned()
{
	e2e_wait_log "$(e2e_returned_re)" "$1" "${2:-30}"
}

# e2e_ctl ARG... - bouncectl on the instance's database
e2e_ctl()
{
	"$BOUNCECTL" --db "$E2E_DB" "$@"
}

# e2e_wait_status ADDR RC SECONDS - until `bouncectl status ADDR` exits RC
e2e_wait_status()
{
	local i

	for i in $(seq 1 $(($3 * 10))); do
		e2e_ctl status "$1" >/dev/null 2>&1
		[ $? -eq "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# e2e_status ADDR - sets E2E_OUT (text), E2E_JSON and E2E_RC
e2e_status()
{
	E2E_OUT=$(e2e_ctl status "$1" 2>&1)
	E2E_RC=$?
	E2E_JSON=$(e2e_ctl --json status "$1" 2>&1)
}

# e2e_json_get JSON KEY[.KEY] - a field of a JSON object (of the first
# object when JSON is an array or JSON Lines, as `bouncectl --json status`
# prints); "" if absent or null
e2e_json_get()
{
	python3 -c '
import json, sys
try:
	v = json.loads(sys.argv[1])
except ValueError:
	try:
		v = json.loads(sys.argv[1].splitlines()[0])
	except (ValueError, IndexError):
		sys.exit(0)
if isinstance(v, list):
	v = v[0] if v else None
for k in sys.argv[2].split("."):
	if isinstance(v, dict) and k in v:
		v = v[k]
	else:
		sys.exit(0)
if isinstance(v, bool):
	print("true" if v else "false")
elif v is not None:
	print(v)
' "$1" "$2"
}

# e2e_history_count ADDR - events in `bouncectl --json history ADDR`
# (JSON Lines: one object a line)
e2e_history_count()
{
	e2e_ctl --json history "$1" 2>/dev/null | python3 -c '
import json, sys
try:
	v = [json.loads(l) for l in sys.stdin.read().splitlines() if l.strip()]
except ValueError:
	print("unparsable"); sys.exit(0)
if isinstance(v, dict):
	v = v.get("events", v.get("history"))
print(len(v) if isinstance(v, list) else "no-list")
'
}

# e2e_check_milter_clean - Postfix logged no milter trouble at all
e2e_check_milter_clean()
{
	local re='milter-reject|warning: .*milter|milter.*(timeout|unavailable)'

	e2e_check "mail log lines about milter trouble" "$(e2e_count_log "$re")" 0
}

# e2e_lock_db - hold the database's write lock (BEGIN IMMEDIATE) from
# another process, so that bounced cannot record: the store failure
# bounced must answer with TEMPFAIL.  Held until e2e_unlock_db, 60 s at most.
e2e_lock_db()
{
	local i

	for i in $(seq 1 100); do
		[ -s "$E2E_DB" ] && break
		sleep 0.1
	done
	[ -s "$E2E_DB" ] || e2e_error "bounced made no database $E2E_DB"
	rm -f "$E2E_DIR/lock.held" "$E2E_DIR/lock.release"
	python3 - "$E2E_DB" "$E2E_DIR/lock" >"$E2E_DIR/lock.log" 2>&1 <<'PY' &
import os, sqlite3, sys, time
db, flag = sys.argv[1:3]
c = sqlite3.connect(db, isolation_level=None, timeout=10)
c.execute("BEGIN IMMEDIATE")
open(flag + ".held", "w").close()
t = time.time()
while not os.path.exists(flag + ".release") and time.time() - t < 60:
	time.sleep(0.05)
c.execute("ROLLBACK")
c.close()
PY
	E2E_LOCK_PID=$!
	E2E_PIDS+=($!)
	for i in $(seq 1 100); do
		[ -e "$E2E_DIR/lock.held" ] && return 0
		kill -0 "$E2E_LOCK_PID" 2>/dev/null || break
		sleep 0.1
	done
	e2e_error "could not lock $E2E_DB: $(cat "$E2E_DIR/lock.log")"
}

# e2e_unlock_db - let the lock holder of e2e_lock_db go
e2e_unlock_db()
{
	touch "$E2E_DIR/lock.release"
	wait "$E2E_LOCK_PID" 2>/dev/null
}

# --- the mail log as a source; enforcement at RCPT TO (issue 4) ---------

# e2e_start_flip PORT - a remote MTA whose answer to RCPT TO can be
# changed while Postfix runs (no reload, no restart, no refused
# connection): "451 4.2.2 Mailbox full" until `e2e_flip ok`, then 250
# (and the message is taken), again 451 after `e2e_flip soft`.  A small
# threaded Python SMTP server (RFC 5321 subset: no PIPELINING, no ESMTP
# extensions), bounded line lengths and an idle timeout.
e2e_start_flip()
{
	rm -f "$E2E_DIR/flip-ok"
	python3 - "$1" "$E2E_DIR/flip-ok" >"$E2E_DIR/sink-flip.log" 2>&1 <<'PY' &
import os, socketserver, sys
port, flag = int(sys.argv[1]), sys.argv[2]
class Smtp(socketserver.StreamRequestHandler):
	timeout = 60
	def say(self, text):
		self.wfile.write(text.encode() + b"\r\n")
		self.wfile.flush()
	def handle(self):
		self.say("220 flip.test ESMTP e2e")
		rcpts = 0
		while True:
			line = self.rfile.readline(4096)
			if not line:
				return
			verb = line[:4].decode("latin-1").upper()
			if verb == "EHLO" or verb == "HELO":
				self.say("250 flip.test")
			elif verb == "MAIL":
				rcpts = 0
				self.say("250 2.1.0 Ok")
			elif verb == "RCPT" and os.path.exists(flag):
				rcpts += 1
				self.say("250 2.1.5 Ok")
			elif verb == "RCPT":
				self.say("451 4.2.2 Mailbox full, try again later")
			elif verb == "DATA" and rcpts == 0:
				self.say("503 5.5.1 Error: need RCPT command")
			elif verb == "DATA":
				self.say("354 End data with <CR><LF>.<CR><LF>")
				while True:
					d = self.rfile.readline(65536)
					if not d or d.rstrip(b"\r\n") == b".":
						break
				self.say("250 2.0.0 Ok: queued")
				rcpts = 0
			elif verb in ("RSET", "NOOP"):
				self.say("250 2.0.0 Ok")
			elif verb == "QUIT":
				self.say("221 2.0.0 Bye")
				return
			else:
				self.say("502 5.5.2 Error: command not recognized")
class Server(socketserver.ThreadingTCPServer):
	allow_reuse_address = True
	daemon_threads = True
Server((os.environ["E2E_ADDR"], port), Smtp).serve_forever()
PY
	E2E_PIDS+=($!)
	e2e_wait_port "$1" 10 || e2e_error "flip server not listening on $1"
}

# e2e_flip ok|soft - what e2e_start_flip's server answers to RCPT TO from
# now on; with ok, the deferred queue is flushed so that it is tried now
e2e_flip()
{
	case $1 in
	ok)	touch "$E2E_DIR/flip-ok"
		postqueue -c "$E2E_DIR/etc" -f >/dev/null 2>&1 ||
		    e2e_error "postqueue -f failed" ;;
	soft)	rm -f "$E2E_DIR/flip-ok" ;;
	*)	e2e_error "e2e_flip: ok or soft, not $1" ;;
	esac
}

# e2e_qids ADDR STATUS - the queue ids of the mail log's delivery lines
# "QID: to=<ADDR>, ... status=STATUS" (sent, deferred, bounced), one a line
e2e_qids()
{
	local re

	re=$(printf '%s' "$1" | sed 's/[].[*^$\\+?(){}|]/\\&/g')
	grep -E ": to=<$re>,.* status=$2 " "$E2E_MAILLOG" 2>/dev/null |
	    sed -E 's/^.*: ([0-9A-Za-z]+): to=<.*$/\1/' | sort -u
}

# e2e_count_qids ADDR STATUS - how many distinct messages e2e_qids finds
e2e_count_qids()
{
	e2e_qids "$1" "$2" | grep -c . || true
}

# e2e_wait_qids ADDR STATUS COUNT SECONDS - until COUNT distinct messages
# to ADDR were logged with STATUS
e2e_wait_qids()
{
	local i

	for i in $(seq 1 $(($4 * 10))); do
		[ "$(e2e_count_qids "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# e2e_queue_size - messages in the instance's queue (postqueue -p)
e2e_queue_size()
{
	postqueue -c "$E2E_DIR/etc" -p 2>/dev/null | awk '
	    /^-- .* in [0-9]+ Requests?\./ { n = $(NF - 1) }
	    END { print n + 0 }'
}

# e2e_ctl_conf ARG... - bouncectl with bounced's configuration (rules,
# SoftBounceLimit) and the instance's database, as an operator runs it
e2e_ctl_conf()
{
	"$BOUNCECTL" -c "$E2E_CONF" --db "$E2E_DB" "$@"
}

# e2e_follow_start [OPTION...] - `bouncectl follow-log` on the instance's
# mail log in the background (output in follow-log.log); waits until it
# says that it follows
e2e_follow_start()
{
	local i

	# the program itself in the background, not a function (a subshell)
	"$BOUNCECTL" -c "$E2E_CONF" --db "$E2E_DB" follow-log "$@" \
	    "$E2E_MAILLOG" >>"$E2E_DIR/follow-log.log" 2>&1 &
	E2E_FOLLOW_PID=$!
	E2E_PIDS+=($!)
	for i in $(seq 1 100); do
		grep -q 'following ' "$E2E_DIR/follow-log.log" 2>/dev/null &&
		    return 0
		kill -0 "$E2E_FOLLOW_PID" 2>/dev/null ||
		    e2e_error "bouncectl follow-log exited at start"
		sleep 0.1
	done
	e2e_error "bouncectl follow-log did not start within 10 s"
}

# e2e_follow_stop - SIGTERM to follow-log, bounded wait; sets
# E2E_FOLLOW_RC (its exit status, or "hung" if it had to be killed)
e2e_follow_stop()
{
	local i

	E2E_FOLLOW_RC=hung
	kill -TERM "$E2E_FOLLOW_PID" 2>/dev/null
	for i in $(seq 1 50); do
		if ! kill -0 "$E2E_FOLLOW_PID" 2>/dev/null; then
			wait "$E2E_FOLLOW_PID"
			E2E_FOLLOW_RC=$?
			return 0
		fi
		sleep 0.1
	done
	kill -KILL "$E2E_FOLLOW_PID" 2>/dev/null
	wait "$E2E_FOLLOW_PID" 2>/dev/null
}

# e2e_log_pos - the position follow-log/ingest-log keeps for the mail log
# (bytes; cursors table, source "file:PATH"), 0 when none
e2e_log_pos()
{
	python3 - "$E2E_DB" "file:$(realpath "$E2E_MAILLOG")" <<'PY'
import sqlite3, sys
try:
	c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True,
	    timeout=1)
	r = c.execute("SELECT offset FROM cursors WHERE source = ?",
	    (sys.argv[2],)).fetchone()
	print(r[0] if r else 0)
except sqlite3.Error:
	print(0)
PY
}

# e2e_wait_log_read SECONDS - until follow-log has committed the mail log
# as far as it is long now: its position is kept in the same transaction
# as the events of the lines before it, so they are all recorded then
e2e_wait_log_read()
{
	local i size

	size=$(stat -c %s "$E2E_MAILLOG") || e2e_error "no $E2E_MAILLOG"
	for i in $(seq 1 $(($1 * 5))); do
		[ "$(e2e_log_pos)" -ge "$size" ] && return 0
		kill -0 "$E2E_FOLLOW_PID" 2>/dev/null ||
		    e2e_error "bouncectl follow-log is gone"
		sleep 0.2
	done
	e2e_log "follow-log position $(e2e_log_pos), log size $size"
	return 1
}

# e2e_ingest [OPTION...] - `bouncectl --json ingest-log` on the mail log;
# sets E2E_INGEST (its JSON report) and E2E_INGEST_RC
e2e_ingest()
{
	E2E_INGEST=$(e2e_ctl_conf --json ingest-log "$@" "$E2E_MAILLOG" \
	    2>>"$E2E_DIR/ingest-log.log")
	E2E_INGEST_RC=$?
	printf '%s\n' "$E2E_INGEST" >>"$E2E_DIR/ingest-log.log"
}

# e2e_json_row JSON KEY VALUE FIELD - FIELD of the object of the JSON
# array (or of the "groups" of a stats report) whose KEY is VALUE ("" if null; "missing" if there is no such row)
e2e_json_row()
{
	python3 -c '
import json, sys
try:
	v = json.loads(sys.argv[1])
except ValueError:
	print("unparsable"); sys.exit(0)
if isinstance(v, dict):
	v = v.get("groups")
rows = [r for r in (v if isinstance(v, list) else [])
    if isinstance(r, dict) and str(r.get(sys.argv[2])) == sys.argv[3]]
if not rows:
	print("missing"); sys.exit(0)
x = rows[0].get(sys.argv[4])
if isinstance(x, bool):
	print("true" if x else "false")
elif x is not None:
	print(x)
' "$1" "$2" "$3" "$4"
}

# e2e_smtp [--no-data] FROM RCPT... - one SMTP transaction with Postfix's
# smtpd, printing each reply as "WHAT CODE TEXT", one a line, WHAT being
# MAIL, "RCPT ADDR", DATA or RSET.  The message goes to the recipients
# accepted; with --no-data (or none accepted) the transaction is reset.
e2e_smtp()
{
	local nodata=0

	if [ "$1" = --no-data ]; then
		nodata=1
		shift
	fi
	python3 - "$P_SMTPD" "$nodata" "$@" <<'PY' ||
import smtplib, sys, time, os
port, nodata, sender = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3]
rcpts = sys.argv[4:]
def show(what, r):
	print(what, r[0], r[1].decode("utf-8", "replace").replace("\n", " "))
with smtplib.SMTP(os.environ["E2E_ADDR"], port, timeout=30) as s:
	s.ehlo("client.test")
	show("MAIL", s.mail(sender))
	ok = []
	for a in rcpts:
		r = s.rcpt(a)
		show("RCPT " + a, r)
		if r[0] // 100 == 2:
			ok.append(a)
	if nodata or not ok:
		show("RSET", s.rset())
	else:
		now = time.strftime("%a, %d %b %Y %H:%M:%S +0000",
		    time.gmtime())
		msg = ("From: <%s>\r\nTo: %s\r\nSubject: e2e smtp\r\n"
		    "Date: %s\r\nMessage-ID: <e2e-%d-%d@sender.test>\r\n\r\n"
		    "bounced end-to-end test message.\r\n") % (sender,
		    ", ".join("<%s>" % a for a in ok), now, os.getpid(),
		    time.time_ns())
		show("DATA", s.data(msg))
PY
	e2e_error "SMTP session with Postfix failed ($*)"
}

# e2e_reply OUTPUT WHAT - the "CODE TEXT" that e2e_smtp printed for WHAT
# ("MAIL", "RCPT addr", "DATA", "RSET"); "none" if there was none
e2e_reply()
{
	local r

	r=$(printf '%s\n' "$1" | awk -v w="$2" '
	    index($0, w " ") == 1 { print substr($0, length(w) + 2); exit }')
	printf '%s\n' "${r:-none}"
}
