#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-tempfail.sh - when the store cannot record, bounced answers TEMPFAIL
# and Postfix keeps the bounce; once the store works again the DSN is
# recorded exactly once.
#
# The database is write-locked by another process (BEGIN IMMEDIATE, with
# DatabaseBusyTimeout 200ms), which is what any store failure looks like
# to the milter.  Postfix's DSN for bob@remote.test (550 5.1.1) must be
# refused with 4.7.1 (never lost, never rejected), the original must stay
# queued ("bounce failed"), and nothing may be recorded.  After the lock
# is released Postfix re-offers the DSN: bob is suppressed, with one event.

. "$(dirname "$0")/lib.sh"

E2E_CONF_EXTRA="DatabaseBusyTimeout 200ms"
e2e_up bob@remote.test=hard

e2e_log "locking the database, then sending to bob@remote.test" \
    "(remote: 550 5.1.1)"
e2e_lock_db
e2e_send "$E2E_SENDER" bob@remote.test "e2e tempfail"

tf_re='milter-reject: END-OF-MESSAGE .* 4\.7\.1 .*'
tf_re="${tf_re}from=<> to=<alice@sender\\.test>"
e2e_wait_log "$tf_re" 2 30
n=$(e2e_count_log "$tf_re")
e2e_check "DSN refused with 4.7.1 at least twice while locked" \
    "$([ "$n" -ge 2 ] && echo yes || echo "no ($n)")" yes
e2e_check "DSNs that reached the sender while locked" \
    "$(e2e_count_log "$(e2e_returned_re)")" 0
n=$(e2e_count_log 'status=deferred \(bounce failed\)')
e2e_check "original deferred with \"bounce failed\"" \
    "$([ "$n" -ge 1 ] && echo yes || echo "no ($n)")" yes
qid=$(grep -E 'to=<bob@remote\.test>,.* status=bounced' "$E2E_MAILLOG" |
    head -n 1 | sed -E 's/.*: ([0-9A-F]+): to=.*/\1/')
q=$(postqueue -c "$E2E_DIR/etc" -p 2>&1)
e2e_check_match "the original ($qid) is still queued" "$q" "^${qid:-none}[* !]"
e2e_status bob@remote.test
e2e_check "exit status of bouncectl status while locked" "$E2E_RC" 0
# one incident, however many DSNs it turned away: logged once
e2e_check "bounced log lines about the store failure" \
    "$(grep -c 'cannot record' "$E2E_DIR/bounced.log")" 1

e2e_log "releasing the lock"
e2e_unlock_db
e2e_wait_returned 1 30
e2e_check "DSNs that reached the sender after the lock" \
    "$(e2e_count_log "$(e2e_returned_re)")" 1
e2e_wait_status bob@remote.test 1 10
e2e_status bob@remote.test
e2e_check "exit status of bouncectl status after the lock" "$E2E_RC" 1
e2e_check_match "bob@remote.test reason" "$E2E_OUT" 'userunknown'
e2e_check "events for bob@remote.test" \
    "$(e2e_history_count bob@remote.test)" 1
for i in $(seq 1 100); do
	q=$(postqueue -c "$E2E_DIR/etc" -p 2>&1)
	case $q in *"queue is empty"*) break ;; esac
	sleep 0.1
done
e2e_check_match "queue at the end" "$q" 'queue is empty'

e2e_finish
