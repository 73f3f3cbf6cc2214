#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-dbstart.sh - bounced starts and serves whatever the database's
# state, and keeps what it records when it runs in the background
# (issue 11).  Driven by miltertest(8) through dsn.lua, no Postfix.
#
#  1. bounced -b: a DSN is recorded, `bouncectl status` and `suppress`
#     run (the last connection to close a WAL database checkpoints and
#     deletes the -wal when no other process holds a lock: a bounced that
#     opened the database before it forked held none, and recorded into a
#     deleted file from then on), a second DSN is recorded; both are there.
#  2. The database read-only at start: bounced starts all the same,
#     ordinary mail is accepted, a bounce gets TEMPFAIL, one WARNING says
#     so; the file made writable again, the database is opened in the
#     background (one INFO line) and the bounce offered again is recorded
#     exactly once.

. "$(dirname "$0")/lib.sh"

e2e_need_bounced
command -v miltertest >/dev/null || e2e_skip "miltertest not installed"

# mt WHAT -D... - one run of dsn.lua; its exit status is checked
mt()
{
	local what=$1 rc

	shift
	echo "== $what" >>"$E2E_DIR/miltertest.log"
	miltertest -s "$E2E_HERE/dsn.lua" -D "sock=unix:$E2E_SOCK" "$@" \
	    >>"$E2E_DIR/miltertest.log" 2>&1
	rc=$?
	sed -n "/^== $what\$/,\$p" "$E2E_DIR/miltertest.log" | sed 1d |
	    sed "s/^/    /"
	e2e_check "miltertest exit status ($what)" "$rc" 0
}

dsn_bob()	# a Postfix DSN for bob@remote.test; $1 the answer wanted
{
	mt "bob-$1" -D 'from=' -D 'rcpt=alice@sender.test' \
	    -D client_addr=127.0.0.1 -D "msg=$E2E_DATA/postfix-5xx.eml" \
	    -D qid=5B2C3D4E5F -D want_mail=continue -D "want_eom=$1"
}

dsn_frank()	# a remote bounce for frank@remote.test; $1 the answer wanted
{
	mt "frank-$1" -D 'from=<>' -D 'rcpt=<alice@sender.test>' \
	    -D client_addr=192.0.2.25 -D "msg=$E2E_DATA/remote-5xx.eml" \
	    -D qid=7D4E5F6A7B -D want_mail=continue -D "want_eom=$1"
}

# miltertest offers DSNs about mail that never passed bounced: the trust
# policy would hold them (e2e-trust-*'s subject); and ordinary mail is
# accepted at MAIL FROM without RecordSends.
E2E_MT_CONF="TrustPolicy off RecordSends no"
e2e_mkdir

e2e_log "1. bounced -b, bouncectl in between two DSNs"
e2e_write_bounced_conf $E2E_MT_CONF
"$BOUNCED" -c "$E2E_CONF" -n >>"$E2E_DIR/bounced.log" 2>&1 ||
    e2e_error "bounced -n rejects $E2E_CONF"
(umask 007 && exec "$BOUNCED" -b -c "$E2E_CONF") >>"$E2E_DIR/bounced.log" 2>&1
e2e_check "exit status of bounced -b (the parent)" "$?" 0
for i in $(seq 1 100); do
	[ -S "$E2E_SOCK" ] && [ -s "$E2E_DIR/run/bounced.pid" ] && break
	sleep 0.1
done
E2E_BOUNCED_PID=$(cat "$E2E_DIR/run/bounced.pid" 2>/dev/null)
[ -n "$E2E_BOUNCED_PID" ] && kill -0 "$E2E_BOUNCED_PID" 2>/dev/null ||
    e2e_error "bounced -b is not running"
dsn_bob continue
e2e_ctl status bob@remote.test >/dev/null 2>&1
e2e_check "bouncectl status bob@remote.test after the first DSN" "$?" 1
e2e_ctl suppress --by e2e carol@remote.test >/dev/null 2>&1
e2e_check "exit status of bouncectl suppress (a writer that closes)" "$?" 0
dsn_frank continue
e2e_check "events for bob@remote.test" "$(e2e_history_count bob@remote.test)" 1
e2e_check "events for frank@remote.test (recorded after bouncectl ran)" \
    "$(e2e_history_count frank@remote.test)" 1
e2e_check "the -wal file is still there while bounced runs" \
    "$([ -e "$E2E_DB-wal" ] && echo yes || echo no)" yes
e2e_stop_bounced
e2e_check "events for frank@remote.test once bounced stopped" \
    "$(e2e_history_count frank@remote.test)" 1

e2e_log "2. the database read-only at start"
rm -f "$E2E_DB" "$E2E_DB-wal" "$E2E_DB-shm"
: >"$E2E_DIR/bounced.log"	# e2e_wait_bounced_started reads it
e2e_start_bounced	# makes a new database, then goes
e2e_wait_bounced_started
e2e_stop_bounced
[ -s "$E2E_DB" ] || e2e_error "bounced made no database $E2E_DB"
chmod 0444 "$E2E_DB"
: >"$E2E_DIR/bounced.log"
"$BOUNCED" -c "$E2E_CONF" -n >/dev/null 2>&1
e2e_check "bounced -n on a read-only database: a problem found" "$?" 78
E2E_NO_PRECHECK=1 e2e_start_bounced
e2e_wait_bounced_log 'unavailable' 10
e2e_check_match "bounced says the database is unavailable" \
    "$(grep -i 'unavailable' "$E2E_DIR/bounced.log")" \
    'database .* unavailable: .*bounces are deferred'
mt ordinary -D 'from=<alice@sender.test>' -D 'rcpt=<bob@remote.test>' \
    -D qid=4A1B2C3D4E -D want_mail=accept
dsn_bob tempfail
dsn_bob tempfail
# The keeper's retries log "still unavailable" at DEBUG (the test runs
# with LogLevel debug): only the WARNING counts as the incident's line.
e2e_check "WARNING lines about the database (one per incident)" \
    "$(grep -ci 'warning: database .* unavailable' "$E2E_DIR/bounced.log")" 1
chmod 0644 "$E2E_DB"
for i in $(seq 1 100); do
	grep -q 'is open after' "$E2E_DIR/bounced.log" && break
	sleep 0.1
done
e2e_check "INFO lines about the database opening" \
    "$(grep -c 'is open after' "$E2E_DIR/bounced.log")" 1
dsn_bob continue
dsn_bob continue
e2e_check "events for bob@remote.test (offered four times)" \
    "$(e2e_history_count bob@remote.test)" 1
e2e_status bob@remote.test
e2e_check "state of bob@remote.test (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" suppressed

e2e_finish
