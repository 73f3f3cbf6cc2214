# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# tests/e2e/trust.sh - what the e2e-trust-*.sh scenarios (issue 10, the
# trust policy) share, sourced after lib.sh: reports written on the spot
# (a remote Postfix's DSN, an ARF abuse report) about any recipient and
# Message-ID, with any date, and questions to bouncectl about them.

# trust_dsn FILE RCPT MESSAGE-ID [ARRIVAL-DATE] - a remote MTA's DSN
# (multipart/report, 550 5.1.1) for RCPT about the message MESSAGE-ID
# ("<id@host>"), its original's headers returned; dated ARRIVAL-DATE
# (RFC 5322 date, default now)
trust_dsn()
{
	python3 - "$@" <<'PY' || e2e_error "could not write a DSN"
import sys, time, email.utils
path, rcpt, mid = sys.argv[1:4]
date = sys.argv[4] if len(sys.argv) > 4 else email.utils.formatdate()
b = "B." + str(time.time_ns())
msg = f"""Date: {date}
From: MAILER-DAEMON@mx.remote.test (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: alice@sender.test
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="{b}"
Message-Id: <{b}@mx.remote.test>

--{b}
Content-Type: text/plain; charset=us-ascii

<{rcpt}>: user unknown: no mailbox here by that name

--{b}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.remote.test
X-Postfix-Queue-ID: 7C1F32A0B4
X-Postfix-Sender: rfc822; alice@sender.test
Arrival-Date: {date}

Final-Recipient: rfc822; {rcpt}
Original-Recipient: rfc822;{rcpt}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: user unknown: no mailbox here

--{b}
Content-Type: text/rfc822-headers

From: Alice <alice@sender.test>
To: <{rcpt}>
Subject: e2e trust test
Message-ID: {mid}

--{b}--
"""
open(path, "w").write(msg)
PY
}

# trust_arf FILE RCPT MESSAGE-ID [ARRIVAL-DATE] - an ARF abuse report
# (RFC 5965) about RCPT's complaint on MESSAGE-ID
trust_arf()
{
	python3 - "$@" <<'PY' || e2e_error "could not write an ARF report"
import sys, time, email.utils
path, rcpt, mid = sys.argv[1:4]
date = sys.argv[4] if len(sys.argv) > 4 else email.utils.formatdate()
b = "F." + str(time.time_ns())
msg = f"""From: fbl@isp.example
To: fbl@sender.test
Date: {date}
Subject: FW: abuse report
Message-ID: <{b}@isp.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
	boundary="{b}"

--{b}
Content-Type: text/plain

This is an abuse report.

--{b}
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: e2e/1.0
Version: 1
Original-Mail-From: <alice@sender.test>
Original-Rcpt-To: <{rcpt}>
Arrival-Date: {date}

--{b}
Content-Type: message/rfc822

From: alice@sender.test
To: {rcpt}
Subject: e2e trust test
Message-ID: {mid}

spam?
--{b}--
"""
open(path, "w").write(msg)
PY
}

# trust_msgid RCPT - "<id>" of the (first) message the relay took for RCPT,
# from cleanup's message-id= line of the mail log
trust_msgid()
{
	local qid

	qid=$(e2e_qids "$1" sent | head -n 1)
	[ -n "$qid" ] || e2e_error "no message to $1 in the mail log"
	sed -n "s/.*: $qid: message-id=\\(<[^>]*>\\).*/\\1/p" "$E2E_MAILLOG" |
	    head -n 1
}

# trust_last ADDR FIELD - FIELD of the newest event in `bouncectl --json
# history ADDR` (JSON Lines; "none" without events)
trust_last()
{
	e2e_ctl --json history "$1" 2>/dev/null | python3 -c '
import json, sys
try:
	v = [json.loads(l) for l in sys.stdin.read().splitlines() if l.strip()]
except ValueError:
	print("unparsable"); sys.exit(0)
if not v:
	print("none"); sys.exit(0)
x = v[-1].get(sys.argv[1])
print("true" if x is True else "false" if x is False else
    "" if x is None else x)
' "$2"
}

# trust_state ADDR - sets E2E_STATE to the state of ADDR per `bouncectl
# --json status`, E2E_RC to its exit status
trust_state()
{
	e2e_status "$1"
	E2E_STATE=$(e2e_json_get "$E2E_JSON" state)
}

# trust_wait_held ADDR SECONDS - until ADDR has an untrusted event
trust_wait_held()
{
	local i

	for i in $(seq 1 $(($2 * 10))); do
		[ "$(trust_last "$1" class)" = untrusted ] && return 0
		sleep 0.1
	done
	return 1
}

# trust_since_ok ADDR - "yes" when ADDR's suppression date is within the
# last 10 minutes (neither the report's future nor its past)
trust_since_ok()
{
	e2e_status "$1"
	python3 - "$E2E_JSON" <<'PY'
import json, sys, time, datetime
try:
	v = json.loads(sys.argv[1])
	v = v[0] if isinstance(v, list) else v
	s = v.get("suppressed_since")
	if isinstance(s, str):
		t = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
		    tzinfo=datetime.timezone.utc).timestamp()
	else:
		t = float(s)
	print("yes" if abs(time.time() - t) < 600 else "no: %s" % s)
except (ValueError, TypeError, AttributeError) as e:
	print("no: %s" % e)
PY
}
