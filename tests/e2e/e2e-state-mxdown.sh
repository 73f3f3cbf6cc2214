#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-state-mxdown.sh - issue 9, case 1: an MX down, then up.  Deferrals
# are provisional: mail that is delivered in the end never counts.
#
# Postfix keeps its default queue lifetimes (a 4xx or a refused
# connection only defers).  amy@remote.test is routed to a port where
# nothing listens (the MX is down):
#  1. three messages are deferred ("connect to ...: Connection refused"):
#     amy is active, soft count 0, three messages pending;
#  2. an smtp-sink starts on that port (the MX is up) and the queue is
#     flushed: the three are delivered; amy stays active, count 0, none
#     pending, and `bouncectl rebuild --dry-run` changes nothing.
# Before issue 9 the three deferrals suppressed amy (soft-limit) and the
# deliveries did not lift it.

. "$(dirname "$0")/lib.sh"

E2E_SOFT_LIMIT=3
E2E_BOUNCE_AT_ONCE=0
rcpt=amy@remote.test
e2e_need_postfix
read -r P_DOWN <<<"$(e2e_free_ports 1 30000)"
[ -n "$P_DOWN" ] || e2e_error "no free port for the MX"
e2e_up "$rcpt=down"

ingest_check()
{
	e2e_ingest
	e2e_check "exit status of ingest-log ($1)" "$E2E_INGEST_RC" 0
	e2e_check "malformed lines in ingest-log's report ($1)" \
	    "$(e2e_json_get "$E2E_INGEST" malformed)" 0
}

for m in 1 2 3; do
	e2e_log "message $m to $rcpt (its MX is down)"
	e2e_send "$E2E_SENDER" "$rcpt" "e2e mx down $m"
done
e2e_wait_qids "$rcpt" deferred 3 20 ||
    e2e_log "only $(e2e_count_qids "$rcpt" deferred) deferred within 20 s"
e2e_check "distinct messages deferred" \
    "$(e2e_count_qids "$rcpt" deferred)" 3
e2e_check "deferrals say the connection was refused" \
    "$([ "$(e2e_count_log "to=<$rcpt>.*status=deferred.*Connection refused")" \
    -ge 3 ] && echo yes || echo no)" yes
ingest_check "while the MX is down"
e2e_status "$rcpt"
e2e_check "exit status of bouncectl status while the MX is down" "$E2E_RC" 0
e2e_check "state while the MX is down (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" active
e2e_check "soft count while the MX is down (--json)" \
    "$(e2e_json_get "$E2E_JSON" soft_count)" 0
e2e_check "messages pending while the MX is down (--json)" \
    "$(e2e_json_get "$E2E_JSON" pending_count)" 3
e2e_check_match "status says they are pending (text)" "$E2E_OUT" \
    'pending: +3 messages deferred'

e2e_log "the MX comes up: smtp-sink on port $P_DOWN, queue flushed"
e2e_start_sink mx "$P_DOWN"
postqueue -c "$E2E_DIR/etc" -f >/dev/null 2>&1 || true
e2e_wait_qids "$rcpt" sent 3 30 ||
    e2e_log "only $(e2e_count_qids "$rcpt" sent) delivered within 30 s"
e2e_check "messages delivered once the MX is up" \
    "$(e2e_count_qids "$rcpt" sent)" 3
ingest_check "after the deliveries"
e2e_status "$rcpt"
e2e_check "exit status of bouncectl status after the deliveries" \
    "$E2E_RC" 0
e2e_check "state after the deliveries (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" active
e2e_check "soft count after the deliveries (--json)" \
    "$(e2e_json_get "$E2E_JSON" soft_count)" 0
e2e_check "messages pending after the deliveries (--json)" \
    "$(e2e_json_get "$E2E_JSON" pending_count)" 0
e2e_check_nomatch "never suppressed (text)" "$E2E_OUT" \
    '^[^:]*state[^:]*:[[:space:]]*suppressed'

# the same events replayed: the same state
out=$(e2e_ctl_conf --json rebuild --dry-run 2>&1)
e2e_check "rebuild --dry-run: states changed" \
    "$(e2e_json_get "$out" changed)" 0
e2e_check "DSNs returned to the sender" \
    "$(e2e_count_log "$(e2e_returned_re)")" 0
e2e_check_milter_clean

e2e_finish
