#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# f-kill9-tempfail.sh - kill -9 of bounced twice while FAULT_N bounces
# flow through Postfix (milter_default_action = tempfail), restarted a
# second later each time (as systemd's Restart= would).  Asserts: every
# bounce recorded exactly once (one event per recipient), every DSN
# delivered to the sender once in the end (Postfix kept what the dead
# milter could not answer).

. "$(dirname "$0")/faults.sh"

f_up
e2e_log "$FAULT_N bounces; kill -9 at a quarter and at a half"
FAULT_BG=1 f_send_bulk "$FAULT_N" k
f_wait_recorded k $((FAULT_N / 4)) 300 || e2e_error "bounces do not flow"
f_kill9
sleep 1
e2e_start_bounced
f_wait_recorded k $((FAULT_N / 2)) 300 || e2e_error "bounces stopped"
f_kill9
sleep 1
e2e_start_bounced
wait "$F_SEND_PID" || e2e_error "sending failed"
f_wait_recorded k "$FAULT_N" 300
f_check_exactly_once k "$FAULT_N"
e2e_wait_returned "$FAULT_N" 120
e2e_check "DSNs delivered to the sender" "$(f_returned_count)" "$FAULT_N"
e2e_finish
