#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-log-soft.sh - deferrals read from the mail log by `bouncectl
# follow-log`: a deferral is provisional (issue 9): retries of one message
# are one pending message, three messages deferred count for nothing
# until Postfix gives them up; three messages given up suppress.
#
# The remote answers "451 4.2.2 Mailbox full" for dave@remote.test and
# Postfix keeps its default queue lifetimes (no delay_warning_time), so
# it only DEFERS: no DSN is ever made, and the deferrals are known from
# the mail log alone.  follow-log runs on the instance's maillog_file with
# bounced's configuration and database (SoftBounceLimit 3), as an
# operator runs it.
#  1. message 1 is retried by Postfix (every 1-2 s) at least 3 more
#     times: dave is active, one message pending, one event.
#  2. message 2: two pending, still active.
#  3. message 3: three pending, still active, nothing bounced.
#  4. the queue lifetime is cut to 1 s: Postfix gives the three up
#     (status=expired): three soft bounces, suppressed (soft-limit).

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
    "$(e2e_json_get "$E2E_JSON" state)" active
e2e_check "soft count after $n deferrals of message 1 (--json)" \
    "$(e2e_json_get "$E2E_JSON" soft_count)" 0
e2e_check "messages pending after $n deferrals of message 1 (--json)" \
    "$(e2e_json_get "$E2E_JSON" pending_count)" 1
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
    "$(e2e_json_get "$E2E_JSON" state)" active
e2e_check "messages pending after message 2 (--json)" \
    "$(e2e_json_get "$E2E_JSON" pending_count)" 2
e2e_check_nomatch "not suppressed after message 2 (text)" "$E2E_OUT" \
    '^[^:]*state[^:]*:[[:space:]]*suppressed'

e2e_log "message 3 to $rcpt"
e2e_send "$E2E_SENDER" "$rcpt" "e2e log soft 3"
e2e_wait_qids "$rcpt" deferred 3 10
e2e_wait_log_read 10 || e2e_check "follow-log caught up with the log" \
    behind "caught up"
e2e_status "$rcpt"
e2e_check "exit status of bouncectl status after message 3" "$E2E_RC" 0
e2e_check "state after message 3, deferred only (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" active
e2e_check "messages pending after message 3 (--json)" \
    "$(e2e_json_get "$E2E_JSON" pending_count)" 3
e2e_check "events for $rcpt after 3 messages and their retries" \
    "$(e2e_history_count "$rcpt")" 3
e2e_check "messages Postfix bounced so far" \
    "$(e2e_count_log 'status=(bounced|expired)')" 0
e2e_check "messages still in the queue" "$(e2e_queue_size)" 3

e2e_log "Postfix gives the three up (maximal_queue_lifetime 1s)"
postconf -c "$E2E_DIR/etc" -e maximal_queue_lifetime=1s \
    bounce_queue_lifetime=1s >/dev/null 2>&1 || e2e_error "postconf failed"
postfix -c "$E2E_DIR/etc" reload >/dev/null 2>&1 || e2e_error "reload failed"
sleep 2
postqueue -c "$E2E_DIR/etc" -f >/dev/null 2>&1 || true
e2e_wait_log 'status=expired' 3 20 ||
    e2e_log "only $(e2e_count_log 'status=expired') expired within 20 s"
e2e_wait_status "$rcpt" 1 15
e2e_wait_log_read 10 || e2e_check "follow-log caught up with the log" \
    behind "caught up"
e2e_status "$rcpt"
e2e_check "exit status of bouncectl status once given up" "$E2E_RC" 1
e2e_check "state once given up (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" suppressed
e2e_check "suppression reason once given up (--json)" \
    "$(e2e_json_get "$E2E_JSON" reason)" soft-limit
e2e_check "soft count once given up: one per message (--json)" \
    "$(e2e_json_get "$E2E_JSON" soft_count)" 3
e2e_check "messages pending once given up (--json)" \
    "$(e2e_json_get "$E2E_JSON" pending_count)" 0
e2e_check_match "reason once given up (text)" "$E2E_OUT" 'soft-limit'

e2e_follow_stop
e2e_check "exit status of follow-log after SIGTERM" "$E2E_FOLLOW_RC" 0
e2e_check_match "follow-log's report" "$(cat "$E2E_DIR/follow-log.log")" \
    'stopped file:.*: [0-9]+ lines .* 0 malformed'
e2e_check_milter_clean

e2e_finish
