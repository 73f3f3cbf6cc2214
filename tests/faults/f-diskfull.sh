#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# f-diskfull.sh - the database on a 16 MiB file system that fills up
# while bounces arrive.  Asserts: no bounce is lost (TEMPFAIL while full,
# nothing half-recorded), bounced keeps running, and once space is freed
# every bounce is recorded exactly once.

. "$(dirname "$0")/faults.sh"

n=$((FAULT_N / 10 > 50 ? FAULT_N / 10 : 50))
e2e_need_postfix
command -v mount >/dev/null || e2e_skip "no mount(8)"
e2e_mkdir
mount -t tmpfs -o size=16m,mode=0755 tmpfs "$E2E_DIR/db" ||
    e2e_skip "cannot mount a tmpfs here"
chown "$E2E_USER${E2E_GROUP:+:$E2E_GROUP}" "$E2E_DIR/db"
trap 'f_rc=$?; e2e_stop_bounced 10; umount -l "$E2E_DIR/db" 2>/dev/null;
    (exit $f_rc); e2e_cleanup' EXIT
e2e_write_bounced_conf DatabaseBusyTimeout 1s
e2e_start_bounced
e2e_start_postfix "$FAULT_DOMAIN=hard"
f_send_bulk 10 pre
f_wait_recorded pre 10 60 || e2e_error "no bounce recorded before the fill"
e2e_log "filling $E2E_DIR/db"
dd if=/dev/zero of="$E2E_DIR/db/filler" bs=64k >/dev/null 2>&1
e2e_log "free: $(df -k "$E2E_DIR/db" | awk 'NR == 2 { print $4 }') KiB;" \
    "$n bounces"
f_send_bulk "$n" d
e2e_wait_log 'milter-reject: END-OF-MESSAGE .* 4\.7\.1 ' 1 60
sleep 5
c=$(f_db_count d)
e2e_log "recorded while full: $c (events, recipients)"
e2e_check "bounced runs with the disk full" \
    "$(kill -0 "$E2E_BOUNCED_PID" 2>/dev/null && echo yes || echo no)" yes
rm -f "$E2E_DIR/db/filler"
f_wait_recorded d "$n" 180
f_check_exactly_once d "$n"
e2e_wait_returned $((n + 10)) 120
e2e_check "DSNs delivered to the sender" "$(f_returned_count)" $((n + 10))
e2e_finish
