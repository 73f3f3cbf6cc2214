#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-pg-fleet.sh - two relays, one PostgreSQL database (issue 13).
#
# A private PostgreSQL server (tests/pg/lib.sh) holds the database
# "fleet"; relays A and B are each a private Postfix instance with its
# own bounced, on two loopback addresses, both with Database = fleet.
#  1. Mail is sent through both relays at the same moment (one SMTP
#     session per message, released together) so that the bounces for
#     the same recipients reach both bounced instances concurrently:
#     hard (h1-h4: 550 on both relays), soft (s1 once on each relay, s2
#     twice on each: four soft bounces, SoftBounceLimit 3), mixed (m1:
#     550 on A, 451 on B), and the same remote DSN for frank offered
#     twice to each relay over SMTP.  Then: every bounce of the mail logs
#     is one event (count per recipient, both logs against the
#     database), the remote DSN is one event, each recipient's state is
#     what its events make, changed once in the event stream, and a
#     rebuild (the fold from the events) changes nothing.
#  2. Both relays reload with "SuppressedRecipients reject".  B looks
#     zed@remote.test up (250: its cache keeps the negative answer for
#     10 s); `bouncectl suppress` on the shared database; B must refuse
#     RCPT TO:<zed> within 1 s (LISTEN/NOTIFY drops its cached answer).
#     The same with a real bounce through A (yuri@remote.test: 550 on A):
#     B refuses yuri within 1 s of the suppression being visible.

. "$(dirname "$0")/lib.sh"

E2E_SOFT_LIMIT=3
e2e_need_postfix
e2e_pg_start
E2E_DATABASE=$(e2e_pg_createdb fleet)
FLEET=$E2E_DATABASE

e2e_instance a
e2e_up h1@remote.test=hard h2@remote.test=hard h3@remote.test=hard \
    h4@remote.test=hard s1@remote.test=soft s2@remote.test=soft \
    m1@remote.test=hard yuri@remote.test=hard
e2e_instance b
e2e_up h1@remote.test=hard h2@remote.test=hard h3@remote.test=hard \
    h4@remote.test=hard s1@remote.test=soft s2@remote.test=soft \
    m1@remote.test=soft
e2e_log "relay a on $(e2e_with a eval 'echo $E2E_ADDR:$P_SMTPD')," \
    "relay b on $E2E_ADDR:$P_SMTPD, database $FLEET"

# dest NAME - ADDR:PORT of the relay's smtpd
dest()
{
	e2e_with "$1" eval 'echo "$E2E_ADDR:$P_SMTPD"'
}
A=$(dest a)
B=$(dest b)

# --- 1. concurrent bounces -----------------------------------------------

# frank's message through A, so that his remote DSN is tied to a send
e2e_use a
e2e_send "$E2E_SENDER" frank@remote.test "e2e fleet remote" \
    "<e2e-remote-1@sender.test>"
e2e_wait_log 'to=<frank@remote\.test>,.* status=sent' 1 30 ||
    e2e_error "the message to frank@remote.test was not delivered"
for i in $(seq 1 50); do
	n=$(e2e_psql "$FLEET" "SELECT count(*) FROM sends WHERE message_id \
LIKE '%e2e-remote-1@sender.test%'" 2>/dev/null)
	[ "${n:-0}" -ge 1 ] && break
	sleep 0.1
done
e2e_check "frank's send recorded in the shared database" "${n:-0}" 1

e2e_log "sending 20 messages through both relays at the same moment"
{
	for r in h1 h2 h3 h4 s1 m1; do
		echo "$A $E2E_SENDER $r@remote.test e2e fleet $r via a"
		echo "$B $E2E_SENDER $r@remote.test e2e fleet $r via b"
	done
	for k in 1 2; do
		echo "$A $E2E_SENDER s2@remote.test e2e fleet s2 via a $k"
		echo "$B $E2E_SENDER s2@remote.test e2e fleet s2 via b $k"
		echo "$A <> $E2E_SENDER file:$E2E_DATA/remote-5xx.eml"
		echo "$B <> $E2E_SENDER file:$E2E_DATA/remote-5xx.eml"
	done
} | e2e_send_concurrent || e2e_error "mail not sent"

# each relay: 6 + 2 bounced messages whose DSN reaches the sender after
# bounced recorded it (OnError tempfail: a failed recording is retried),
# and the 2 remote DSNs
for n in a b; do
	e2e_use "$n"
	e2e_wait_returned 10 90 ||
	    e2e_log "relay $n: $(e2e_count_log "$(e2e_returned_re)") of 10 DSNs returned"
	e2e_check "relay $n: DSNs returned to the sender after its bounced" \
	    "$(e2e_count_log "$(e2e_returned_re)")" 10
done

# bounced_lines RCPT - messages to RCPT that Postfix bounced, both relays
# (a 4xx is logged "deferred", then returned at once: lifetimes 0)
bounced_lines()
{
	local re=": to=<${1//./\\.}>,.* status=(bounced|deferred) "

	cat "$(e2e_with a eval 'echo $E2E_MAILLOG')" \
	    "$(e2e_with b eval 'echo $E2E_MAILLOG')" | grep -Ec -- "$re"
}

# transitions RCPT - the state changes of RCPT in the event stream
transitions()
{
	e2e_ctl --json events 2>/dev/null | python3 -c '
import json, sys
print(" ".join(e["state"] for e in map(json.loads, sys.stdin)
    if e.get("type") == "state" and e.get("recipient") == sys.argv[1]))
' "$1"
}

# want RCPT EVENTS STATE REASON - one recipient's facts
want()
{
	local r=$1@remote.test

	e2e_check "$r: bounces in the two mail logs" "$(bounced_lines "$r")" \
	    "$([ "$1" = frank ] && echo 0 || echo "$2")"
	e2e_check "$r: events in the shared database" \
	    "$(e2e_history_count "$r")" "$2"
	e2e_status "$r"
	e2e_check "$r: state" "$(e2e_json_get "$E2E_JSON" state)" "$3"
	e2e_check "$r: reason" "$(e2e_json_get "$E2E_JSON" reason)" "$4"
}

for r in h1 h2 h3 h4; do
	want "$r" 2 suppressed hard
	e2e_check "$r@remote.test: state changes" "$(transitions \
	    "$r@remote.test")" suppressed
done
want s1 2 soft ""
e2e_check "s1@remote.test: soft count (both relays' bounces)" \
    "$(e2e_json_get "$E2E_JSON" soft_count)" 2
want s2 4 suppressed soft-limit
e2e_check "s2@remote.test: state changes" \
    "$(transitions s2@remote.test)" "soft suppressed"
want m1 2 suppressed hard
want frank 1 suppressed hard

# the same report twice would be two rows of one recipient, queue id,
# Message-ID, action and status (whatever its identity says)
e2e_check "events recorded twice (same recipient, message, action, status)" \
    "$(e2e_psql "$FLEET" "SELECT count(*) FROM (SELECT 1 FROM events \
GROUP BY recipient, COALESCE(queue_id, ''), COALESCE(message_id, ''), \
action, COALESCE(status, '') HAVING count(*) > 1) d")" 0
e2e_check "bounces recorded in the shared database (8 + 2 + 4 + 2 + 1)" \
    "$(e2e_psql "$FLEET" "SELECT count(*) FROM events WHERE source LIKE \
'dsn-%'")" 17
before=$(e2e_ctl --json list 2>&1)
rb=$(e2e_ctl_conf --json rebuild 2>&1)
e2e_check "exit status of bouncectl rebuild" "$?" 0
after=$(e2e_ctl --json list 2>&1)
e2e_check "recipients listed" "$(printf '%s\n' "$before" | grep -c address)" 8
e2e_check "states changed by a rebuild (the fold of the events)" \
    "$([ "$after" = "$before" ] && echo none || diff <(echo "$before") \
    <(echo "$after") | tr '\n' ' ')" none
e2e_log "rebuild: $(printf '%s' "$rb" | tr '\n' ' ' | cut -c1-200)"
for n in a b; do
	e2e_use "$n"
	e2e_check "relay $n: mail log lines about milter trouble" \
	    "$(e2e_count_log 'warning: .*milter|milter.*(timeout|unavailable)')" 0
done

# --- 2. a suppression on A, enforced at RCPT TO on B ---------------------

e2e_log "both relays reload with SuppressedRecipients reject"
for n in a b; do
	e2e_use "$n"
	e2e_write_bounced_conf SuppressedRecipients reject
	kill -USR1 "$E2E_BOUNCED_PID"
	for i in $(seq 1 100); do
		grep -q 'reloaded ' "$E2E_DIR/bounced.log" && break
		sleep 0.1
	done
	grep -q 'reloaded ' "$E2E_DIR/bounced.log" ||
	    e2e_error "relay $n: bounced did not reload"
done

# rcpt_race DEST RCPT ACTION... - one RCPT TO:<RCPT> on DEST (250: the
# relay's cache now holds "not suppressed"), then the shell command
# ACTION (run by sh), then RCPT TO:<RCPT> again and again (RSET between,
# no mail sent) until refused, 5 s at most.  Prints the first answer,
# the last one and the delays from the start and from the end of ACTION
# to the refusal, in milliseconds.
rcpt_race()
{
	python3 - "$@" <<'PY'
import os, smtplib, subprocess, sys, time
dest, rcpt, action = sys.argv[1], sys.argv[2], sys.argv[3]
host, port = dest.rsplit(":", 1)
with smtplib.SMTP(host, int(port), timeout=30) as s:
	s.ehlo("client.test")
	s.mail("alice@sender.test")
	first = s.rcpt(rcpt)
	s.rset()
	t0 = time.monotonic()
	subprocess.run(["sh", "-c", action], check=True)
	tend = time.monotonic()
	while True:
		s.mail("alice@sender.test")
		last = s.rcpt(rcpt)
		t1 = time.monotonic()
		s.rset()
		if last[0] // 100 == 5 or t1 - tend > 5:
			break
		time.sleep(0.01)
print(first[0], last[0], int((t1 - t0) * 1000), int((t1 - tend) * 1000))
PY
}

e2e_log "zed@remote.test: looked up on B, suppressed on the shared database"
out=$(rcpt_race "$B" zed@remote.test \
    "'$BOUNCECTL' --db '$FLEET' suppress --by e2e --reason fleet \
zed@remote.test >/dev/null") || e2e_error "RCPT TO race failed"
read -r first last ms ms_end <<<"$out"
e2e_log "zed@remote.test: refused by B ${ms} ms after bouncectl suppress" \
    "started (${ms_end} ms after it returned)"
e2e_check "B's first answer to RCPT TO:<zed@remote.test>" "$first" 250
e2e_check "B's answer after the suppression" "$last" 550
e2e_check "B refused zed@remote.test within 1000 ms" \
    "$([ "$ms" -le 1000 ] && echo yes || echo "no: $ms ms")" yes

e2e_log "yuri@remote.test: looked up on B, bounced (550) through A"
# the action: mail to yuri through A, then wait until the DSN recorded
# on A shows in the database; the delay counts from there
action="python3 -c '
import smtplib, sys
with smtplib.SMTP(\"${A%:*}\", ${A#*:}, timeout=30) as s:
	s.sendmail(\"$E2E_SENDER\", [\"yuri@remote.test\"],
	    \"Subject: e2e fleet yuri\\r\\n\\r\\nyuri\\r\\n\")
' && i=0 && until '$BOUNCECTL' --db '$FLEET' status yuri@remote.test \
>/dev/null 2>&1; [ \$? -eq 1 ]; do i=\$((i + 1)); [ \$i -lt 600 ] || exit 1; \
sleep 0.05; done"
out=$(rcpt_race "$B" yuri@remote.test "$action") ||
    e2e_error "RCPT TO race (yuri) failed"
read -r first last ms_send ms <<<"$out"
e2e_log "yuri@remote.test: refused by B ${ms} ms after the bounce on A" \
    "showed in the database (${ms_send} ms after the mail to yuri was sent)"
e2e_check "B's first answer to RCPT TO:<yuri@remote.test>" "$first" 250
e2e_check "B's answer after the bounce through A" "$last" 550
e2e_check "B refused yuri@remote.test within 1000 ms" \
    "$([ "$ms" -le 1000 ] && echo yes || echo "no: $ms ms")" yes
e2e_status yuri@remote.test
e2e_check "yuri@remote.test: reason" "$(e2e_json_get "$E2E_JSON" reason)" hard

e2e_finish
