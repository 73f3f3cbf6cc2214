#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-hard.sh - a hard bounce made by Postfix itself reaches bounced
# through non_smtpd_milters and suppresses the recipient.
#
# The remote (an smtp-sink) rejects bob@remote.test at RCPT with
# "550 5.1.1 Error: no such user here"; Postfix writes a DSN to the
# sender, bounced records it, and the DSN still reaches the sender
# (BounceAction continue).  carol@remote.test is accepted and must stay
# unknown/active.  Ordinary mail passes the smtpd milter untouched.

. "$(dirname "$0")/lib.sh"

e2e_up bob@remote.test=hard carol@remote.test=ok

e2e_log "sending to bob@remote.test (remote: 550 5.1.1)" \
    "and carol@remote.test (accepted)"
e2e_send "$E2E_SENDER" bob@remote.test "e2e hard"
e2e_send "$E2E_SENDER" carol@remote.test "e2e accepted"

e2e_wait_log 'to=<carol@remote\.test>,.* status=sent' 1 30
e2e_check "carol's message delivered by the remote" \
    "$(e2e_count_log 'to=<carol@remote\.test>,.* status=sent')" 1
e2e_wait_log 'to=<bob@remote\.test>,.* dsn=5\.1\.1, status=bounced' 1 30
e2e_check "bob's message bounced by Postfix" \
    "$(e2e_count_log 'to=<bob@remote\.test>,.* dsn=5\.1\.1, status=bounced')" 1
e2e_wait_returned 1 30
e2e_check "DSNs that passed the milter and reached the sender" \
    "$(e2e_count_log "$(e2e_returned_re)")" 1

e2e_wait_status bob@remote.test 1 10
e2e_status bob@remote.test
e2e_check "exit status of bouncectl status bob@remote.test" "$E2E_RC" 1
e2e_check_match "bob@remote.test is shown suppressed" "$E2E_OUT" 'suppressed'
e2e_check_match "bob@remote.test reason" "$E2E_OUT" 'userunknown'
e2e_check_match "bob@remote.test last diagnostic" "$E2E_OUT" 'no such user'
e2e_check "state of bob@remote.test (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" suppressed
e2e_check "suppression reason of bob@remote.test (--json)" \
    "$(e2e_json_get "$E2E_JSON" reason)" hard
e2e_check "bounce reason of bob@remote.test (--json)" \
    "$(e2e_json_get "$E2E_JSON" last_reason)" userunknown
e2e_check "last status of bob@remote.test (--json)" \
    "$(e2e_json_get "$E2E_JSON" last_status)" 5.1.1
e2e_check_match "last diagnostic of bob@remote.test (--json)" \
    "$(e2e_json_get "$E2E_JSON" last_diagnostic)" '^550 5\.1\.1 .*no such user'
e2e_check "events for bob@remote.test" \
    "$(e2e_history_count bob@remote.test)" 1
h=$(e2e_ctl --json history bob@remote.test 2>&1)
# Postfix's own DSN came through non_smtpd_milters (bare "" sender)
e2e_check "source of the event (--json history)" \
    "$(e2e_json_get "$h" source)" dsn-internal
e2e_check "original Message-ID of the event (--json history)" \
    "$(e2e_json_get "$h" message_id)" "$(sed -n \
    's/.*cleanup.*message-id=<\(e2e-[^>]*-bob@sender\.test\)>.*/\1/p' \
    "$E2E_MAILLOG" | head -n 1)"
# the original carried no list header: a transactional mail bounced
e2e_check "kind of the mail that bounced (--json history)" \
    "$(e2e_json_get "$h" mail_kind)" transactional
ev=$(e2e_ctl --json events 2>&1 | grep '"recipient":"bob@remote.test"')
e2e_check "bouncectl events: the bounce, then the suppression" \
    "$(printf '%s\n' "$ev" | python3 -c '
import json, sys
print(" ".join(json.loads(l)["type"] + ":" + (json.loads(l)["state"] or
    json.loads(l)["action"] or "") for l in sys.stdin))')" \
    "event:failed state:suppressed"
e2e_check "bouncectl metrics: suppressed hard" \
    "$(e2e_ctl metrics 2>&1 | sed -n 's/^bounced_suppressed{reason="hard"} //p')" 1
st=$(e2e_ctl --json stats --by kind 2>&1)
e2e_check "stats --by kind: the transactional group" \
    "$(e2e_json_row "$st" key transactional hard)" 1

e2e_status carol@remote.test
e2e_check "exit status of bouncectl status carol@remote.test" "$E2E_RC" 0
e2e_check "state of carol@remote.test (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" active
e2e_check "events for carol@remote.test" \
    "$(e2e_history_count carol@remote.test)" 0
e2e_check_milter_clean

e2e_finish
