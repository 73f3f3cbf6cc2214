#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# f-kill9-accept.sh - as f-kill9-tempfail.sh, with milter_default_action =
# accept: while bounced is dead, Postfix lets DSNs pass unfiltered.  The
# mail log follower (bouncectl follow-log, what the bounced-logfollow
# unit runs beside bounced) records those failures from their log lines.
# Asserts: every bounce recorded exactly once (a DSN and the log line of
# the same failure are one event), every DSN delivered once.

. "$(dirname "$0")/faults.sh"

E2E_MILTER_DEFAULT=accept
f_up
e2e_follow_start
e2e_log "$FAULT_N bounces; kill -9 at a quarter and at a half"
FAULT_BG=1 f_send_bulk "$FAULT_N" a
f_wait_recorded a $((FAULT_N / 4)) 300 || e2e_error "bounces do not flow"
f_kill9
sleep 1
e2e_start_bounced
f_wait_recorded a $((FAULT_N / 2)) 300 || e2e_error "bounces stopped"
f_kill9
sleep 1
e2e_start_bounced
wait "$F_SEND_PID" || e2e_error "sending failed"
e2e_wait_returned "$FAULT_N" 300
e2e_check "DSNs delivered to the sender" "$(f_returned_count)" "$FAULT_N"
e2e_wait_log_read 120 || e2e_log "the follower is behind"
f_wait_recorded a "$FAULT_N" 120
f_check_exactly_once a "$FAULT_N"
e2e_finish
