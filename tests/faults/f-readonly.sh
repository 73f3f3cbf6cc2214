#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# f-readonly.sh - the database read-only when bounced starts, on a real
# Postfix (milter_default_action = tempfail).  Issue 11: bounced exited
# 73 and Postfix refused all SMTP mail.  Asserts: bounced runs; ordinary
# mail is delivered meanwhile; no bounce is recorded while read-only and
# Postfix keeps them (TEMPFAIL); one WARNING for the incident; once the
# file is writable, one INFO and every bounce recorded exactly once.

. "$(dirname "$0")/faults.sh"

n=$((FAULT_N / 10 > 20 ? FAULT_N / 10 : 20))
e2e_need_postfix
e2e_mkdir
e2e_write_bounced_conf
e2e_start_bounced
e2e_wait_bounced_started	# the database is made after the socket
e2e_stop_bounced
[ -f "$E2E_DB" ] || e2e_error "bounced made no database at $E2E_DB"
chmod 0444 "$E2E_DB"
E2E_NO_PRECHECK=1 e2e_start_bounced
e2e_start_postfix "$FAULT_DOMAIN=hard"
e2e_log "$n bounces and 10 ordinary messages while the database is read-only"
f_send_bulk "$n" r
for i in $(seq 1 10); do
	e2e_send "$E2E_SENDER" "o$i@remote.test" "ordinary $i"
done
e2e_wait_log 'to=<o[0-9]+@remote\.test>,.* status=sent' 10 60
e2e_check "ordinary messages delivered while read-only" \
    "$(e2e_count_log 'to=<o[0-9]+@remote\.test>,.* status=sent')" 10
e2e_wait_log 'milter-reject: END-OF-MESSAGE .* 4\.7\.1 ' 1 60
e2e_check "bounces recorded while read-only" "$(f_db_count r)" "0 0 0"
e2e_check "DSNs delivered while read-only" "$(f_returned_count)" 0
chmod 0644 "$E2E_DB"
f_wait_recorded r "$n" 120
f_check_exactly_once r "$n"
e2e_wait_returned "$n" 120
e2e_check "DSNs delivered to the sender" "$(f_returned_count)" "$n"
e2e_check "WARNING lines: database unavailable" \
    "$(f_bounced_log_count 'warning: database .* unavailable')" 1
e2e_check "INFO lines: database open again" \
    "$(f_bounced_log_count 'database .* is open after')" 1
e2e_finish
