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

e2e_check "erin's message bounced by Postfix" \
    "$(e2e_count_log 'to=<erin@remote\.test>,.* dsn=5\.7\.1, status=bounced')" 1
hist=$(e2e_ctl history erin@remote.test 2>&1)
e2e_check_match "history of erin@remote.test (text) shows the 5.7.1 event" \
    "$hist" 'failed +5\.7\.1'
h=$(e2e_ctl --json history erin@remote.test 2>&1)
e2e_check "status of the event (--json history)" \
    "$(e2e_json_get "$h" status)" 5.7.1
e2e_check_match "diagnostic of the event (--json history)" \
    "$(e2e_json_get "$h" diagnostic)" '^550 5\.7\.1 .*spamhaus'
e2e_check "reason of the event (--json history)" \
    "$(e2e_json_get "$h" reason)" blocked
e2e_check "the event is not hard (--json history)" \
    "$(e2e_json_get "$h" hard)" false
e2e_check "who can act on it (--json history)" \
    "$(e2e_json_get "$h" who)" sender
e2e_check "source of the event (--json history)" \
    "$(e2e_json_get "$h" source)" dsn-internal

e2e_status erin@remote.test
e2e_check "exit status of bouncectl status erin@remote.test" "$E2E_RC" 0
e2e_check "state of erin@remote.test (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" active
e2e_check "events for erin@remote.test" \
    "$(e2e_history_count erin@remote.test)" 1
e2e_check_milter_clean

e2e_finish
