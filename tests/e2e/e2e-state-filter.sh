#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-state-filter.sh - issue 9, cases 3, 4 and 9 behind a content
# filter on loopback, with a second smtpd of the instance as its stand-in
# (it takes the message and queues it again under a new queue id, as
# amavis re-injecting does).
#
# Postfix gives a 4xx up at once (queue lifetimes 0), so each failure is
# final and makes a DSN; the mail log is read with ingest-log, the DSNs
# reach bounced through non_smtpd_milters.  HandOffRelays names the
# filter's address:port (the other smtp-sinks stand in for remote MXes).
#  3. hops are hand-offs: three messages to carol@remote.test, each "sent"
#     to the filter (queued as a new id) then given up by carol's MX
#     (451 4.2.2): three soft bounces of three messages, carol suppressed
#     (soft-limit).  Before issue 9 each "sent" to the filter was a
#     delivery that reset the count: never suppressed.
#  4. our side is ours: the filter is down (content_filter points at a
#     port nobody listens on), then the transport is missing ("mail
#     transport unavailable"): every message to dave@ and erin@ is given
#     up, none counts against them (who local, counted by stats).
#  9. one mailbox, one key: RCPT TO:<CAROL@Remote.TEST> is refused
#     (SuppressedRecipients reject), status finds carol spelt so.

. "$(dirname "$0")/lib.sh"

E2E_SOFT_LIMIT=3
E2E_BOUNCE_AT_ONCE=1
e2e_need_postfix
read -r P_FILTER P_FDOWN <<<"$(e2e_free_ports 2 30000)"
[ -n "$P_FDOWN" ] || e2e_error "no free ports for the filter"
E2E_HANDOFF="$E2E_ADDR:$P_FILTER, $E2E_ADDR:$P_FDOWN"
E2E_CONF_EXTRA="SuppressedRecipients reject"
E2E_MAINCF_EXTRA="content_filter = smtp:[$E2E_ADDR]:$P_FILTER"
E2E_MASTER_EXTRA="$E2E_ADDR:$P_FILTER inet n - n - - smtpd
  -o content_filter=
  -o smtpd_milters=
  -o syslog_name=postfix/filter-in"
carol=carol@remote.test
dave=dave@remote.test
erin=erin@remote.test
e2e_up "$carol=soft" "$dave=ok" "$erin=ok"

# hist_count ADDR PYEXPR - events of `bouncectl --json history ADDR` (one
# JSON object a line) for which PYEXPR (of e) is true
hist_count()
{
	e2e_ctl --json history "$1" 2>/dev/null | python3 -c '
import json, sys
n = 0
for line in sys.stdin:
	line = line.strip()
	if not line:
		continue
	e = json.loads(line)
	if eval(sys.argv[1]):
		n += 1
print(n)' "$2"
}

ingest_check()
{
	e2e_ingest
	e2e_check "exit status of ingest-log ($1)" "$E2E_INGEST_RC" 0
	e2e_check "malformed lines in ingest-log's report ($1)" \
	    "$(e2e_json_get "$E2E_INGEST" malformed)" 0
}

# --- 3: through the filter, three messages given up by carol's MX ------
for m in 1 2 3; do
	e2e_log "message $m to $carol through the content filter"
	e2e_send "$E2E_SENDER" "$carol" "e2e filter $m"
done
e2e_wait_log "to=<$carol>.*relay=[^ ]*:$P_FILTER,.*status=sent.*queued as" \
    3 30 || e2e_log "the filter did not take all three within 30 s"
e2e_wait_log "to=<$carol>.*status=deferred" 3 30 ||
    e2e_log "carol's MX did not refuse all three within 30 s"
e2e_wait_returned 3 30 || e2e_log "not all DSNs returned within 30 s"
ingest_check "after three messages to $carol"
e2e_check "hand-offs in ingest-log's report" \
    "$([ "$(e2e_json_get "$E2E_INGEST" handoffs)" -ge 3 ] 2>/dev/null &&
    echo ">= 3" || echo "$(e2e_json_get "$E2E_INGEST" handoffs)")" ">= 3"
e2e_status "$carol"
e2e_check "exit status of bouncectl status $carol" "$E2E_RC" 1
e2e_check "state of $carol (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" suppressed
e2e_check "reason of $carol (--json)" \
    "$(e2e_json_get "$E2E_JSON" reason)" soft-limit
e2e_check "soft count of $carol: one per message (--json)" \
    "$(e2e_json_get "$E2E_JSON" soft_count)" 3
n=$(hist_count "$carol" \
    'e.get("action") == "relayed" and e.get("class") == "ignore"')
e2e_check "hand-offs kept as relayed, not deliveries" \
    "$([ "${n:-0}" -ge 3 ] && echo ">= 3" || echo "$n")" ">= 3"
e2e_check "deliveries recorded for $carol" \
    "$(hist_count "$carol" 'e.get("class") == "delivered"')" 0

# --- 9: the same mailbox spelt otherwise ---------------------------------
out=$(e2e_smtp --no-data "$E2E_SENDER" "CAROL@Remote.TEST")
e2e_check_match "reply to RCPT TO:<CAROL@Remote.TEST>" \
    "$(e2e_reply "$out" "RCPT CAROL@Remote.TEST")" '^550 5\.1\.1 '
e2e_ctl status "Carol@REMOTE.test" >/dev/null 2>&1
e2e_check "bouncectl status Carol@REMOTE.test" "$?" 1

# --- 4: the filter down -----------------------------------------------------
e2e_log "the content filter goes down (port $P_FDOWN: nobody listens)"
postconf -c "$E2E_DIR/etc" -e \
    "content_filter = smtp:[$E2E_ADDR]:$P_FDOWN" >/dev/null 2>&1 ||
    e2e_error "postconf failed"
postfix -c "$E2E_DIR/etc" reload >/dev/null 2>&1 || e2e_error "reload failed"
sleep 1
for m in 1 2 3; do
	e2e_send "$E2E_SENDER" "$dave" "e2e filter down $m"
done
e2e_wait_log "to=<$dave>.*status=deferred.*:$P_FDOWN: Connection refused" \
    3 30 || e2e_log "not all three deferred at the filter within 30 s"
e2e_wait_returned 6 30 || e2e_log "not all DSNs returned within 30 s"

e2e_log "the filter's transport is missing (mail transport unavailable)"
postconf -c "$E2E_DIR/etc" -e "content_filter = nosuchtransport:[$E2E_ADDR]:1" \
    >/dev/null 2>&1 || e2e_error "postconf failed"
postfix -c "$E2E_DIR/etc" reload >/dev/null 2>&1 || e2e_error "reload failed"
sleep 1
for m in 1 2 3; do
	e2e_send "$E2E_SENDER" "$erin" "e2e transport missing $m"
done
e2e_wait_log "to=<$erin>.*status=deferred.*mail transport unavailable" \
    3 30 || e2e_log "not all three deferred (transport) within 30 s"
e2e_wait_log "status=expired" 6 30 ||
    e2e_log "not all six expired within 30 s"

ingest_check "after the outages"
for a in "$dave" "$erin"; do
	e2e_status "$a"
	e2e_check "exit status of bouncectl status $a" "$E2E_RC" 0
	e2e_check "state of $a after our outage (--json)" \
	    "$(e2e_json_get "$E2E_JSON" state)" active
	e2e_check "soft count of $a after our outage (--json)" \
	    "$(e2e_json_get "$E2E_JSON" soft_count)" 0
	n=$(hist_count "$a" \
	    'e.get("class") == "local" and e.get("who") == "local"')
	e2e_check "failures of $a recorded as ours (class and who local)" \
	    "$([ "${n:-0}" -ge 3 ] && echo ">= 3" || echo "$n")" ">= 3"
done
stats=$(e2e_ctl --json stats 2>/dev/null)
n=$(python3 -c 'import json, sys
print(json.loads(sys.argv[1])["groups"][0]["local"])' "$stats" 2>/dev/null)
e2e_check "stats count our own failures (local)" \
    "$([ "${n:-0}" -ge 6 ] && echo ">= 6" || echo "$n")" ">= 6"

# the filter back: mail to dave flows, dave stays active
postconf -c "$E2E_DIR/etc" -e "content_filter = smtp:[$E2E_ADDR]:$P_FILTER" \
    >/dev/null 2>&1 || e2e_error "postconf failed"
postfix -c "$E2E_DIR/etc" reload >/dev/null 2>&1 || e2e_error "reload failed"
sleep 1
e2e_send "$E2E_SENDER" "$dave" "e2e filter back"
e2e_wait_qids "$dave" sent 2 30 ||
    e2e_log "dave's message not through within 30 s"
ingest_check "after the filter came back"
e2e_status "$dave"
e2e_check "state of $dave after the filter came back (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" active

out=$(e2e_ctl_conf --json rebuild --dry-run 2>&1)
e2e_check "rebuild --dry-run: states changed" \
    "$(e2e_json_get "$out" changed)" 0
e2e_check_match "rebuild says where its policy came from" \
    "$(e2e_json_get "$out" policy_from)" "bounced.conf"

e2e_finish
