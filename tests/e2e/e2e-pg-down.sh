#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-pg-down.sh - PostgreSQL stopped in the middle (issue 13).
#
# bounced records into a private PostgreSQL server (tests/pg/lib.sh),
# with "SuppressedRecipients reject" and OnError tempfail.
#  1. Up: frank's message and one hard bounce (b0) are recorded.
#  2. The server is stopped (pg_ctl stop -m fast: every session ended).
#     Ordinary mail (o1-o5) is accepted at RCPT TO and delivered, each
#     SMTP transaction and each delivery within 2 s; the bounces of
#     b1-b4 (remote: 550) are refused by the milter with 4.7.1, so
#     Postfix keeps the originals ("bounce failed") and tries their DSNs
#     again at the next queue runs, no DSN reaches the sender; frank's
#     remote DSN, offered over SMTP, gets a 4xx.
#  3. The server starts again on the same data (the queue held while it
#     starts); the queue is flushed (postqueue -f) and the remote DSN
#     offered again: every bounce is
#     recorded exactly once (one event each: b0-b4, frank), the queue
#     empties, and the sends of the ordinary mail kept in memory during
#     the outage are in the database.

. "$(dirname "$0")/lib.sh"

E2E_CONF_EXTRA="SuppressedRecipients reject"
e2e_need_postfix
e2e_pg_start
E2E_DATABASE=$(e2e_pg_createdb down)
e2e_up b0@remote.test=hard b1@remote.test=hard b2@remote.test=hard \
    b3@remote.test=hard b4@remote.test=hard

tf_re='milter-reject: END-OF-MESSAGE .* 4\.7\.1 .*from=<> to=<alice@sender\.test>'

# sent_re ADDR - a delivery of ADDR through the accepting sink
sent_re()
{
	printf 'to=<%s>, relay=[^ ]+:%s,.* status=sent ' "${1//./\\.}" "$P_OK"
}

# --- 1. up ---------------------------------------------------------------

e2e_send "$E2E_SENDER" frank@remote.test "e2e pg down remote" \
    "<e2e-remote-1@sender.test>"
e2e_send "$E2E_SENDER" b0@remote.test "e2e pg down b0"
e2e_wait_log "$(sent_re frank@remote.test)" 1 30 ||
    e2e_error "the message to frank@remote.test was not delivered"
e2e_wait_returned 1 30
e2e_wait_status b0@remote.test 1 10
e2e_check "events for b0@remote.test before the outage" \
    "$(e2e_history_count b0@remote.test)" 1
# frank's send must be in the database before the outage: the remote
# DSN is tied to it
for i in $(seq 1 50); do
	n=$(e2e_psql "$E2E_DB" "SELECT count(*) FROM sends WHERE message_id \
LIKE '%e2e-remote-1@sender.test%'" 2>/dev/null)
	[ "${n:-0}" -ge 1 ] && break
	sleep 0.1
done
e2e_check "frank's send recorded before the outage" "${n:-0}" 1

# --- 2. down -------------------------------------------------------------

e2e_log "stopping PostgreSQL (pg_ctl stop -m fast)"
pg_halt || e2e_error "pg_ctl stop failed"
t_down=$EPOCHREALTIME

for k in 1 2 3 4 5; do
	t0=$EPOCHREALTIME
	out=$(e2e_smtp "$E2E_SENDER" "o$k@remote.test")
	ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" \
	    'BEGIN { printf "%d", (b - a) * 1000 }')
	e2e_log "o$k@remote.test: SMTP transaction in $ms ms while down"
	e2e_check_match "o$k@remote.test: RCPT TO while down" \
	    "$(e2e_reply "$out" "RCPT o$k@remote.test")" '^250 '
	e2e_check_match "o$k@remote.test: DATA while down" \
	    "$(e2e_reply "$out" DATA)" '^250 '
	e2e_check "o$k@remote.test: SMTP transaction within 2000 ms" \
	    "$([ "$ms" -le 2000 ] && echo yes || echo "no: $ms ms")" yes
done
for k in 1 2 3 4 5; do
	e2e_wait_log "$(sent_re "o$k@remote.test")" 1 10
	e2e_check "o$k@remote.test: delivered while down" \
	    "$(e2e_count_log "$(sent_re "o$k@remote.test")")" 1
	d=$(grep -E "$(sent_re "o$k@remote.test")" "$E2E_MAILLOG" |
	    sed -nE 's/.* delay=([0-9.]+),.*/\1/p' | head -n 1)
	e2e_check "o$k@remote.test: Postfix's delay within 2 s (delay=$d)" \
	    "$(awk -v d="${d:-99}" 'BEGIN { print (d <= 2) ? "yes" : "no" }')" \
	    yes
done

e2e_log "bounces while down: b1-b4 (remote: 550), frank's remote DSN"
for k in 1 2 3 4; do
	e2e_send "$E2E_SENDER" "b$k@remote.test" "e2e pg down b$k"
done
out=$(python3 - "$P_SMTPD" "$E2E_DATA/remote-5xx.eml" <<'PY'
import os, smtplib, sys
port, path = int(sys.argv[1]), sys.argv[2]
data = open(path, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
with smtplib.SMTP(os.environ["E2E_ADDR"], port, timeout=30) as s:
	try:
		s.sendmail("", ["alice@sender.test"], data)
		print("250 accepted")
	except smtplib.SMTPDataError as e:
		print(e.smtp_code, e.smtp_error.decode("utf-8", "replace"))
PY
)
e2e_check_match "frank's remote DSN while down: answer to DATA" "$out" '^4'
# Postfix makes two DSNs per original at once (the failure, then
# "bounce failed"), and both again at each queue run: 4 x 2 + frank's,
# then 8 more when it has tried them all again - kept, not lost
e2e_wait_log "$tf_re" 17 30
for k in 1 2 3 4; do
	e2e_check "b$k@remote.test: bounced by the remote while down" \
	    "$(e2e_count_qids "b$k@remote.test" bounced)" 1
done
n=$(e2e_count_log "$tf_re")
e2e_check "DSNs refused with 4.7.1 while down, then again (17 at least)" \
    "$([ "$n" -ge 17 ] && echo yes || echo "no ($n)")" yes
n=$(e2e_count_log 'status=deferred \(bounce failed\)')
e2e_check "originals deferred with \"bounce failed\" (4 at least)" \
    "$([ "$n" -ge 4 ] && echo yes || echo "no ($n)")" yes
q=$(postqueue -c "$E2E_DIR/etc" -p 2>&1)
for k in 1 2 3 4; do
	qid=$(e2e_qids "b$k@remote.test" bounced | head -n 1)
	e2e_check_match "b$k@remote.test: the original ($qid) kept in the queue" \
	    "$q" "^${qid:-none}[* !]"
done
e2e_check "DSNs that reached the sender while down" \
    "$(e2e_count_log "$(e2e_returned_re)")" 1
n=$(grep -c 'action=tempfail error=store' "$E2E_DIR/bounced.log")
e2e_check "bounced's TEMPFAILs for the store (5 at least)" \
    "$([ "$n" -ge 5 ] && echo yes || echo "no ($n)")" yes
down_s=$(awk -v a="$t_down" -v b="$EPOCHREALTIME" \
    'BEGIN { printf "%.1f", b - a }')

# --- 3. back -------------------------------------------------------------

e2e_log "starting PostgreSQL again after ${down_s} s"
# The queue is held while the server starts: a queue run of Postfix's
# own in that moment would see the 5.1.1 DSN refused and, the message
# being expired here (bounce_queue_lifetime = 0), send its expiry notice
# instead (status 5.0.0, "undefined"): whichever of the two bounced
# takes first is the one event, and the test would measure the race.
# (With a real lifetime the 5.1.1 DSN is simply tried again.)
postsuper -c "$E2E_DIR/etc" -h ALL >/dev/null 2>&1 ||
    e2e_error "postsuper -h failed"
pg_resume || e2e_error "pg_ctl start failed"
postsuper -c "$E2E_DIR/etc" -H ALL >/dev/null 2>&1 ||
    e2e_error "postsuper -H failed"
postqueue -c "$E2E_DIR/etc" -f >/dev/null 2>&1 ||
    e2e_error "postqueue -f failed"
e2e_send_file "" "$E2E_SENDER" "$E2E_DATA/remote-5xx.eml"
# b0's DSN, b1-b4's, frank's remote DSN
e2e_wait_returned 6 60
e2e_check "DSNs that reached the sender after the outage (with b0's)" \
    "$(e2e_count_log "$(e2e_returned_re)")" 6
for r in b0 b1 b2 b3 b4 frank; do
	e2e_wait_status "$r@remote.test" 1 10
	e2e_status "$r@remote.test"
	e2e_check "$r@remote.test: state after the outage" \
	    "$(e2e_json_get "$E2E_JSON" state)" suppressed
	e2e_check "$r@remote.test: events" "$(e2e_history_count "$r@remote.test")" 1
done
e2e_check "bounces recorded (b0-b4, frank)" \
    "$(e2e_psql "$E2E_DB" "SELECT count(*) FROM events WHERE source LIKE \
'dsn-%'")" 6
for i in $(seq 1 100); do
	q=$(postqueue -c "$E2E_DIR/etc" -p 2>&1)
	case $q in *"queue is empty"*) break ;; esac
	sleep 0.1
done
e2e_check_match "queue at the end" "$q" 'queue is empty'
# the sends of o1-o5, kept in memory while the database was down
for i in $(seq 1 100); do
	n=$(e2e_psql "$E2E_DB" "SELECT count(DISTINCT recipient) FROM sends \
WHERE recipient LIKE 'o_@remote.test'" 2>/dev/null)
	[ "${n:-0}" -ge 5 ] && break
	sleep 0.1
done
e2e_check "sends of the mail sent while down, in the database" "${n:-0}" 5
# the 4.7.1 refusals were bounced's answer, not a milter out of reach
e2e_check "mail log lines about milter timeouts or warnings" \
    "$(e2e_count_log 'warning: .*milter|milter.*timeout')" 0

e2e_finish
