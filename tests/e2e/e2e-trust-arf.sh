#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-trust-arf.sh - the trust policy (issue 10) on ARF feedback reports
# (RFC 5965), which arrive with a sender at a BounceAddresses address:
#
# 3. a forged abuse report for dave@remote.test (nothing was sent to
#    dave, and it does not come from a FeedbackSources address): dave is
#    not suppressed, the report is held with why;
# 5. the same forgery dated 2100 (erin) or 1999 (gina): not suppressed;
#    and, for contrast, what is trusted:
#    - a report about a message the relay did send to frank@remote.test
#      (its Message-ID), from anywhere: frank is suppressed (complaint);
#    - after FeedbackSources names the client (reload, SIGUSR1), a report
#      for holly, to whom nothing was sent: suppressed, "feedback-source".

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/trust.sh"

e2e_need_postfix
e2e_mkdir
conf="BounceAddresses fbl@sender.test FeedbackSources 192.0.2.1"
# shellcheck disable=SC2086
e2e_write_bounced_conf $conf
e2e_start_bounced
e2e_start_postfix

e2e_log "sending to frank@remote.test (accepted)"
e2e_send "$E2E_SENDER" frank@remote.test "e2e trust arf"
e2e_wait_qids frank@remote.test sent 1 30 ||
    e2e_error "the message to frank@remote.test was not delivered"
d=$E2E_DIR/reports
mkdir -p "$d"
trust_arf "$d/dave.eml" dave@remote.test "<forged-arf-1@sender.test>"
trust_arf "$d/erin.eml" erin@remote.test "<forged-arf-2@sender.test>" \
    "Fri, 01 Jan 2100 00:00:00 +0000"
trust_arf "$d/gina.eml" gina@remote.test "<forged-arf-3@sender.test>" \
    "Fri, 01 Jan 1999 00:00:00 +0000"
trust_arf "$d/frank.eml" frank@remote.test \
    "$(trust_msgid frank@remote.test)"
fbl_re='to=<fbl@sender\.test>,.* status=sent'

e2e_log "ARF abuse reports from fbl@isp.example over SMTP: dave, erin," \
    "gina (forged), frank (about mail sent)"
for r in dave erin gina frank; do
	e2e_send_file fbl@isp.example fbl@sender.test "$d/$r.eml"
done
e2e_wait_log "$fbl_re" 4 30
e2e_check "reports relayed to fbl@sender.test after the milter" \
    "$(e2e_count_log "$fbl_re")" 4

# 3 and 5
for r in dave erin gina; do
	trust_wait_held "$r@remote.test" 10
	trust_state "$r@remote.test"
	e2e_check "state of $r@remote.test (forged ARF)" "$E2E_STATE" active
	e2e_check "exit status of bouncectl status $r@remote.test" "$E2E_RC" 0
	e2e_check "class of $r's event" "$(trust_last "$r@remote.test" class)" \
	    untrusted
	e2e_check "why $r's report is not trusted" \
	    "$(trust_last "$r@remote.test" trust)" no-matching-send
	e2e_check "feedback type of $r's event" \
	    "$(trust_last "$r@remote.test" feedback_type)" abuse
done
e2e_check_nomatch "date of erin's event" \
    "$(trust_last erin@remote.test when)" '^2100'
h=$(e2e_ctl history dave@remote.test 2>&1)
e2e_log "$(printf '%s\n' "$h" | sed -n 2p)"
u=$(e2e_ctl --json stats --untrusted 2>&1)
e2e_check "untrusted reports from 127.0.0.1 (stats)" \
    "$(e2e_json_row "$u" source 127.0.0.1 reports)" 3

# about mail the relay sent: trusted wherever it comes from
e2e_wait_status frank@remote.test 1 10
trust_state frank@remote.test
e2e_check "state of frank@remote.test (ARF about mail sent)" "$E2E_STATE" \
    suppressed
e2e_check "reason of frank's suppression" \
    "$(e2e_json_get "$E2E_JSON" reason)" complaint
e2e_check "trust of frank's report" "$(trust_last frank@remote.test trust)" \
    send:message-id
e2e_check "frank's suppression dated today" \
    "$(trust_since_ok frank@remote.test)" yes

e2e_log "FeedbackSources 127.0.0.1 (reload), then a report for holly"
# shellcheck disable=SC2086
e2e_write_bounced_conf BounceAddresses fbl@sender.test \
    FeedbackSources 127.0.0.1
kill -USR1 "$E2E_BOUNCED_PID"
for i in $(seq 1 50); do
	grep -q 'reloaded ' "$E2E_DIR/bounced.log" && break
	sleep 0.1
done
e2e_check "bounced reloaded" "$(grep -c 'reloaded ' "$E2E_DIR/bounced.log")" 1
trust_arf "$d/holly.eml" holly@remote.test "<fbl-4@sender.test>"
e2e_send_file fbl@isp.example fbl@sender.test "$d/holly.eml"
e2e_wait_status holly@remote.test 1 20
trust_state holly@remote.test
e2e_check "state of holly@remote.test (from FeedbackSources)" "$E2E_STATE" \
    suppressed
e2e_check "trust of holly's report" "$(trust_last holly@remote.test trust)" \
    feedback-source
e2e_check_milter_clean

e2e_finish
