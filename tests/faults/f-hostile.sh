#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# f-hostile.sh - 64 hostile bounces (bench/milter/hostile.py: 100,000 MIME
# parts, deep nesting, a chain of enclosed messages, 12,000 recipients,
# 200,000 header fields; about 1 MB each) sent at once over SMTP from the
# null sender, through smtpd_milters.  Issue 11: 16 such sessions took
# bounced to 682 MB.  Asserts: bounced's peak resident memory stays under
# FAULT_MEM_MIB (256, the bound documented in contrib/systemd), bounced
# still runs, and ordinary mail is delivered afterwards.

. "$(dirname "$0")/faults.sh"

bound=${FAULT_MEM_MIB:-256}
f_up
python3 "$TOP_SRCDIR/bench/milter/hostile.py" "$E2E_DIR" ||
    e2e_error "hostile.py failed"
e2e_log "64 hostile bounces at once; bounced at $(f_rss_kib VmRSS) KiB"
python3 - "$P_SMTPD" "$E2E_DIR" <<'PY' >"$E2E_DIR/hostile.log" 2>&1 ||
import os, smtplib, sys, threading
port, d = int(sys.argv[1]), sys.argv[2]
names = ["parts", "deep", "msgchain", "rcpts", "headers"]
bad = []
def one(i):
	data = open(os.path.join(d, names[i % 5] + ".eml"), "rb").read()
	try:
		with smtplib.SMTP(os.environ["E2E_ADDR"], port, timeout=120) as s:
			s.sendmail("", ["alice@sender.test"], data)
	except smtplib.SMTPResponseException as e:
		if e.smtp_code // 100 == 5:
			bad.append("%d: %s" % (i, e))
	except Exception as e:
		bad.append("%d: %s" % (i, e))
ts = [threading.Thread(target=one, args=(i,)) for i in range(64)]
for t in ts: t.start()
for t in ts: t.join()
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
	e2e_log "hostile sessions failed: $(tail -n 5 "$E2E_DIR/hostile.log")"
hwm=$(f_rss_kib VmHWM)
e2e_log "bounced's peak resident memory: ${hwm:-?} KiB"
e2e_check "bounced's peak memory under $bound MiB" \
    "$([ -n "$hwm" ] && [ "$hwm" -lt $((bound * 1024)) ] && echo yes ||
    echo "no (${hwm:-?} KiB)")" yes
e2e_check "bounced runs after the hostile bounces" \
    "$(kill -0 "$E2E_BOUNCED_PID" 2>/dev/null && echo yes || echo no)" yes
for i in 1 2 3; do
	e2e_send "$E2E_SENDER" "o$i@remote.test" "after hostile $i"
done
e2e_wait_log 'to=<o[0-9]+@remote\.test>,.* status=sent' 3 60
e2e_check "ordinary messages delivered afterwards" \
    "$(e2e_count_log 'to=<o[0-9]+@remote\.test>,.* status=sent')" 3
e2e_finish
