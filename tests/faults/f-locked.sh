#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# f-locked.sh - the database write-locked by another process for 25 s,
# longer than Postfix's milter timeouts here (milter_command_timeout 5s,
# milter_content_timeout 10s), while bounces arrive.  Issue 11: one
# bounce was answered per busy timeout while every other thread queued
# behind one mutex.  Asserts: the bounces are answered (TEMPFAIL after
# DatabaseBusyTimeout 3s) in parallel, many during the lock, none after
# Postfix gave up on the milter (no milter timeout logged); ordinary
# mail is delivered during the lock; after it, every bounce is recorded
# exactly once.

. "$(dirname "$0")/faults.sh"

n=$((FAULT_N / 10 > 50 ? FAULT_N / 10 : 50))
E2E_CONF_EXTRA="DatabaseBusyTimeout 3s"
E2E_MAINCF_EXTRA="milter_command_timeout = 5s
milter_content_timeout = 10s"
f_up
e2e_lock_db
t0=$SECONDS
e2e_log "$n bounces and 5 ordinary messages while the database is locked"
FAULT_BG=1 f_send_bulk "$n" l
for i in $(seq 1 5); do
	e2e_send "$E2E_SENDER" "o$i@remote.test" "ordinary $i"
done
e2e_wait_log 'to=<o[0-9]+@remote\.test>,.* status=sent' 5 20
e2e_check "ordinary messages delivered while locked" \
    "$(e2e_count_log 'to=<o[0-9]+@remote\.test>,.* status=sent')" 5
sleep $((25 - (SECONDS - t0) > 0 ? 25 - (SECONDS - t0) : 0))
answered=$(f_bounced_log_count 'action=tempfail.* error=store')
e2e_log "bounces answered TEMPFAIL during the lock: $answered"
e2e_unlock_db
e2e_check_match "bounces answered TEMPFAIL during the 25 s lock" \
    "$answered" '^([2-9][0-9]|[1-9][0-9][0-9]+)$'
wait "$F_SEND_PID" || e2e_error "sending failed"
f_wait_recorded l "$n" 180
f_check_exactly_once l "$n"
# on failure, which timeouts: the tails printed below are of the end
grep -E -m 5 -- 'milter.*(timeout|timed out)' "$E2E_MAILLOG" 2>/dev/null |
    sed 's/^/f-locked: timeout line: /' || true
e2e_check "mail log lines about milter timeouts" \
    "$(e2e_count_log 'milter.*(timeout|timed out)')" 0
e2e_finish
