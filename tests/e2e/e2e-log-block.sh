#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-log-block.sh - a 5.7.1 block from one domain is counted in `stats`
# but never suppresses its recipient; the DSN and the mail log line of
# the same failure make one event.
#
# Mail to blocky.test goes to the relayhost sink, which accepts it,
# except erin@blocky.test, routed to the sink that answers "550 5.7.1
# ... blocked using zen.spamhaus.org" (the sending host's reputation, not
# the recipient's fault).  One message to each, default queue lifetimes:
# Postfix bounces erin's and writes a DSN, which bounced records through
# non_smtpd_milters; oscar@blocky.test's is delivered.  Then `bouncectl
# ingest-log` reads the mail log: erin's bounce line is the event the DSN
# made already.  `stats --by domain` shows blocky.test with 2 sends, 1
# delivered, 1 sender-side, a bounce rate of 50% and a hard rate of 0, and
# nothing suppressed; `status` says erin is not suppressed.

. "$(dirname "$0")/lib.sh"

E2E_BOUNCE_AT_ONCE=0
blocked=erin@blocky.test
fine=oscar@blocky.test
e2e_up "$blocked=block"

e2e_log "to $blocked (remote: 550 5.7.1 blocked using spamhaus) and $fine"
e2e_send "$E2E_SENDER" "$blocked" "e2e log block"
e2e_send "$E2E_SENDER" "$fine" "e2e log block (delivered)"
e2e_wait_returned 1 15
e2e_wait_qids "$fine" sent 1 10
e2e_check "messages Postfix bounced for $blocked" \
    "$(e2e_count_qids "$blocked" bounced)" 1
e2e_check "messages delivered to $fine" "$(e2e_count_qids "$fine" sent)" 1
e2e_check "DSNs that passed the milter and reached the sender" \
    "$(e2e_count_log "$(e2e_returned_re)")" 1
e2e_wait_log "$(e2e_returned_re)" 1 5
h=$(e2e_ctl --json history "$blocked" 2>&1)
e2e_check "source of erin's event before the log is read" \
    "$(e2e_json_get "$h" source)" dsn-internal

e2e_log "ingest-log on the mail log"
e2e_ingest
e2e_check "exit status of ingest-log" "$E2E_INGEST_RC" 0
e2e_check "bounces in ingest-log's report" \
    "$(e2e_json_get "$E2E_INGEST" bounces)" 1
e2e_check "sender-side bounces in ingest-log's report" \
    "$(e2e_json_get "$E2E_INGEST" sender_side)" 1
n=$(e2e_json_get "$E2E_INGEST" duplicates)
e2e_check "events ingest-log found already known (erin's, from the DSN)" \
    "$([ "${n:-0}" -ge 1 ] && echo ">= 1" || echo "$n")" ">= 1"
e2e_check "events for $blocked (DSN and log line: one event)" \
    "$(e2e_history_count "$blocked")" 1
h=$(e2e_ctl --json history "$blocked" 2>&1)
e2e_check "status of erin's event" "$(e2e_json_get "$h" status)" 5.7.1
e2e_check "reason of erin's event" "$(e2e_json_get "$h" reason)" blocked
e2e_check "who can act on erin's event" "$(e2e_json_get "$h" who)" sender
e2e_check "erin's event is not hard" "$(e2e_json_get "$h" hard)" false

e2e_status "$blocked"
e2e_check "exit status of bouncectl status $blocked" "$E2E_RC" 0
e2e_check "state of $blocked (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" active
e2e_check_nomatch "$blocked not suppressed (text)" "$E2E_OUT" \
    '^[^:]*state[^:]*:[[:space:]]*suppressed'

e2e_log "bouncectl stats --by domain"
st=$(e2e_ctl --json stats --by domain 2>&1)
e2e_check "exit status of stats --by domain --json" "$?" 0
e2e_check "sends to blocky.test (--json)" \
    "$(e2e_json_row "$st" key blocky.test sends)" 2
e2e_check "delivered to blocky.test (--json)" \
    "$(e2e_json_row "$st" key blocky.test delivered)" 1
e2e_check "sender-side failures at blocky.test (--json)" \
    "$(e2e_json_row "$st" key blocky.test sender_side)" 1
e2e_check "hard bounces at blocky.test (--json)" \
    "$(e2e_json_row "$st" key blocky.test hard)" 0
e2e_check "soft bounces at blocky.test (--json)" \
    "$(e2e_json_row "$st" key blocky.test soft)" 0
e2e_check_match "bounce rate of blocky.test (--json)" \
    "$(e2e_json_row "$st" key blocky.test bounce_rate)" '^50(\.0+)?$'
e2e_check_match "hard bounce rate of blocky.test (--json)" \
    "$(e2e_json_row "$st" key blocky.test hard_rate)" '^0(\.0+)?$'
e2e_check "addresses suppressed at blocky.test (--json)" \
    "$(e2e_json_row "$st" key blocky.test suppressed)" 0
e2e_check "events at blocky.test (--json)" \
    "$(e2e_json_row "$st" key blocky.test events)" 2
st=$(e2e_ctl stats --by domain 2>&1)
e2e_check "exit status of stats --by domain" "$?" 0
e2e_check_match "blocky.test in stats --by domain (text)" "$st" \
    '^blocky\.test +2 +1 +0 +0 +1 +50(\.0+)?%? +0(\.0+)?%? +0 '
st=$(e2e_ctl --json stats --by reason 2>&1)
e2e_check "events of reason blocked in stats --by reason (--json)" \
    "$(e2e_json_row "$st" key blocked events)" 1
e2e_check "sender-side of reason blocked in stats --by reason (--json)" \
    "$(e2e_json_row "$st" key blocked sender_side)" 1

# a threshold crossed: exit status 1 and a warning naming the domain
err=$(e2e_ctl stats --by domain --min-sends 2 --warn-total 10 2>&1 \
    >/dev/null)
e2e_check "exit status of stats with a crossed threshold" "$?" 1
e2e_check_match "stats warning about blocky.test" "$err" \
    '^bouncectl: warning: domain blocky\.test: bounce rate above 10'
e2e_check_milter_clean

e2e_finish
