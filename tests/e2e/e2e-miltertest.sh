#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-miltertest.sh - bounced driven by miltertest(8) through dsn.lua,
# without Postfix: the milter protocol answers and their effect on the
# store.
#
#  1. ordinary mail (sender <alice@sender.test>) is accepted at MAIL FROM;
#  2. a Postfix DSN (data/postfix-5xx.eml, bob@remote.test 550 5.1.1) with
#     the bare "" sender and {client_addr} 127.0.0.1 that Postfix's
#     internal path gives is continued, and bob is suppressed afterwards;
#  3. the same DSN offered again (as Postfix does after a TEMPFAIL) is
#     continued and adds no event;
#  4. with the database write-locked by another process, a remote bounce
#     (data/remote-5xx.eml, frank@remote.test) gets TEMPFAIL and nothing
#     is recorded; offered again once the lock is gone, it is continued
#     and recorded exactly once.

. "$(dirname "$0")/lib.sh"

e2e_need_bounced
command -v miltertest >/dev/null || e2e_skip "miltertest not installed"
e2e_mkdir
# miltertest offers DSNs about mail that never passed bounced: the trust
# policy would hold them all (that is e2e-trust-*'s subject); ordinary
# mail is accepted at MAIL FROM without RecordSends.
e2e_write_bounced_conf DatabaseBusyTimeout 200ms TrustPolicy off \
    RecordSends no
e2e_start_bounced

# mt WHAT -D... - one run of dsn.lua; its exit status
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

e2e_log "1. ordinary mail"
mt ordinary -D 'from=<alice@sender.test>' -D 'rcpt=<bob@remote.test>' \
    -D qid=4A1B2C3D4E -D want_mail=accept
e2e_status bob@remote.test
e2e_check "bob@remote.test after ordinary mail: status exit" "$E2E_RC" 0

e2e_log "2. a Postfix DSN for bob@remote.test (550 5.1.1)"
mt dsn -D 'from=' -D 'rcpt=alice@sender.test' -D client_addr=127.0.0.1 \
    -D "msg=$E2E_DATA/postfix-5xx.eml" -D qid=5B2C3D4E5F \
    -D want_mail=continue -D want_eom=continue
e2e_status bob@remote.test
e2e_check "bob@remote.test after the DSN: status exit" "$E2E_RC" 1
e2e_check "state of bob@remote.test (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" suppressed
e2e_check_match "bob@remote.test reason" "$E2E_OUT" 'userunknown'
h=$(e2e_ctl --json history bob@remote.test 2>&1)
e2e_check "source of the event (--json history)" \
    "$(e2e_json_get "$h" source)" dsn-internal
e2e_check "original queue id of the event (--json history)" \
    "$(e2e_json_get "$h" queue_id)" 44436A721A7
e2e_check_match "bob@remote.test last diagnostic" "$E2E_OUT" 'no such user'
e2e_check "events for bob@remote.test" \
    "$(e2e_history_count bob@remote.test)" 1

e2e_log "3. the same DSN again, as Postfix re-offers it"
mt dsn-again -D 'from=' -D 'rcpt=alice@sender.test' \
    -D client_addr=127.0.0.1 \
    -D "msg=$E2E_DATA/postfix-5xx.eml" -D qid=6C3D4E5F6A \
    -D want_mail=continue -D want_eom=continue
e2e_check "events for bob@remote.test after the repeat" \
    "$(e2e_history_count bob@remote.test)" 1

e2e_log "4. a remote bounce while the database is locked"
e2e_lock_db
mt locked -D 'from=<>' -D 'rcpt=<alice@sender.test>' \
    -D client_addr=192.0.2.25 \
    -D "msg=$E2E_DATA/remote-5xx.eml" -D qid=7D4E5F6A7B \
    -D want_mail=continue -D want_eom=tempfail
e2e_status frank@remote.test
e2e_check "frank@remote.test while locked: status exit" "$E2E_RC" 0
e2e_unlock_db
mt unlocked -D 'from=<>' -D 'rcpt=<alice@sender.test>' \
    -D client_addr=192.0.2.25 \
    -D "msg=$E2E_DATA/remote-5xx.eml" -D qid=8E5F6A7B8C \
    -D want_mail=continue -D want_eom=continue
e2e_status frank@remote.test
e2e_check "frank@remote.test after the lock: status exit" "$E2E_RC" 1
e2e_check "events for frank@remote.test" \
    "$(e2e_history_count frank@remote.test)" 1
h=$(e2e_ctl --json history frank@remote.test 2>&1)
e2e_check "source of the event (--json history)" \
    "$(e2e_json_get "$h" source)" dsn-remote

e2e_finish
