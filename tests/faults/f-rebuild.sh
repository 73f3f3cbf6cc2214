#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# f-rebuild.sh - `bouncectl rebuild` run again and again while FAULT_N
# bounces flow.  Issue 11: a rebuild held the write lock for seconds and
# recording failed meanwhile.  Asserts: every rebuild ends (exit 0),
# every bounce is recorded exactly once, every DSN delivered once.

. "$(dirname "$0")/faults.sh"

f_up
e2e_log "$FAULT_N bounces with bouncectl rebuild in a loop"
FAULT_BG=1 f_send_bulk "$FAULT_N" b
f_wait_recorded b 10 120 || e2e_error "bounces do not flow"
runs=0
fails=0
while kill -0 "$F_SEND_PID" 2>/dev/null ||
    [ "$(f_db_count b | cut -d' ' -f2)" -lt "$FAULT_N" ]; do
	e2e_ctl_conf rebuild >>"$E2E_DIR/rebuild.log" 2>&1 ||
	    fails=$((fails + 1))
	runs=$((runs + 1))
	[ "$runs" -ge 200 ] && break
done
e2e_log "rebuilds: $runs, failed: $fails"
e2e_check "rebuilds that failed" "$fails" 0
f_wait_recorded b "$FAULT_N" 120
f_check_exactly_once b "$FAULT_N"
e2e_wait_returned "$FAULT_N" 120
e2e_check "DSNs delivered to the sender" "$(f_returned_count)" "$FAULT_N"
e2e_finish
