#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-log-reset.sh - deferrals are provisional and deliveries settle
# them (issue 9); `bouncectl ingest-log` run after each step, resuming at
# its position.
#
# Postfix keeps its default queue lifetimes, so a 4xx only defers (no
# DSN).  frank@remote.test is routed to a remote that answers "451 4.2.2
# Mailbox full" until told otherwise (lib.sh's flip server):
#  1. messages 1 and 2 are deferred: frank is active, count 0, two
#     messages pending (a deferral counts for nothing by itself).
#  2. the remote accepts from now on (and the queue is flushed): both
#     messages are delivered (status=sent): active, count 0, none pending.
#  3. the remote defers again; message 3 is deferred: one pending, and
#     frank is NOT suppressed.
# Then the whole log is read again (--from-start): nothing new.

. "$(dirname "$0")/lib.sh"

E2E_SOFT_LIMIT=3
E2E_BOUNCE_AT_ONCE=0
rcpt=frank@remote.test
e2e_up "$rcpt=flip"

# ingest_check STEP - ingest-log, which must succeed and read something
ingest_check()
{
	e2e_ingest
	e2e_check "exit status of ingest-log ($1)" "$E2E_INGEST_RC" 0
	e2e_check "malformed lines in ingest-log's report ($1)" \
	    "$(e2e_json_get "$E2E_INGEST" malformed)" 0
}

for m in 1 2; do
	e2e_log "message $m to $rcpt (remote: 451 4.2.2 mailbox full)"
	e2e_send "$E2E_SENDER" "$rcpt" "e2e log reset $m"
	e2e_wait_qids "$rcpt" deferred "$m" 10
	e2e_check "distinct messages deferred" \
	    "$(e2e_count_qids "$rcpt" deferred)" "$m"
	ingest_check "after message $m"
	e2e_status "$rcpt"
	e2e_check "state after message $m (--json)" \
	    "$(e2e_json_get "$E2E_JSON" state)" active
	e2e_check "soft count after message $m (--json)" \
	    "$(e2e_json_get "$E2E_JSON" soft_count)" 0
	e2e_check "messages pending after message $m (--json)" \
	    "$(e2e_json_get "$E2E_JSON" pending_count)" "$m"
done
# the second run resumed where the first stopped: together they read no
# more lines than the log has (it only grows)
read1=$(sed -n 1p "$E2E_DIR/ingest-log.log" | python3 -c \
    'import json,sys; print(json.load(sys.stdin)["lines"])' 2>/dev/null)
read2=$(e2e_json_get "$E2E_INGEST" lines)
total=$(wc -l <"$E2E_MAILLOG")
e2e_check "lines read by both ingest-log runs ($read1 + $read2) within the \
log's $total" "$([ $((${read1:-999999} + ${read2:-0})) -le "$total" ] &&
    [ "${read2:-0}" -gt 0 ] &&
    echo yes || echo no)" yes

e2e_log "the remote accepts $rcpt from now on"
e2e_flip ok
e2e_wait_qids "$rcpt" sent 2 15 ||
    e2e_log "only $(e2e_count_qids "$rcpt" sent) delivered within 15 s"
e2e_check "messages delivered to $rcpt once accepted" \
    "$(e2e_count_qids "$rcpt" sent)" 2
ingest_check "after the deliveries"
e2e_check "deliveries in ingest-log's report" \
    "$(e2e_json_get "$E2E_INGEST" deliveries)" 2
e2e_status "$rcpt"
e2e_check "exit status of bouncectl status after the deliveries" \
    "$E2E_RC" 0
e2e_check "state after the deliveries (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" active
e2e_check "soft count after the deliveries (--json)" \
    "$(e2e_json_get "$E2E_JSON" soft_count)" 0
e2e_check "messages pending after the deliveries (--json)" \
    "$(e2e_json_get "$E2E_JSON" pending_count)" 0

e2e_log "the remote defers $rcpt again; message 3"
e2e_flip soft
e2e_send "$E2E_SENDER" "$rcpt" "e2e log reset 3"
e2e_wait_qids "$rcpt" deferred 3 10
e2e_check "distinct messages deferred" \
    "$(e2e_count_qids "$rcpt" deferred)" 3
ingest_check "after message 3"
e2e_status "$rcpt"
e2e_check "exit status of bouncectl status after message 3" "$E2E_RC" 0
e2e_check "state after message 3 (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" active
e2e_check "messages pending after message 3 (--json)" \
    "$(e2e_json_get "$E2E_JSON" pending_count)" 1
e2e_check_nomatch "not suppressed after message 3 (text)" "$E2E_OUT" \
    '^[^:]*state[^:]*:[[:space:]]*suppressed'
# 3 deferred messages (one event each, however often retried) and 2
# deliveries
e2e_check "events for $rcpt" "$(e2e_history_count "$rcpt")" 5

e2e_log "the whole log again (--from-start)"
e2e_ingest --from-start
e2e_check "exit status of ingest-log --from-start" "$E2E_INGEST_RC" 0
e2e_check "new events from reading the whole log again" \
    "$(e2e_json_get "$E2E_INGEST" new_events)" 0
n=$(e2e_json_get "$E2E_INGEST" duplicates)
e2e_check "events already known when reading it again" \
    "$([ "${n:-0}" -ge 5 ] && echo ">= 5" || echo "$n")" ">= 5"
e2e_status "$rcpt"
e2e_check "messages pending after reading the log again" \
    "$(e2e_json_get "$E2E_JSON" pending_count)" 1
e2e_check "events for $rcpt after reading the log again" \
    "$(e2e_history_count "$rcpt")" 5
e2e_check "DSNs returned to the sender" \
    "$(e2e_count_log "$(e2e_returned_re)")" 0
e2e_check_milter_clean

e2e_finish
