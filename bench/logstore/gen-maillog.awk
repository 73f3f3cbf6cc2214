# SPDX-License-Identifier: BSD-2-Clause
# gen-maillog.awk - write a synthetic Postfix mail log for benchmarks of
# `bouncectl ingest-log` (bench/logstore/run.sh).
#
#   awk -v lines=100000 [-v seed=1] [-v start=1795478400] -f gen-maillog.awk
#
# Each message is a cleanup message-id line, a qmgr from= line, one to
# four delivery lines (76% sent, 10% deferred and retried, 6% bounced
# 5.1.1, 4% blocked 5.7.1, 4% mailbox full 4.2.2) and a qmgr removed
# line, in journalctl -o short-iso-precise form.  Recipients come from a
# pool of 20000 addresses over 50 domains, so soft bounces repeat and
# some addresses reach the soft limit.  Deterministic for a given seed.
BEGIN {
	if (lines == "") lines = 100000
	if (seed == "") seed = 1
	if (start == "") start = 1795478400
	srand(seed)
	t = start
	n = 0
	q = 0
	while (n < lines) {
		q++
		qid = sprintf("%05X%06X", q % 1048576, int(rand() * 16777215))
		t += 0.25
		emit("postfix/cleanup[2105]: " qid ": message-id=<" q ".bench@example.org>")
		emit("postfix/qmgr[2099]: " qid ": from=<news@example.org>, size=" int(2000 + rand() * 40000) ", nrcpt=1 (queue active)")
		nr = 1 + int(rand() * 4)
		for (i = 0; i < nr && n < lines; i++) {
			u = int(rand() * 20000)
			rcpt = "user" u "@d" (u % 50) ".example"
			relay = "mx.d" (u % 50) ".example[192.0.2." (u % 50 + 1) "]:25"
			x = rand()
			if (x < 0.76)
				emit("postfix/smtp[2211]: " qid ": to=<" rcpt ">, relay=" relay ", delay=0.4, delays=0.01/0/0.2/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4ABC" q ")")
			else if (x < 0.86) {
				emit("postfix/smtp[2211]: " qid ": to=<" rcpt ">, relay=" relay ", delay=1.2, delays=0.1/0/0.5/0.6, dsn=4.4.1, status=deferred (connect to " relay ": Connection timed out)")
				emit("postfix/smtp[2212]: " qid ": to=<" rcpt ">, relay=" relay ", delay=601, delays=600/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok)")
			} else if (x < 0.92)
				emit("postfix/smtp[2211]: " qid ": to=<" rcpt ">, relay=" relay ", delay=0.4, delays=0.01/0/0.2/0.2, dsn=5.1.1, status=bounced (host " relay " said: 550 5.1.1 <" rcpt ">: Recipient address rejected: User unknown (in reply to RCPT TO command))")
			else if (x < 0.96)
				emit("postfix/smtp[2211]: " qid ": to=<" rcpt ">, relay=" relay ", delay=0.4, delays=0.01/0/0.2/0.2, dsn=5.7.1, status=bounced (host " relay " said: 554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org (in reply to RCPT TO command))")
			else
				emit("postfix/smtp[2211]: " qid ": to=<" rcpt ">, relay=" relay ", delay=0.4, delays=0.01/0/0.2/0.2, dsn=4.2.2, status=deferred (host " relay " said: 452 4.2.2 <" rcpt ">: Mailbox full (in reply to RCPT TO command))")
		}
		emit("postfix/qmgr[2099]: " qid ": removed")
	}
}

function emit(s,    sec, frac) {
	if (n >= lines)
		return
	sec = int(t)
	frac = int((t - sec) * 1000000)
	printf "%s.%06d+00:00 relay %s\n", strftime("%Y-%m-%dT%H:%M:%S", sec, 1), frac, s
	n++
	t += 0.001
}
