#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-remote.sh - a remote MTA's bounce, arriving over SMTP with
# MAIL FROM:<>, is recorded through smtpd_milters.
#
# data/remote-5xx.eml is a multipart/report such as a remote Postfix
# sends back for frank@remote.test (5.1.1 user unknown).  It is injected
# into Postfix's smtpd, which relays it on to the sender's sink.  It is
# injected twice: the second copy must change nothing (idempotency).
# The message it reports on (Message-ID <e2e-remote-1@sender.test>) is
# sent to frank first: the trust policy (TrustPolicy sent, issue 10)
# acts only on reports about mail the relay sent; e2e-trust-*.sh are
# about the forged ones.

. "$(dirname "$0")/lib.sh"

e2e_up

e2e_log "sending <e2e-remote-1@sender.test> to frank@remote.test (accepted)"
e2e_send "$E2E_SENDER" frank@remote.test "e2e remote test" \
    "<e2e-remote-1@sender.test>"
e2e_wait_log 'to=<frank@remote\.test>,.* status=sent' 1 30 ||
    e2e_error "the message to frank@remote.test was not delivered"

e2e_log "injecting data/remote-5xx.eml over SMTP with MAIL FROM:<>"
e2e_send_file "" "$E2E_SENDER" "$E2E_DATA/remote-5xx.eml"
e2e_wait_returned 1 30
e2e_check "remote bounces relayed to the sender after the milter" \
    "$(e2e_count_log "$(e2e_returned_re)")" 1

e2e_wait_status frank@remote.test 1 10
e2e_status frank@remote.test
e2e_check "exit status of bouncectl status frank@remote.test" "$E2E_RC" 1
e2e_check "state of frank@remote.test (--json)" \
    "$(e2e_json_get "$E2E_JSON" state)" suppressed
e2e_check_match "frank@remote.test reason" "$E2E_OUT" 'userunknown'
e2e_check "bounce reason of frank@remote.test (--json)" \
    "$(e2e_json_get "$E2E_JSON" last_reason)" userunknown
h=$(e2e_ctl --json history frank@remote.test 2>&1)
e2e_check "source of the event (--json history)" \
    "$(e2e_json_get "$h" source)" dsn-remote
e2e_check "trust of the event (--json history)" \
    "$(e2e_json_get "$h" trust)" send:message-id
e2e_check "original Message-ID of the event (--json history)" \
    "$(e2e_json_get "$h" message_id)" e2e-remote-1@sender.test
e2e_check_match "frank@remote.test last diagnostic" "$E2E_OUT" \
    'no mailbox here'

e2e_log "injecting the same bounce a second time"
e2e_send_file "" "$E2E_SENDER" "$E2E_DATA/remote-5xx.eml"
e2e_wait_returned 2 30
e2e_check "remote bounces relayed to the sender" \
    "$(e2e_count_log "$(e2e_returned_re)")" 2
e2e_check "events in the history of frank@remote.test" \
    "$(e2e_history_count frank@remote.test)" 1
e2e_check_milter_clean

e2e_finish
