#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-block.sh - a sender-side failure never suppresses the recipient.
#
# The remote rejects erin@remote.test with "550 5.7.1 ... blocked using
# zen.spamhaus.org": a hard SMTP code, but the fault is the sending
# host's reputation.  The event must be recorded (history shows it) and
# the address must stay deliverable (status exits 0).

. "$(dirname "$0")/lib.sh"

e2e_up erin@remote.test=block

e2e_log "sending to erin@remote.test (remote: 550 5.7.1 blocked using spamhaus)"
e2e_send "$E2E_SENDER" erin@remote.test "e2e block"
e2e_wait_returned 1 30
e2e_check "DSNs that passed the milter and reached the sender" \
    "$(e2e_count_log "$(e2e_returned_re)")" 1

# the event is recorded before the DSN is let through; poll a little
# all the same in case the store commits asynchronously
for i in $(seq 1 50); do
	hist=$(e2e_ctl history erin@remote.test 2>&1)
	printf '%s\n' "$hist" | grep -q '5\.7\.1' && break
	sleep 0.1
done
e2e_check_match "history of erin@remote.test holds the 5.7.1 event" \
    "$hist" '5\.7\.1'
e2e_check_match "history of erin@remote.test keeps the diagnostic" \
    "$hist" 'spamhaus'
e2e_check_match "the event is classified sender-side (blocked)" \
    "$hist" 'blocked|blacklist|blocklist|reputation'

e2e_status erin@remote.test
e2e_check "exit status of bouncectl status erin@remote.test" "$E2E_RC" 0
e2e_check "state of erin@remote.test (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" active
e2e_check "events for erin@remote.test" \
    "$(e2e_history_count erin@remote.test)" 1
e2e_check_milter_clean

e2e_finish
