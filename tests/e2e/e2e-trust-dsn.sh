#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-trust-dsn.sh - the trust policy (issue 10) on DSNs, on a real
# Postfix with bounced on smtpd_milters and non_smtpd_milters at its
# defaults (TrustPolicy sent, RecordSends yes):
#
# 1. the relay sends to bob@remote.test (the sink accepts it); a remote
#    DSN about that message (its Message-ID) comes back over SMTP: bob
#    is suppressed, the event trusted by "send:message-id";
# 2. a forged DSN for carol@remote.test, to whom nothing was sent, comes
#    the same way: carol stays active, history shows the untrusted event
#    and why, stats --untrusted counts it by source and domain; one log
#    line says untrusted=1;
#    and the same forgery injected by a local user with
#    `sendmail -f '<>'` (the path of Postfix's own DSNs): gina stays
#    active, the event is held with source "local";
# 5. genuine DSNs dated 2100 (erin) and 2001 (frank) suppress with
#    today's date; a forged one dated 2100 (holly) changes nothing and is
#    dated when it came.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/trust.sh"

e2e_up

e2e_log "sending to bob, erin and frank@remote.test (accepted)"
for r in bob erin frank; do
	e2e_send "$E2E_SENDER" "$r@remote.test" "e2e trust $r"
done
for r in bob erin frank; do
	e2e_wait_qids "$r@remote.test" sent 1 30 ||
	    e2e_error "the message to $r@remote.test was not delivered"
done
d=$E2E_DIR/reports
mkdir -p "$d"
trust_dsn "$d/bob.eml" bob@remote.test "$(trust_msgid bob@remote.test)"
trust_dsn "$d/carol.eml" carol@remote.test "<forged-1@sender.test>"
trust_dsn "$d/gina.eml" gina@remote.test "<forged-2@sender.test>"
trust_dsn "$d/erin.eml" erin@remote.test "$(trust_msgid erin@remote.test)" \
    "Fri, 01 Jan 2100 00:00:00 +0000"
trust_dsn "$d/frank.eml" frank@remote.test \
    "$(trust_msgid frank@remote.test)" "Mon, 01 Jan 2001 00:00:00 +0000"
trust_dsn "$d/holly.eml" holly@remote.test "<forged-3@sender.test>" \
    "Fri, 01 Jan 2100 00:00:00 +0000"

e2e_log "remote DSNs over SMTP (MAIL FROM:<>): bob, carol, erin, frank, holly"
for r in bob carol erin frank holly; do
	e2e_send_file "" "$E2E_SENDER" "$d/$r.eml"
done
e2e_log "a local user's sendmail -f '<>' with a DSN for gina"
sendmail -C "$E2E_DIR/etc" -f '<>' "$E2E_SENDER" <"$d/gina.eml" ||
    e2e_error "sendmail -f '<>' failed"
e2e_wait_returned 6 40
e2e_check "reports relayed to the sender after the milter" \
    "$(e2e_count_log "$(e2e_returned_re)")" 6

# 1
e2e_wait_status bob@remote.test 1 10
trust_state bob@remote.test
e2e_check "state of bob@remote.test" "$E2E_STATE" suppressed
e2e_check "trust of bob's event" "$(trust_last bob@remote.test trust)" \
    send:message-id
e2e_check "bob's event trusted" "$(trust_last bob@remote.test trusted)" true

# 2
trust_wait_held carol@remote.test 10
trust_state carol@remote.test
e2e_check "state of carol@remote.test (nothing sent)" "$E2E_STATE" active
e2e_check "exit status of bouncectl status carol@remote.test" "$E2E_RC" 0
e2e_check "class of carol's event" "$(trust_last carol@remote.test class)" \
    untrusted
e2e_check "carol's event trusted" "$(trust_last carol@remote.test trusted)" \
    false
e2e_check "why carol's event is not trusted" \
    "$(trust_last carol@remote.test trust)" no-matching-send
e2e_check "source of carol's event" \
    "$(trust_last carol@remote.test client_addr)" 127.0.0.1
h=$(e2e_ctl history carol@remote.test 2>&1)
e2e_check_match "bouncectl history carol@remote.test (table)" "$h" \
    'untrusted +dsn-remote +no-matching-send'
e2e_log "$(printf '%s\n' "$h" | sed -n 2p)"
trust_wait_held gina@remote.test 10
trust_state gina@remote.test
e2e_check "state of gina@remote.test (sendmail -f '<>')" "$E2E_STATE" active
e2e_check "why gina's event is not trusted" \
    "$(trust_last gina@remote.test trust)" no-matching-send
e2e_check "source of gina's event" \
    "$(trust_last gina@remote.test client_addr)" local
u=$(e2e_ctl --json stats --untrusted 2>&1)
e2e_check "untrusted reports from 127.0.0.1 to remote.test (stats)" \
    "$(e2e_json_row "$u" source 127.0.0.1 reports)" 2
e2e_check "untrusted reports by the local path (stats)" \
    "$(e2e_json_row "$u" source local reports)" 1
e2e_log "$(e2e_ctl stats --untrusted 2>&1 | head -n 3 | tr '\n' '|')"
e2e_check "bounced log lines with untrusted=1" \
    "$(grep -c 'bounce rcpts=1 .*trust=no-matching-send.* untrusted=1' \
    "$E2E_DIR/bounced.log")" 3

# 5
for r in erin frank; do
	trust_state $r@remote.test
	e2e_check "state of $r@remote.test (dated $(
	    [ $r = erin ] && echo 2100 || echo 2001))" "$E2E_STATE" suppressed
	e2e_check "suppression date of $r@remote.test is today" \
	    "$(trust_since_ok $r@remote.test)" yes
done
trust_wait_held holly@remote.test 10
trust_state holly@remote.test
e2e_check "state of holly@remote.test (forged, dated 2100)" "$E2E_STATE" \
    active
e2e_check_nomatch "date of holly's event" \
    "$(trust_last holly@remote.test when)" '^2100'
e2e_check_milter_clean

e2e_finish
