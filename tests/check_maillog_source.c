/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * check_logsource.c - unit tests of the MTA log as an event source
 * (maillog/maillog_source.c) against a real store: the soft rule counted per
 * distinct original message from log lines, resets by a delivery,
 * sender-side failures counted per domain, one event for a failure seen
 * in the log and in a DSN, resuming from a stored cursor, malformed
 * lines, sends and bounce rates, the campaign header, expiry lines and
 * the bounded queue-id memory.  Each test uses a fresh database in its
 * own temporary directory.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "verdict/analyze.h"
#include "verdict/classify.h"
#include "maillog/maillog_follow.h"
#include "maillog/maillog_source.h"
#include "parse/mime.h"
#include "verdict/rules.h"
#include "verdict/state.h"
#include "store/store.h"
#include "testutil.h"

#define T0	1795456258	/* 2026-11-23T18:30:58Z */
#define DAY	86400

static char	 tmpdir[256];
static char	 dbpath[300];
static struct store *st;
static struct rules *rules;
static struct logsource *ls;
static struct logsource_result res;
static struct maillog_rec rec9;
static const struct state_policy pol = { .soft_limit = 3, .soft_window = 30 * DAY,
	    .complaint_types = 0 };

static void
setup(void)
{
	struct logsource_opts	 o;
	char			 err[256];
	enum bd_status		 r;

	testutil_tmpdir("check_logsource", tmpdir, sizeof(tmpdir));
	testutil_store(tmpdir, dbpath, sizeof(dbpath), &st);
	r = rules_default(&rules, err, sizeof(err));
	ck_assert_msg(r == BD_OK, "rules_default: got %s (%s)",
	    bd_strerror(r), err);
	memset(&o, 0, sizeof(o));
	o.rules = rules;
	o.campaign_header = "X-Campaign";
	ck_assert_int_eq(logsource_new(&o, &ls), BD_OK);
	memset(&res, 0, sizeof(res));
}

static void
teardown(void)
{
	logsource_free(ls);
	ls = NULL;
	rules_unref(rules);
	store_close(st);
	st = NULL;
	testutil_rmtree(tmpdir);
}

/* An RFC 3339 stamp of t, as journalctl -o short-iso-precise writes it. */
static void
stamp(int64_t t, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S.000000+00:00", &tm);
}

static void feedf(int64_t, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* Feed "STAMP relay REST" dated t. */
static void
feedf(int64_t t, const char *fmt, ...)
{
	char		 line[2048], ts[64];
	va_list		 ap;
	int		 n;
	enum bd_status	 r;

	stamp(t, ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "%s relay ", ts);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	r = logsource_feed(ls, line, strlen(line), t + 60, st, &pol, &res);
	ck_assert_msg(r == BD_OK, "feed: got %s (%s), want ok",
	    bd_strerror(r), store_errmsg(st));
}

/* The cleanup and qmgr lines of a new message. */
static void
queued(int64_t t, const char *qid, const char *msgid)
{
	feedf(t, "postfix/cleanup[2105]: %s: message-id=<%s>", qid, msgid);
	feedf(t, "postfix/qmgr[2099]: %s: from=<news@example.org>, "
	    "size=1234, nrcpt=1 (queue active)", qid);
}

static void
deferred(int64_t t, const char *qid, const char *rcpt, const char *dsn,
    const char *text)
{
	feedf(t, "postfix/smtp[2211]: %s: to=<%s>, relay=mx.example.net"
	    "[192.0.2.7]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=%s, "
	    "status=deferred (host mx.example.net[192.0.2.7] said: %s "
	    "(in reply to RCPT TO command))", qid, rcpt, dsn, text);
}

/* qmgr gives the message up: its deferred recipients fail (soft). */
static void
expired(int64_t t, const char *qid)
{
	feedf(t, "postfix/qmgr[2099]: %s: from=<news@example.org>, "
	    "status=expired, returned to sender", qid);
}

static void
sent(int64_t t, const char *qid, const char *rcpt)
{
	feedf(t, "postfix/smtp[2211]: %s: to=<%s>, relay=mx.example.net"
	    "[192.0.2.7]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, "
	    "status=sent (250 2.0.0 Ok: queued as 4xyz)", qid, rcpt);
}

#define FULL	"452 4.2.2 <carol@example.net>: Mailbox full"
#define FULL5	"552 5.2.2 <fay@example.net>: Mailbox full"

START_TEST(test_logsource_three_messages_suppress)
{
	struct store_recipient	 rc;
	static const char *const qids[] = { "AB4EAA72252", "AB4EAA72253",
	    "AB4EAA72254" };
	char			 msgid[64];
	int			 i, commas = 0;
	size_t			 k;

	for (i = 0; i < 3; i++) {
		snprintf(msgid, sizeof(msgid), "m%d@example.org", i);
		queued(T0 + i * DAY, qids[i], msgid);
		deferred(T0 + i * DAY + 5, qids[i], "carol@example.net",
		    "4.2.2", FULL);
		/* a deferral is provisional: nothing counts yet */
		testutil_assert_state(st, "carol@example.net",
		    i == 0 ? "active" : "soft", "", (unsigned)i);
		expired(T0 + i * DAY + 50, qids[i]);
		if (i < 2)
			testutil_assert_state(st, "carol@example.net", "soft",
			    "", (unsigned)i + 1);
	}
	testutil_assert_state(st, "carol@example.net", "suppressed",
	    "soft-limit", 3);
	ck_assert_msg(res.bounces == 6 && res.events_new == 6,
	    "bounces/new: got %llu/%llu, want 6/6",
	    (unsigned long long)res.bounces,
	    (unsigned long long)res.events_new);
	/* the suppression names the three events that led there */
	ck_assert_int_eq(store_lookup(st, "carol@example.net", &rc), BD_OK);
	for (k = 0; rc.suppress_events[k] != '\0'; k++)
		commas += rc.suppress_events[k] == ',';
	ck_assert_msg(commas == 2, "suppress_events: got \"%s\", want 3 ids",
	    rc.suppress_events);
	/* the message ids came from the cleanup lines */
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM events WHERE "
	    "message_id LIKE '<m_@example.org>' AND sender = "
	    "'news@example.org' AND source = 'log'"), 6);
}
END_TEST

START_TEST(test_logsource_retries_count_once)
{
	queued(T0, "C0FFEE12345", "r@example.org");
	deferred(T0 + 10, "C0FFEE12345", "dan@example.net", "4.2.2", FULL);
	deferred(T0 + 600, "C0FFEE12345", "dan@example.net", "4.2.2", FULL);
	deferred(T0 + 3600, "C0FFEE12345", "dan@example.net", "4.4.1",
	    "421 4.4.1 Try again later");
	deferred(T0 + 7200, "C0FFEE12345", "dan@example.net", "4.2.2", FULL);
	testutil_assert_state(st, "dan@example.net", "active", "", 0);
	expired(T0 + 5 * DAY, "C0FFEE12345");
	testutil_assert_state(st, "dan@example.net", "soft", "", 1);
	ck_assert_msg(res.duplicates == 2, "duplicates: got %llu, want 2",
	    (unsigned long long)res.duplicates);
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM sends"), 1);
}
END_TEST

START_TEST(test_logsource_delivery_resets)
{
	queued(T0, "D00000000A1", "a@example.org");
	deferred(T0 + 1, "D00000000A1", "erin@example.net", "4.2.2", FULL);
	expired(T0 + 2, "D00000000A1");
	queued(T0 + DAY, "D00000000A2", "b@example.org");
	deferred(T0 + DAY + 1, "D00000000A2", "erin@example.net", "4.2.2",
	    FULL);
	expired(T0 + DAY + 2, "D00000000A2");
	testutil_assert_state(st, "erin@example.net", "soft", "", 2);
	queued(T0 + 2 * DAY, "D00000000A3", "c@example.org");
	sent(T0 + 2 * DAY + 1, "D00000000A3", "erin@example.net");
	testutil_assert_state(st, "erin@example.net", "active", "", 0);
	queued(T0 + 3 * DAY, "D00000000A4", "d@example.org");
	deferred(T0 + 3 * DAY + 1, "D00000000A4", "erin@example.net",
	    "4.2.2", FULL);
	expired(T0 + 3 * DAY + 2, "D00000000A4");
	testutil_assert_state(st, "erin@example.net", "soft", "", 1);
	ck_assert_msg(res.deliveries == 1, "deliveries: got %llu, want 1",
	    (unsigned long long)res.deliveries);
	/* a soft bounce older than the window drops out */
	queued(T0 + 40 * DAY, "D00000000A5", "e@example.org");
	deferred(T0 + 40 * DAY, "D00000000A5", "erin@example.net", "4.2.2",
	    FULL);
	expired(T0 + 40 * DAY + 1, "D00000000A5");
	queued(T0 + 41 * DAY, "D00000000A6", "f@example.org");
	deferred(T0 + 41 * DAY, "D00000000A6", "erin@example.net", "4.2.2",
	    FULL);
	expired(T0 + 41 * DAY + 1, "D00000000A6");
	testutil_assert_state(st, "erin@example.net", "soft", "", 2);
}
END_TEST

struct spikes {
	int	 n;
	char	 domain[64];
	char	 reason[48];
	int64_t	 count;
};

static int
spike_cb(void *arg, const struct store_rate_row *r)
{
	struct spikes	*s = arg;

	if (s->n++ == 0) {
		snprintf(s->domain, sizeof(s->domain), "%s", r->domain);
		snprintf(s->reason, sizeof(s->reason), "%s", r->reason);
		s->count = r->count;
	}
	return 0;
}

START_TEST(test_logsource_block_counts_for_domain)
{
	struct spikes	 sp;
	char		 qid[32];
	bool		 crossed = true;
	int		 i;

	for (i = 0; i < 4; i++) {
		snprintf(qid, sizeof(qid), "B10CC0000%02d", i);
		queued(T0 + i * 60, qid, "blk@example.org");
		feedf(T0 + i * 60 + 1, "postfix/smtp[2215]: %s: "
		    "to=<ops@example.com>, relay=mx.example.com[192.0.2.44]:25, "
		    "delay=4, delays=0.05/0/3.9/0, dsn=5.7.1, status=bounced "
		    "(host mx.example.com[192.0.2.44] refused to talk to me: "
		    "554 5.7.1 Service unavailable; Client host "
		    "[198.51.100.7] blocked using zen.spamhaus.org)", qid);
	}
	testutil_assert_state(st, "ops@example.com", "active", "", 0);
	ck_assert_msg(res.sender_side == 4, "sender side: got %llu, want 4",
	    (unsigned long long)res.sender_side);
	ck_assert_int_eq(store_sender_spikes(st, T0 + 600, 5, NULL, NULL,
	    &crossed), BD_OK);
	ck_assert_msg(!crossed, "rate 5/h: got crossed, want not");
	memset(&sp, 0, sizeof(sp));
	ck_assert_int_eq(store_sender_spikes(st, T0 + 600, 4, spike_cb, &sp,
	    &crossed), BD_OK);
	ck_assert_msg(crossed && sp.n == 1 && sp.count == 4 &&
	    strcmp(sp.domain, "example.com") == 0, "rate 4/h: got %d groups, "
	    "%s/%s %lld, want 1 group, example.com 4", sp.n, sp.domain,
	    sp.reason, (long long)sp.count);
	ck_assert_msg(!classify_reason_sender_side("mailboxfull") &&
	    classify_reason_sender_side(sp.reason), "reason \"%s\" is not "
	    "sender-side", sp.reason);
	/* an hour later the spike is over */
	ck_assert_int_eq(store_sender_spikes(st, T0 + 2 * 3600, 1, NULL, NULL,
	    &crossed), BD_OK);
	ck_assert_msg(!crossed, "two hours later: got crossed, want not");
}
END_TEST

/* The fixture as a string, or NULL when ../shared is absent. */
static char *
read_fixture(const char *name, size_t *len)
{
	char	 dir[1024];

	*len = 0;
	if (!testutil_shared("fixtures/postfix", dir, sizeof(dir)))
		return NULL;
	return testutil_read_in(dir, name, len);
}

/* The DSN of postfix-failed-5xx.eml recorded as the milter does. */
static size_t
record_dsn(const char *msg, size_t len)
{
	struct dsn_options	 opt = DSN_OPTIONS_DEFAULT;
	struct analysis		*a = NULL;
	struct bd_event		 ev;
	size_t			 n = 99;

	ck_assert_int_eq(analyze_message(rules, msg, len, &opt, &a), BD_OK);
	ck_assert_msg(a->report->nrcpts == 1, "rcpts: got %zu, want 1",
	    a->report->nrcpts);
	analysis_event(a, 0, EV_SRC_DSN_INTERNAL, T0, &ev);
	ck_assert_int_eq(store_record(st, &ev, 1, &pol, T0, &n), BD_OK);
	analysis_free(a);
	return n;
}

/* The log line of the same failure (as Postfix 3.7 writes it). */
#define FIXTURE_LINE \
	"Nov 23 18:10:58 e2e-mta postfix/smtp[20741]: D5FAEA761C6: " \
	"to=<bob@remote.test>, relay=127.0.0.1[127.0.0.1]:10026, " \
	"delay=0.05, delays=0.01/0.01/0/0.03, dsn=5.1.1, status=bounced " \
	"(host 127.0.0.1[127.0.0.1] said: 550 5.1.1 Error: no such user " \
	"here (in reply to RCPT TO command))"

START_TEST(test_logsource_dsn_and_log_one_event)
{
	char		*msg;
	size_t		 len, n;
	int		 order;

	if ((msg = read_fixture("postfix-failed-5xx.eml", &len)) == NULL) {
		fprintf(stderr, "check_logsource: ../shared absent, "
		    "fixture test skipped\n");
		return;
	}
	for (order = 0; order < 2; order++) {
		if (order == 1) {
			teardown();
			setup();
		}
		if (order == 0) {
			n = record_dsn(msg, len);
			ck_assert_msg(n == 1, "DSN first: got %zu new, want 1",
			    n);
		}
		ck_assert_int_eq(logsource_feed(ls, FIXTURE_LINE,
		    strlen(FIXTURE_LINE), T0, st, &pol, &res), BD_OK);
		if (order == 0)
			ck_assert_msg(res.duplicates == 1 &&
			    res.events_new == 0, "log after DSN: got %llu "
			    "new, %llu duplicates, want 0, 1",
			    (unsigned long long)res.events_new,
			    (unsigned long long)res.duplicates);
		else {
			ck_assert_msg(res.events_new == 1, "log first: got "
			    "%llu new, want 1",
			    (unsigned long long)res.events_new);
			n = record_dsn(msg, len);
			ck_assert_msg(n == 0, "DSN after log: got %zu new, "
			    "want 0", n);
		}
		ck_assert_int_eq(testutil_count_rows(dbpath,
		    "SELECT COUNT(*) FROM events"), 1);
		testutil_assert_state(st, "bob@remote.test", "suppressed",
		    "hard", 0);
		/* the send seen in the log has the failure as its outcome */
		ck_assert_int_eq(testutil_count_rows(dbpath,
		    "SELECT COUNT(*) FROM sends WHERE "
		    "queue_id = 'D5FAEA761C6' AND outcome = 'hard'"), 1);
	}
	free(msg);
}
END_TEST

/* Feed every line of path from pos on; store the position after. */
static uint64_t
follow_batch(const char *path, struct follow_pos *pos)
{
	struct follow_opts	 fo;
	struct follow		*f = NULL;
	struct store_cursor	 c;
	const char		*line;
	size_t			 len;
	bool			 cut;
	uint64_t		 n = 0;

	memset(&fo, 0, sizeof(fo));
	fo.flags = FOLLOW_ONCE;
	ck_assert_int_eq(follow_open(path, pos, &fo, &f), BD_OK);
	ck_assert_int_eq(store_batch_begin(st), BD_OK);
	while (follow_next(f, 1000, &line, &len, &cut) == FOLLOW_LINE) {
		ck_assert_int_eq(logsource_feed(ls, line, len, T0 + DAY, st,
		    &pol, &res), BD_OK);
		n++;
	}
	follow_position(f, pos);
	c.dev = pos->dev;
	c.ino = pos->ino;
	c.off = pos->off;
	ck_assert_int_eq(store_cursor_set(st, "file:test", &c, T0), BD_OK);
	ck_assert_int_eq(store_batch_end(st, true), BD_OK);
	follow_close(f);
	return n;
}

START_TEST(test_logsource_resume_from_cursor)
{
	struct store_cursor	 c;
	struct follow_pos	 pos;
	char			 path[400], ts[64];
	FILE			*fp;
	uint64_t		 n;
	int			 i;

	snprintf(path, sizeof(path), "%s/mail.log", tmpdir);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	for (i = 0; i < 2; i++) {
		stamp(T0 + i * DAY, ts, sizeof(ts));
		fprintf(fp, "%s relay postfix/smtp[1]: F0000000%03d: "
		    "to=<fay@example.net>, relay=mx[192.0.2.1]:25, delay=1, "
		    "delays=0/0/0/1, dsn=5.2.2, status=bounced (host mx"
		    "[192.0.2.1] said: " FULL5 ")\n", ts, i);
	}
	fclose(fp);
	memset(&pos, 0, sizeof(pos));
	n = follow_batch(path, &pos);
	ck_assert_msg(n == 2, "first run: got %llu lines, want 2",
	    (unsigned long long)n);
	testutil_assert_state(st, "fay@example.net", "soft", "", 2);
	/* a new run starts from the stored position, not from the top */
	ck_assert_int_eq(store_cursor_get(st, "file:test", &c), BD_OK);
	ck_assert_msg(c.off == pos.off && c.ino == pos.ino, "cursor: got "
	    "%llu@%llu, want %llu@%llu", (unsigned long long)c.off,
	    (unsigned long long)c.ino, (unsigned long long)pos.off,
	    (unsigned long long)pos.ino);
	ck_assert_ptr_nonnull(fp = fopen(path, "a"));
	stamp(T0 + 2 * DAY, ts, sizeof(ts));
	fprintf(fp, "%s relay postfix/smtp[1]: F0000000002: "
	    "to=<fay@example.net>, relay=mx[192.0.2.1]:25, delay=1, "
	    "delays=0/0/0/1, dsn=5.2.2, status=bounced (host mx"
	    "[192.0.2.1] said: " FULL5 ")\n", ts);
	fclose(fp);
	pos.dev = c.dev;
	pos.ino = c.ino;
	pos.off = c.off;
	ck_assert_int_eq(store_cursor_get(st, "file:other", &c),
	    BD_ENOTFOUND);
	memset(&res, 0, sizeof(res));
	n = follow_batch(path, &pos);
	ck_assert_msg(n == 1 && res.lines == 1, "resumed run: got %llu "
	    "lines, want 1", (unsigned long long)n);
	testutil_assert_state(st, "fay@example.net", "suppressed", "soft-limit",
	    3);
	/* reading the whole file again counts nothing twice */
	memset(&pos, 0, sizeof(pos));
	memset(&res, 0, sizeof(res));
	n = follow_batch(path, &pos);
	ck_assert_msg(n == 3 && res.events_new == 0 && res.duplicates == 3,
	    "reread: got %llu lines, %llu new, want 3 lines, 0 new",
	    (unsigned long long)n, (unsigned long long)res.events_new);
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM events"), 3);
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM sends"), 3);
}
END_TEST

START_TEST(test_logsource_batch_rollback)
{
	struct store_recipient	 rc;

	ck_assert_int_eq(store_batch_begin(st), BD_OK);
	ck_assert_int_eq(store_batch_begin(st), BD_ECONFIG);
	deferred(T0, "AAAA0000001", "gil@example.net", "4.2.2", FULL);
	ck_assert_int_eq(store_batch_end(st, false), BD_OK);
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM events"), 0);
	ck_assert_int_eq(store_lookup(st, "gil@example.net", &rc),
	    BD_ENOTFOUND);
}
END_TEST

START_TEST(test_logsource_malformed_lines_counted)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"Nov 23 18:35:18 relay postfix/smtp[10077]: AB4EAA72252: "
		    "to=<bob@hard.test>, relay=127.0.0.1[127.0.0.1]:10026, del",
		"Nov 23 18:35:18 relay postfix/smtp[10077]: AB4EAA72252: "
		    "to=<bob@hard.test>, relay=none, delay=0.04, "
		    "delays=0.01/0.01/0/0.01, dsn=5.1.1, status=frobnicated "
		    "(whatever)",
		"\x01\x02\xff\xfe postfix/smtp[1]: to=<x@y>",
	};
	char		 big[20000];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(logsource_feed(ls, bad[i], strlen(bad[i]), T0,
		    st, &pol, &res), BD_OK);
	memset(big, 'A', sizeof(big));
	ck_assert_int_eq(logsource_feed(ls, big, sizeof(big), T0, st, &pol,
	    &res), BD_OK);
	ck_assert_msg(res.lines == 6, "lines: got %llu, want 6",
	    (unsigned long long)res.lines);
	ck_assert_msg(res.malformed >= 2, "malformed: got %llu, want >= 2",
	    (unsigned long long)res.malformed);
	ck_assert_msg(res.malformed + res.ignored == 6 && res.records == 0,
	    "malformed %llu + ignored %llu, records %llu: want 6, 0",
	    (unsigned long long)res.malformed,
	    (unsigned long long)res.ignored,
	    (unsigned long long)res.records);
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM events"), 0);
}
END_TEST

struct statw {
	int64_t	 sends, hard, soft, delivered;
	char	 key[64];
	int	 rows;
};

static int
stat_cb(void *arg, const struct store_stat_row *r)
{
	struct statw	*w = arg;

	if (strcmp(r->key, "spring") == 0 || strcmp(r->key, "total") == 0) {
		w->sends = r->sends;
		w->hard = r->sends_hard;
		w->soft = r->sends_soft;
		w->delivered = r->sends_delivered;
		snprintf(w->key, sizeof(w->key), "%s", r->key);
	}
	w->rows++;
	return 0;
}

START_TEST(test_logsource_sends_and_campaign)
{
	struct statw	 w;

	queued(T0, "CA0000000A1", "c1@example.org");
	feedf(T0, "postfix/cleanup[2105]: CA0000000A1: warning: header "
	    "X-Campaign: spring from app.example.org[192.0.2.80]; "
	    "from=<news@example.org> to=<x@example.net> proto=ESMTP "
	    "helo=<app>");
	sent(T0 + 1, "CA0000000A1", "h1@example.net");
	sent(T0 + 1, "CA0000000A1", "h2@example.net");
	deferred(T0 + 1, "CA0000000A1", "h3@example.net", "4.2.2", FULL);
	sent(T0 + 100, "CA0000000A1", "h3@example.net");
	feedf(T0 + 2, "postfix/smtp[2]: CA0000000A1: to=<h4@example.net>, "
	    "relay=mx[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, "
	    "status=bounced (host mx[192.0.2.1] said: 550 5.1.1 No such "
	    "user (in reply to RCPT TO command))");
	queued(T0, "CA0000000A2", "c2@example.org");
	deferred(T0 + 5, "CA0000000A2", "h5@example.net", "4.2.2", FULL);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(store_stats(st, "campaign", stat_cb, &w), BD_OK);
	ck_assert_msg(w.rows == 2 && strcmp(w.key, "spring") == 0 &&
	    w.sends == 4 && w.delivered == 3 && w.hard == 1 && w.soft == 0,
	    "campaign spring: got rows %d sends %lld delivered %lld hard "
	    "%lld soft %lld, want 2 4 3 1 0", w.rows, (long long)w.sends,
	    (long long)w.delivered, (long long)w.hard, (long long)w.soft);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(store_stats(st, NULL, stat_cb, &w), BD_OK);
	ck_assert_msg(w.sends == 5 && w.soft == 1 && w.hard == 1,
	    "total: got sends %lld soft %lld hard %lld, want 5 1 1",
	    (long long)w.sends, (long long)w.soft, (long long)w.hard);
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM events WHERE campaign = 'spring'"), 5);
}
END_TEST

/*
 * Postfix's own DSN (from=<>) delivered to the original sender is no
 * send of ours, from the log or from any other producer, nor is a row an
 * older version kept: the bounce rates are not diluted by it.
 */
START_TEST(test_logsource_null_sender_is_no_send)
{
	struct statw	 w;
	struct bd_event	 ev;
	sqlite3		*db;

	queued(T0, "CB0000000B1", "n1@example.org");
	deferred(T0 + 1, "CB0000000B1", "h6@example.net", "4.2.2", FULL);
	feedf(T0 + 2, "postfix/cleanup[2105]: CB0000000B2: "
	    "message-id=<dsn-1@relay.example.org>");
	feedf(T0 + 2, "postfix/qmgr[2099]: CB0000000B2: from=<>, size=2345, "
	    "nrcpt=1 (queue active)");
	sent(T0 + 3, "CB0000000B2", "news@example.org");
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM events WHERE "
	    "action = 'delivered' AND queue_id = 'CB0000000B2'"), 1);
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM sends WHERE queue_id = 'CB0000000B2'"), 0);
	/* another producer's event with "<>" */
	memset(&ev, 0, sizeof(ev));
	ev.when = T0 + 4;
	ev.recipient = "news@example.org";
	ev.action = EV_ACT_DELIVERED;
	ev.status = "2.0.0";
	ev.queue_id = "CB0000000B3";
	ev.sender = "<>";
	ev.source = EV_SRC_LOG;
	ck_assert_int_eq(store_record(st, &ev, 1, &pol, T0 + 4, NULL), BD_OK);
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM sends WHERE queue_id = 'CB0000000B3'"), 0);
	/* a row kept by an older version is not counted either */
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO sends (queue_id, "
	    "recipient, ts, domain, sender, outcome) VALUES ('CB0000000B4', "
	    "'news@example.org', 1795456262, 'example.org', '', 'delivered')",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(store_stats(st, NULL, stat_cb, &w), BD_OK);
	ck_assert_msg(w.sends == 1 && w.soft == 1 && w.delivered == 0,
	    "total: got sends %lld soft %lld delivered %lld, want 1 1 0",
	    (long long)w.sends, (long long)w.soft, (long long)w.delivered);
}
END_TEST

/*
 * Issue 9, cases 3 and 4 at the log source: a "sent" to the content
 * filter on loopback is a hand-off (relayed, with the queue id the filter
 * gave the message), and the re-queued message's outcome is the one that
 * counts; a deferral towards the filter (it is down) is our own path's.
 */
START_TEST(test_logsource_hops_and_our_side)
{
	struct bd_event	 evs[4];
	size_t		 n;
	char		 line[1024];

	queued(T0, "F1LTER00001", "hop1@example.org");
	feedf(T0 + 1, "postfix/smtp[2300]: F1LTER00001: to=<hop@example.net>, "
	    "relay=127.0.0.1[127.0.0.1]:10024, delay=0.2, delays=0/0/0/0.2, "
	    "dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:"
	    "10025): 250 2.0.0 Ok: queued as 4QA2B3C4D5)");
	queued(T0 + 2, "4QA2B3C4D5", "hop1@example.org");
	feedf(T0 + 3, "postfix/smtp[2301]: 4QA2B3C4D5: to=<hop@example.net>, "
	    "relay=mx.example.net[192.0.2.7]:25, delay=1, delays=0/0/0/1, "
	    "dsn=5.2.2, status=bounced (host mx.example.net[192.0.2.7] said: "
	    "552 5.2.2 Mailbox full (in reply to RCPT TO command))");
	ck_assert_msg(res.deliveries == 0 && res.handoffs == 1, "deliveries/"
	    "hand-offs: got %llu/%llu, want 0/1",
	    (unsigned long long)res.deliveries,
	    (unsigned long long)res.handoffs);
	testutil_assert_state(st, "hop@example.net", "soft", "", 1);
	/* both queue ids and the Message-ID are one message */
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(DISTINCT "
	    "msgkey) FROM events WHERE recipient = 'hop@example.net'"), 1);
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "events WHERE recipient = 'hop@example.net' AND action = "
	    "'relayed' AND class = 'ignore'"), 1);

	/* the filter down: deferred there, then given up: never counts */
	queued(T0 + 10, "D0WN0000001", "down1@example.org");
	feedf(T0 + 11, "postfix/qmgr[2099]: D0WN0000001: to=<hop@example.net>, "
	    "relay=none, delay=300, delays=300/0/0/0, dsn=4.4.1, "
	    "status=deferred (delivery temporarily suspended: connect to "
	    "127.0.0.1[127.0.0.1]:10024: Connection refused)");
	expired(T0 + 12, "D0WN0000001");
	queued(T0 + 13, "D0WN0000002", "down2@example.org");
	feedf(T0 + 14, "postfix/qmgr[2099]: D0WN0000002: to=<hop@example.net>, "
	    "relay=none, delay=300, delays=300/0/0/0, dsn=4.3.0, "
	    "status=deferred (mail transport unavailable)");
	expired(T0 + 15, "D0WN0000002");
	testutil_assert_state(st, "hop@example.net", "soft", "", 1);
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "events WHERE recipient = 'hop@example.net' AND class = 'local' "
	    "AND who = 'local'"), 4);

	/* the pure step: the hand-off names its successor */
	snprintf(line, sizeof(line), "2026-11-23T18:00:00.000000+00:00 relay "
	    "postfix/smtp[1]: AAAAA11111: to=<x@example.net>, relay=127.0.0.1"
	    "[127.0.0.1]:10024, delay=1, delays=0/0/0/1, dsn=2.0.0, "
	    "status=sent (250 2.0.0 Ok: queued as BBBBB22222)");
	ck_assert_int_eq(maillog_parse(line, strlen(line), T0, 0, &rec9),
	    MAILLOG_RECORD);
	ck_assert_str_eq(rec9.queued_as, "BBBBB22222");
	ck_assert_uint_eq(rec9.relay_port, 10024);
	ck_assert_str_eq(rec9.relay_addr, "127.0.0.1");
	n = logsource_events(ls, &rec9, evs, 4);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(evs[0].action, EV_ACT_RELAYED);
	ck_assert_str_eq(evs[0].next_queue_id, "BBBBB22222");
	/* a loopback LMTP delivery (Dovecot) is a delivery */
	snprintf(line, sizeof(line), "2026-11-23T18:00:00.000000+00:00 relay "
	    "postfix/lmtp[1]: AAAAA11112: to=<x@example.net>, relay=127.0.0.1"
	    "[127.0.0.1]:24, delay=1, delays=0/0/0/1, dsn=2.0.0, "
	    "status=sent (250 2.0.0 <x@example.net> Saved)");
	ck_assert_int_eq(maillog_parse(line, strlen(line), T0, 0, &rec9),
	    MAILLOG_RECORD);
	n = logsource_events(ls, &rec9, evs, 4);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(evs[0].action, EV_ACT_DELIVERED);
}
END_TEST

START_TEST(test_logsource_expired_fails_deferred)
{
	queued(T0, "E0000000001", "x@example.org");
	deferred(T0 + 1, "E0000000001", "ivy@example.net", "4.3.0",
	    "451 4.3.0 Error: try again later");
	deferred(T0 + 2, "E0000000001", "jon@example.net", "4.3.0",
	    "451 4.3.0 Error: try again later");
	sent(T0 + 3, "E0000000001", "jon@example.net");
	feedf(T0 + 5 * DAY, "postfix/qmgr[2099]: E0000000001: "
	    "from=<news@example.org>, status=expired, returned to sender");
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM events WHERE "
	    "action = 'failed' AND recipient = 'ivy@example.net' AND "
	    "status = '4.3.0' AND queue_id = 'E0000000001'"), 1);
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM events WHERE "
	    "action = 'failed' AND recipient = 'jon@example.net'"), 0);
	/* one message, however many lines: still one soft-bounced send */
	testutil_assert_state(st, "ivy@example.net", "soft", "", 1);
	feedf(T0 + 5 * DAY, "postfix/qmgr[2099]: E0000000001: removed");
	ck_assert_uint_eq(logsource_queue_size(ls), 0);
}
END_TEST

START_TEST(test_logsource_queue_memory_bounded)
{
	struct logsource	*norules = NULL;
	struct logsource_opts	 o;
	char			 qid[32];
	int			 i;

	logsource_free(ls);
	memset(&o, 0, sizeof(o));
	o.rules = rules;
	o.max_queue = 4;
	ck_assert_int_eq(logsource_new(&o, &ls), BD_OK);
	for (i = 0; i < 10; i++) {
		snprintf(qid, sizeof(qid), "A%010d", i);
		queued(T0 + i, qid, "q@example.org");
	}
	ck_assert_uint_eq(logsource_queue_size(ls), 4);
	ck_assert_msg(res.evicted == 6, "evicted: got %llu, want 6",
	    (unsigned long long)res.evicted);
	/* the newest are kept: a delivery of the last gets its message-id */
	deferred(T0 + 20, "A0000000009", "kim@example.net", "4.2.2", FULL);
	deferred(T0 + 20, "A0000000000", "kim@example.net", "4.2.2", FULL);
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM events WHERE message_id IS NOT NULL"), 1);
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM events"), 2);
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(logsource_new(&o, &norules), BD_ECONFIG);
	ck_assert_ptr_null(norules);
}
END_TEST

static Suite *
logsource_suite(void)
{
	Suite	*s = suite_create("logsource");
	TCase	*tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_logsource_three_messages_suppress);
	tcase_add_test(tc, test_logsource_retries_count_once);
	tcase_add_test(tc, test_logsource_delivery_resets);
	tcase_add_test(tc, test_logsource_block_counts_for_domain);
	tcase_add_test(tc, test_logsource_dsn_and_log_one_event);
	suite_add_tcase(s, tc);
	tc = tcase_create("input");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_logsource_resume_from_cursor);
	tcase_add_test(tc, test_logsource_batch_rollback);
	tcase_add_test(tc, test_logsource_malformed_lines_counted);
	tcase_add_test(tc, test_logsource_sends_and_campaign);
	tcase_add_test(tc, test_logsource_null_sender_is_no_send);
	tcase_add_test(tc, test_logsource_expired_fails_deferred);
	tcase_add_test(tc, test_logsource_hops_and_our_side);
	tcase_add_test(tc, test_logsource_queue_memory_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	mime_init();
	return testutil_run(logsource_suite()) == 0 ? EXIT_SUCCESS :
	    EXIT_FAILURE;
}
