# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# tests/faults/faults.sh - what the fault scenarios share, on top of
# tests/e2e/lib.sh (sourced first): bulk mail that Postfix bounces,
# counting what the database holds, killing and restarting bounced, the
# log follower that is bounced's safety net (contrib/systemd: the
# bounced-logfollow unit bounced.service wants), bounced's memory.
#
# FAULT_N (1000) bounces per scenario: `make check-faults FAULT_N=200`
# for a quicker run.

. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

FAULT_N=${FAULT_N:-1000}
FAULT_DOMAIN=bulk.test

# f_up [ROUTE...] - Postfix with bulk.test bouncing hard, and bounced
f_up()
{
	e2e_up "$FAULT_DOMAIN=hard" "$@"
}

# f_send_bulk N PREFIX [FROM] - N messages over one SMTP session, to
# PREFIX1@bulk.test ... PREFIXN@bulk.test (each becomes a DSN); in the
# background when FAULT_BG=1 (its pid in F_SEND_PID)
f_send_bulk()
{
	local rc

	python3 - "$P_SMTPD" "$1" "$2" "${3:-$E2E_SENDER}" <<'PY' &
import os, smtplib, sys, time
port, n, prefix, sender = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = None
i = 1
tries = 0
while i <= n:
	try:
		if s is None:
			s = smtplib.SMTP(os.environ["E2E_ADDR"], port, timeout=60)
		rcpt = "%s%d@bulk.test" % (prefix, i)
		msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: fault %d\r\n"
		    "Message-ID: <f-%s-%d-%d@sender.test>\r\n\r\nfault test\r\n") % (
		    sender, rcpt, i, prefix, i, os.getpid())
		s.sendmail(sender, [rcpt], msg)
		i += 1
	except (smtplib.SMTPException, OSError) as e:
		# Postfix refuses mail while the milter is down and
		# milter_default_action = tempfail: try again, as a client would
		tries += 1
		if tries > 600:
			print("giving up at %d: %s" % (i, e)); sys.exit(1)
		try:
			s.close()
		except Exception:
			pass
		s = None
		time.sleep(0.2)
try:
	s.quit()
except Exception:
	pass
PY
	F_SEND_PID=$!
	E2E_PIDS+=($!)
	if [ "${FAULT_BG:-0}" != 1 ]; then
		wait "$F_SEND_PID"
		rc=$?
		[ "$rc" -eq 0 ] || e2e_error "f_send_bulk $2: exit $rc"
	fi
}

# f_db_count PREFIX - "EVENTS DISTINCT DOUBLES" for PREFIX*@bulk.test:
# failure events, distinct recipients, and recipients with more than one
# event of the same standing ("0 0 0" while the database is unreadable).
# A DSN the trust policy holds (class untrusted, DESIGN.md "Trust") and
# the trusted log line of the same failure are two events by design, and
# so is the second DSN (status 5.0.0, "expired") that Postfix makes for a
# message whose first DSN was deferred when the queue lifetime is 0, as
# in these tests; two of either kind with one status for one recipient
# is a bounce recorded twice.
f_db_count()
{
	python3 - "$E2E_DB" "$1" <<'PY'
import sqlite3, sys
try:
	c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
	w = "recipient LIKE ? AND action = 'failed'"
	a = (sys.argv[2] + "%@bulk.test",)
	r = c.execute("SELECT COUNT(*), COUNT(DISTINCT recipient) FROM events "
	    "WHERE " + w, a).fetchone()
	d = c.execute("SELECT COUNT(*) FROM (SELECT recipient, status, "
	    "class = 'untrusted' AS u FROM events WHERE " + w +
	    " GROUP BY recipient, status, u HAVING COUNT(*) > 1)", a).fetchone()
	print(r[0], r[1], d[0])
except sqlite3.Error:
	print(0, 0, 0)
PY
}

# f_wait_recorded PREFIX N SECONDS - until N distinct recipients of PREFIX
# are recorded; 1 if not within SECONDS
f_wait_recorded()
{
	local i d

	for i in $(seq 1 "$3"); do
		d=$(f_db_count "$1" | cut -d' ' -f2)
		[ "${d:-0}" -ge "$2" ] && return 0
		sleep 1
	done
	return 1
}

# f_bounced_log_count ERE - lines of bounced's log that match
f_bounced_log_count()
{
	grep -Ec -- "$1" "$E2E_DIR/bounced.log" 2>/dev/null || true
}

# f_kill9 - kill -9 bounced (no cleanup at all, as a crash)
f_kill9()
{
	kill -KILL "$E2E_BOUNCED_PID" 2>/dev/null
	wait "$E2E_BOUNCED_PID" 2>/dev/null
	E2E_BOUNCED_PID=
}

# f_returned_count - DSNs delivered to the sender (passed the milter)
f_returned_count()
{
	e2e_count_log "$(e2e_returned_re)"
}

# f_rss_kib FIELD - bounced's VmRSS or VmHWM (KiB)
f_rss_kib()
{
	awk -v f="$1:" '$1 == f { print $2 }' \
	    "/proc/$E2E_BOUNCED_PID/status" 2>/dev/null
}

# f_check_exactly_once PREFIX N - every bounce recorded, none twice
f_check_exactly_once()
{
	local c e d x

	c=$(f_db_count "$1")
	read -r e d x <<<"$c"
	e2e_log "events for $1*: $e ($d recipients)"
	e2e_check "recipients of $1* recorded (of $2 bounced)" "$d" "$2"
	e2e_check "recipients of $1* recorded twice" "$x" 0
}
