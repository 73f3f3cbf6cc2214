#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-log-soft.sh - deferrals read from the mail log by `bouncectl
# follow-log`: retries of one message count once, three different
# messages deferred with a 4xx suppress the address on the third.
#
# The remote answers "451 4.2.2 Mailbox full" for dave@remote.test and
# Postfix keeps its default queue lifetimes (no delay_warning_time), so
# it only DEFERS: no DSN is ever made, and the deferrals are known from
# the mail log alone.  follow-log runs on the instance's maillog_file with
# bounced's configuration and database (SoftBounceLimit 3), as an
# operator runs it.
#  1. message 1 is retried by Postfix (every 1-2 s) at least 3 more
#     times: dave is "soft" with a count of 1 and one event.
#  2. message 2: count 2, still not suppressed.
#  3. message 3: suppressed, reason soft-limit, three events; still no
#     DSN and no bounce, the three messages are still queued.

. "$(dirname "$0")/lib.sh"

E2E_SOFT_LIMIT=3
E2E_BOUNCE_AT_ONCE=0
E2E_CONF_EXTRA="SoftBounceWindow 30d"
e2e_up dave@remote.test=soft
e2e_follow_start
rcpt=dave@remote.test
defer_re='to=<dave@remote\.test>,.* status=deferred '

e2e_log "message 1 to $rcpt (remote: 451 4.2.2 mailbox full), retried"
e2e_send "$E2E_SENDER" "$rcpt" "e2e log soft 1"
e2e_wait_log "$defer_re" 4 15 ||
    e2e_log "only $(e2e_count_log "$defer_re") deferrals within 15 s"
n=$(e2e_count_log "$defer_re")
e2e_check "message 1 deferred at least 4 times (1 try + 3 retries)" \
    "$([ "$n" -ge 4 ] && echo yes || echo "no ($n)")" yes
e2e_check "distinct messages deferred so far" \
    "$(e2e_count_qids "$rcpt" deferred)" 1
e2e_wait_log_read 10 || e2e_check "follow-log caught up with the log" \
    behind "caught up"
e2e_status "$rcpt"
e2e_check "exit status of bouncectl status after the retries" "$E2E_RC" 0
e2e_check "state after $n deferrals of message 1 (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" soft
e2e_check "soft count after $n deferrals of message 1 (--json)" \
    "$(e2e_json_get "$E2E_JSON" soft_count)" 1
e2e_check_match "last diagnostic after message 1" \
    "$(e2e_json_get "$E2E_JSON" last_diagnostic)" '451 4\.2\.2 .*mailbox full'
e2e_check "events for $rcpt after $n deferrals of one message" \
    "$(e2e_history_count "$rcpt")" 1
h=$(e2e_ctl --json history "$rcpt" 2>&1)
e2e_check "action of the event (--json history)" \
    "$(e2e_json_get "$h" action)" delayed
e2e_check "status of the event (--json history)" \
    "$(e2e_json_get "$h" status)" 4.2.2
e2e_check "source of the event (--json history)" \
    "$(e2e_json_get "$h" source)" log
e2e_check "queue id of the event is message 1's" \
    "$(e2e_json_get "$h" queue_id)" "$(e2e_qids "$rcpt" deferred)"

e2e_log "message 2 to $rcpt"
e2e_send "$E2E_SENDER" "$rcpt" "e2e log soft 2"
e2e_wait_qids "$rcpt" deferred 2 10
e2e_check "distinct messages deferred after message 2" \
    "$(e2e_count_qids "$rcpt" deferred)" 2
e2e_wait_log_read 10 || e2e_check "follow-log caught up with the log" \
    behind "caught up"
e2e_status "$rcpt"
e2e_check "exit status of bouncectl status after message 2" "$E2E_RC" 0
e2e_check "state after message 2 (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" soft
e2e_check "soft count after message 2 (--json)" \
    "$(e2e_json_get "$E2E_JSON" soft_count)" 2
e2e_check_nomatch "not suppressed after message 2 (text)" "$E2E_OUT" \
    '^[^:]*state[^:]*:[[:space:]]*suppressed'

e2e_log "message 3 to $rcpt"
e2e_send "$E2E_SENDER" "$rcpt" "e2e log soft 3"
e2e_wait_qids "$rcpt" deferred 3 10
e2e_wait_status "$rcpt" 1 10
e2e_status "$rcpt"
e2e_check "exit status of bouncectl status after message 3" "$E2E_RC" 1
e2e_check "state after message 3 (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" suppressed
e2e_check "suppression reason after message 3 (--json)" \
    "$(e2e_json_get "$E2E_JSON" reason)" soft-limit
e2e_check_match "reason after message 3 (text)" "$E2E_OUT" 'soft-limit'
e2e_wait_log_read 10 || e2e_check "follow-log caught up with the log" \
    behind "caught up"
e2e_check "events for $rcpt after 3 messages and their retries" \
    "$(e2e_history_count "$rcpt")" 3

# Postfix only deferred: no bounce, no DSN, everything still queued
e2e_check "messages Postfix bounced" \
    "$(e2e_count_log 'status=(bounced|expired)')" 0
e2e_check "DSNs returned to the sender" \
    "$(e2e_count_log "$(e2e_returned_re)")" 0
e2e_check "messages still in the queue" "$(e2e_queue_size)" 3
e2e_check "bounced log lines about a bounce" \
    "$(grep -c ': bounce rcpts=' "$E2E_DIR/bounced.log")" 0

e2e_follow_stop
e2e_check "exit status of follow-log after SIGTERM" "$E2E_FOLLOW_RC" 0
e2e_check_match "follow-log's report" "$(cat "$E2E_DIR/follow-log.log")" \
    'stopped file:.*: [0-9]+ lines .* 0 malformed'
e2e_check_milter_clean

e2e_finish
