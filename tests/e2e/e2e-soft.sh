#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-soft.sh - soft bounces count per message and suppress at the limit.
#
# The remote answers "451 4.2.2 Mailbox full" for dave@remote.test; with
# maximal_queue_lifetime = 0 Postfix gives up at once and writes a DSN.
# After one message dave is "soft" with a count of 1 and not suppressed;
# after three DIFFERENT messages (SoftBounceLimit 3) he is suppressed
# with the reason soft-limit.

. "$(dirname "$0")/lib.sh"

E2E_SOFT_LIMIT=3
e2e_up dave@remote.test=soft

n=0
for want_count in 1 2 3; do
	n=$((n + 1))
	e2e_log "message $n to dave@remote.test (remote: 451 4.2.2 mailbox full)"
	e2e_send "$E2E_SENDER" dave@remote.test "e2e soft $n"
	e2e_wait_returned "$n" 30
	e2e_check "DSNs returned to the sender after message $n" \
	    "$(e2e_count_log "$(e2e_returned_re)")" "$n"
	if [ "$want_count" -lt 3 ]; then
		e2e_status dave@remote.test
		e2e_check "exit status of bouncectl status after message $n" \
		    "$E2E_RC" 0
		e2e_check "state after message $n (--json)" \
		    "$(e2e_json_get "$E2E_JSON" state)" soft
		e2e_check "soft count after message $n (--json)" \
		    "$(e2e_json_get "$E2E_JSON" soft_count)" "$want_count"
		e2e_check_match "state after message $n (text)" "$E2E_OUT" \
		    'soft'
		e2e_check_nomatch "not suppressed after message $n (text)" \
		    "$E2E_OUT" '^[^:]*state[^:]*:[[:space:]]*suppressed'
	fi
done

e2e_wait_status dave@remote.test 1 10
e2e_status dave@remote.test
e2e_check "exit status of bouncectl status after message 3" "$E2E_RC" 1
e2e_check "state after message 3 (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" suppressed
e2e_check "suppression reason after message 3 (--json)" \
    "$(e2e_json_get "$E2E_JSON" reason)" soft-limit
e2e_check_match "reason after message 3 (text)" "$E2E_OUT" 'soft-limit'
e2e_check_match "last diagnostic" \
    "$(e2e_json_get "$E2E_JSON" last_diagnostic)" '^451 4\.2\.2 .*mailbox full'
e2e_check "events for dave@remote.test" \
    "$(e2e_history_count dave@remote.test)" 3
e2e_check_milter_clean

e2e_finish
