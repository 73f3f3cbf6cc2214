#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-rcpt-reject.sh - SuppressedRecipients reject: a suppressed address
# is refused at RCPT TO, the other recipients of the message pass; a
# database problem never refuses.
#
# bounced runs with "SuppressedRecipients reject" on smtpd_milters.
#  1. grace@remote.test is suppressed with `bouncectl suppress`.  One
#     SMTP transaction to grace and henry: the client sees "550 5.1.1" for
#     grace at RCPT TO and 250 for henry; the message is delivered to
#     henry only.  grace@REMOTE.test (the domain's case differs) is
#     refused too.
#  2. ivan@remote.test is suppressed, then the database is made unusable
#     for the lookup (its recipients table renamed away, as a damaged or
#     replaced database would be): mail to ivan and henry is accepted and
#     delivered, and bounced logs the failing lookup.
#  3. with the table back, ivan is refused again within a few seconds.
#  4. bob@remote.test's remote answers 550 5.1.1: Postfix's DSN, recorded
#     by bounced, suppresses bob; the next RCPT TO:<bob@remote.test> is
#     refused at once, although bob's "not suppressed" answer of the
#     first message is younger than the lookup cache's time to live.

. "$(dirname "$0")/lib.sh"

E2E_CONF_EXTRA="SuppressedRecipients reject"
E2E_BOUNCE_AT_ONCE=0
command -v sqlite3 >/dev/null || e2e_skip "sqlite3 not installed"
e2e_up bob@remote.test=hard
supp=grace@remote.test
other=henry@remote.test
late=ivan@remote.test

# ok_re ADDR - a delivery line for ADDR through the accepting sink
ok_re()
{
	printf 'to=<%s>, relay=[^ ]+:%s,.* status=sent ' \
	    "$(printf '%s' "$1" | sed 's/\./\\./g')" "$P_OK"
}

out=$(e2e_ctl suppress --reason "e2e: asked to stop" --by e2e "$supp" 2>&1)
e2e_check "exit status of bouncectl suppress $supp" "$?" 0
out=$(e2e_ctl suppress --by e2e "$late" 2>&1)
e2e_check "exit status of bouncectl suppress $late" "$?" 0

e2e_log "one message to $supp (suppressed) and $other"
out=$(e2e_smtp "$E2E_SENDER" "$supp" "$other")
e2e_check_match "reply to RCPT TO:<$supp>" "$(e2e_reply "$out" "RCPT $supp")" \
    '^550 5\.1\.1 recipient address suppressed'
e2e_check_match "reply to RCPT TO:<$other>" \
    "$(e2e_reply "$out" "RCPT $other")" '^250 '
e2e_check_match "reply to DATA (for $other)" "$(e2e_reply "$out" DATA)" \
    '^250 '
e2e_wait_log "$(ok_re "$other")" 1 10
e2e_check "messages delivered to $other" \
    "$(e2e_count_log "$(ok_re "$other")")" 1
e2e_check "delivery lines for $supp" \
    "$(e2e_count_log "to=<$supp>,.* status=")" 0
rej_re="milter-reject: RCPT from [^ ]+: 550 5\\.1\\.1 recipient address"
e2e_check "Postfix's log of the refusal" \
    "$(e2e_count_log "$rej_re suppressed;.* to=<$supp>")" 1
e2e_check "bounced's log of the refusal" "$(grep -Ec \
    "suppressed rcpt=<+$supp>+ reason=manual action=reject" \
    "$E2E_DIR/bounced.log")" 1

out=$(e2e_smtp --no-data "$E2E_SENDER" grace@REMOTE.test "$other")
e2e_check_match "reply to RCPT TO:<grace@REMOTE.test>" \
    "$(e2e_reply "$out" "RCPT grace@REMOTE.test")" '^550 5\.1\.1 '
e2e_check_match "reply to RCPT TO:<$other> (second time)" \
    "$(e2e_reply "$out" "RCPT $other")" '^250 '

e2e_log "the database made unusable (recipients table renamed away)"
sqlite3 -cmd '.timeout 5000' "$E2E_DB" \
    'ALTER TABLE recipients RENAME TO e2e_recipients_away' ||
    e2e_error "could not rename the recipients table"
out=$(e2e_smtp "$E2E_SENDER" "$late" "$other")
e2e_check_match "reply to RCPT TO:<$late> while the database fails" \
    "$(e2e_reply "$out" "RCPT $late")" '^250 '
e2e_check_match "reply to RCPT TO:<$other> while the database fails" \
    "$(e2e_reply "$out" "RCPT $other")" '^250 '
e2e_check_match "reply to DATA while the database fails" \
    "$(e2e_reply "$out" DATA)" '^250 '
e2e_wait_log "$(ok_re "$late")" 1 10
e2e_check "messages delivered to $late while the database fails" \
    "$(e2e_count_log "$(ok_re "$late")")" 1
e2e_check "bounced log lines about the failing lookup" "$(grep -c \
    'recipient lookup failed.*not enforcing SuppressedRecipients' \
    "$E2E_DIR/bounced.log")" 1

e2e_log "the database back; $late must be refused again"
sqlite3 -cmd '.timeout 5000' "$E2E_DB" \
    'ALTER TABLE e2e_recipients_away RENAME TO recipients' ||
    e2e_error "could not rename the recipients table back"
# no mail sent while polling: RSET after RCPT; the lookup rests for a
# couple of seconds after a failure (RCACHE_BACKOFF)
r=none
for i in $(seq 1 20); do
	out=$(e2e_smtp --no-data "$E2E_SENDER" "$late")
	r=$(e2e_reply "$out" "RCPT $late")
	case $r in 550*) break ;; esac
	sleep 0.5
done
e2e_check_match "reply to RCPT TO:<$late> once the database is back" \
    "$r" '^550 5\.1\.1 '
e2e_check "bounced log lines about lookups working again" "$(grep -c \
    'recipient lookups work again' "$E2E_DIR/bounced.log")" 1

e2e_log "a hard bounce for bob@remote.test, then a new message to him"
out=$(e2e_smtp "$E2E_SENDER" bob@remote.test)
e2e_check_match "reply to the first RCPT TO:<bob@remote.test>" \
    "$(e2e_reply "$out" "RCPT bob@remote.test")" '^250 '
e2e_wait_returned 1 10
e2e_wait_status bob@remote.test 1 5
e2e_status bob@remote.test
e2e_check "bob@remote.test suppressed by the DSN (--json)" \
    "$(e2e_json_get "$E2E_JSON" reason)" hard
out=$(e2e_smtp --no-data "$E2E_SENDER" bob@remote.test "$other")
e2e_check_match "reply to RCPT TO:<bob@remote.test> after his bounce" \
    "$(e2e_reply "$out" "RCPT bob@remote.test")" '^550 5\.1\.1 '
e2e_check_match "reply to RCPT TO:<$other> with it" \
    "$(e2e_reply "$out" "RCPT $other")" '^250 '
e2e_check "DSNs returned to the sender" \
    "$(e2e_count_log "$(e2e_returned_re)")" 1
e2e_check "mail log lines about milter trouble (other than refusals)" \
    "$(e2e_count_log 'warning: .*milter|milter.*(timeout|unavailable)')" 0

e2e_finish
