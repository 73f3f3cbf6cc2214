/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * check_store.c - unit tests of the SQLite store: schema and migration,
 * idempotent recording, the suppression rule as stored, operator
 * actions, listing, the events that led to a suppression, statistics,
 * pruning, rebuilding (in a batch, after a prune), failure on a bad
 * path and no database created by accident.
 * Every test works on a fresh database in its own temporary directory.
 */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "verdict/state.h"
#include "store/db.h"
#include "store/store.h"
#include "testutil.h"

static char	 tmpdir[256];
static char	 dbpath[300];
static struct store *st;
/* ComplaintSuppress empty; cpol: its default (abuse, opt-out) */
static const struct state_policy pol = { .soft_limit = 3, .soft_window = 7 * 86400,
	    .complaint_types = 0 };
static const struct state_policy cpol = { .soft_limit = 3, .soft_window = 7 * 86400,
	    .complaint_types = STATE_FB_BIT(STATE_FB_ABUSE) | STATE_FB_BIT(STATE_FB_OPT_OUT) };

static void
setup(void)
{
	testutil_tmpdir("check_store", tmpdir, sizeof(tmpdir));
	testutil_store(tmpdir, dbpath, sizeof(dbpath), &st);
}

static void
teardown(void)
{
	store_close(st);
	st = NULL;
	testutil_rmtree(tmpdir);
}

/* A failed event for rcpt about message qid. */
static struct bd_event
mkev(const char *rcpt, const char *qid, enum ev_action act,
    const char *status, const char *reason, bool hard, int64_t when)
{
	struct bd_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.when = when;
	ev.recipient = rcpt;
	ev.action = act;
	ev.status = status;
	ev.queue_id = qid;
	ev.diagnostic = "smtp; 550 test";
	ev.verdict.reason = reason;
	ev.verdict.hard = hard;
	ev.verdict.who = EV_WHO_RECIPIENT;
	ev.source = EV_SRC_DSN_INTERNAL;
	return ev;
}

static size_t
record(const struct bd_event *ev, int64_t now)
{
	enum bd_status	 r;
	size_t		 n = 99;

	r = store_record(st, ev, 1, &pol, now, &n);
	ck_assert_msg(r == BD_OK, "store_record: got %s (%s), want ok",
	    bd_strerror(r), store_errmsg(st));
	return n;
}

/* The shared assertions, bound to this file's store and database. */
static void
assert_state(const char *addr, const char *want_state,
    const char *want_reason, unsigned want_count)
{
	testutil_assert_state(st, addr, want_state, want_reason, want_count);
}

static long long
count_rows(const char *sql)
{
	return testutil_count_rows(dbpath, sql);
}

START_TEST(test_store_schema_version)
{
	struct store	*ro = NULL;
	sqlite3		*db;
	char		 err[256];
	int		 v = -1;
	enum bd_status	 r;

	ck_assert_int_eq(store_schema_version(st, &v), BD_OK);
	ck_assert_msg(v == STORE_SCHEMA_VERSION, "version: got %d, want %d",
	    v, STORE_SCHEMA_VERSION);
	/* Reopening does not migrate twice. */
	store_close(st);
	r = store_open(dbpath, 0, 1000, &st, err, sizeof(err));
	ck_assert_msg(r == BD_OK, "reopen: got %s (%s)", bd_strerror(r), err);
	r = store_open(dbpath, STORE_RDONLY, 1000, &ro, err, sizeof(err));
	ck_assert_msg(r == BD_OK, "read-only: got %s (%s)", bd_strerror(r),
	    err);
	store_close(ro);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM sqlite_master "
	    "WHERE type = 'table' AND name IN ('events', 'recipients')"), 2);
	/* A schema from the future is refused, not "migrated". */
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	store_close(st);
	st = NULL;
	r = store_open(dbpath, 0, 1000, &st, err, sizeof(err));
	ck_assert_msg(r == BD_ECONFIG, "future schema: got %s, want %s",
	    bd_strerror(r), bd_strerror(BD_ECONFIG));
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "newer") != NULL, "err: got \"%s\"", err);
}
END_TEST

/* PostgreSQL: the version in meta, created once, a newer one refused. */
START_TEST(test_store_pg_schema_version)
{
	struct store	*ro = NULL;
	struct db	*db;
	char		 err[256];
	int		 v = -1;
	enum bd_status	 r;

	ck_assert_int_eq(store_schema_version(st, &v), BD_OK);
	ck_assert_int_eq(v, STORE_SCHEMA_VERSION);
	store_close(st);
	r = store_open(dbpath, 0, 1000, &st, err, sizeof(err));
	ck_assert_msg(r == BD_OK, "reopen: got %s (%s)", bd_strerror(r), err);
	r = store_open(dbpath, STORE_RDONLY, 1000, &ro, err, sizeof(err));
	ck_assert_msg(r == BD_OK, "read-only: got %s (%s)", bd_strerror(r),
	    err);
	store_close(ro);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM meta WHERE "
	    "key = 'schema'"), 1);
	ck_assert_int_eq(db_open(dbpath, 0, 1000, &db, err, sizeof(err)),
	    BD_OK);
	ck_assert_int_eq(db_exec(db, "UPDATE meta SET value = '99' WHERE "
	    "key = 'schema'"), BD_OK);
	db_close(db);
	store_close(st);
	st = NULL;
	r = store_open(dbpath, 0, 1000, &st, err, sizeof(err));
	ck_assert_msg(r == BD_ECONFIG, "future schema: got %s, want %s",
	    bd_strerror(r), bd_strerror(BD_ECONFIG));
	ck_assert_msg(strstr(err, "newer") != NULL, "err: got \"%s\"", err);
}
END_TEST

static void
note_addr(void *arg, const char *payload)
{
	char	*seen = arg;
	size_t	 n = strlen(seen);

	(void)snprintf(seen + n, 256 - n, "%s%s", n > 0 ? " " : "", payload);
}

/*
 * PostgreSQL: a change of state notifies bounced_state with the address
 * at commit (pglisten.c drops it from every relay's RCPT cache); an
 * event that changes no state notifies nothing.
 */
START_TEST(test_store_pg_notifies_state)
{
	struct bd_event	 ev;
	struct db	*l;
	struct pollfd	 pfd;
	char		 err[256], seen[256] = "";
	int		 tries;

	ck_assert_int_eq(db_open(dbpath, DB_RDONLY, 1000, &l, err,
	    sizeof(err)), BD_OK);
	ck_assert_int_eq(db_listen(l, "bounced_state"), BD_OK);
	ev = mkev("n1@x.example", "Q1", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, 1000);
	(void)record(&ev, 1000);
	ev = mkev("n2@x.example", "Q2", EV_ACT_DELIVERED, "2.0.0", NULL,
	    false, 1000);
	(void)record(&ev, 1000);
	testutil_manual(st, "n3@x.example", true, NULL, 1001);
	pfd.fd = db_socket(l);
	pfd.events = POLLIN;
	for (tries = 0; tries < 20 && strstr(seen, "n3@") == NULL; tries++) {
		(void)poll(&pfd, 1, 100);
		ck_assert_int_ge(db_notifications(l, note_addr, seen), 0);
	}
	ck_assert_str_eq(seen, "n1@x.example n3@x.example");
	db_close(l);
}
END_TEST

START_TEST(test_store_readonly_refuses_empty_db)
{
	struct store	*ro = NULL;
	char		 p[400], err[256];
	enum bd_status	 r;

	snprintf(p, sizeof(p), "%s/empty.db", tmpdir);
	testutil_write_file(p, "", 0);
	r = store_open(p, STORE_RDONLY, 100, &ro, err, sizeof(err));
	ck_assert_msg(r == BD_ECONFIG, "got %s, want %s", bd_strerror(r),
	    bd_strerror(BD_ECONFIG));
	ck_assert_ptr_null(ro);
	/* Read-write migrates an empty (version 0) file to the current one. */
	r = store_open(p, 0, 100, &ro, err, sizeof(err));
	ck_assert_msg(r == BD_OK, "got %s (%s), want ok", bd_strerror(r), err);
	store_close(ro);
}
END_TEST

START_TEST(test_store_idempotent_record)
{
	struct bd_event	 ev = mkev("a@example.org", "4AB1", EV_ACT_FAILED,
	    "4.2.2", "mailboxfull", false, 1000);

	ck_assert_uint_eq(record(&ev, 2000), 1);
	assert_state("a@example.org", "soft", "", 1);
	/* The same DSN offered again after a TEMPFAIL, and via the log. */
	ck_assert_uint_eq(record(&ev, 2100), 0);
	ev.source = EV_SRC_LOG;
	ev.diagnostic = "other wording in the log";
	ck_assert_uint_eq(record(&ev, 2200), 0);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM events"), 1);
	assert_state("a@example.org", "soft", "", 1);
}
END_TEST

START_TEST(test_store_hard_suppresses)
{
	struct bd_event		 ev = mkev("u@example.org", "Q1", EV_ACT_FAILED,
	    "5.1.1", "userunknown", true, 5000);
	struct store_recipient	 rc;

	record(&ev, 5001);
	assert_state("u@example.org", "suppressed", "hard", 0);
	ck_assert_int_eq(store_lookup(st, "u@example.org", &rc), BD_OK);
	ck_assert_msg(rc.suppressed_since == 5000, "since: got %lld, want 5000",
	    (long long)rc.suppressed_since);
	ck_assert_str_eq(rc.last_status, "5.1.1");
	ck_assert_str_eq(rc.last_reason, "userunknown");
	ck_assert_msg(rc.first_bounce == 5000 && rc.last_bounce == 5000,
	    "bounce dates: got %lld/%lld, want 5000/5000",
	    (long long)rc.first_bounce, (long long)rc.last_bounce);
}
END_TEST

START_TEST(test_store_soft_limit_distinct_messages)
{
	static const char *const qids[] = { "Q1", "Q2", "Q3" };
	static const char *const want[] = { "soft", "soft", "suppressed" };
	struct bd_event	 ev;
	size_t		 i;

	for (i = 0; i < 3; i++) {
		ev = mkev("s@example.org", qids[i], EV_ACT_FAILED, "4.2.2",
		    "mailboxfull", false, 1000 + (int64_t)i * 3600);
		record(&ev, 1000 + (int64_t)i * 3600);
		assert_state("s@example.org", want[i],
		    i == 2 ? "soft-limit" : "", (unsigned)i + 1);
	}
}
END_TEST

START_TEST(test_store_retries_count_once)
{
	static const struct {
		enum ev_action	 act;
		const char	*status;
		int64_t		 when;
	} tries[] = {
		{ EV_ACT_DELAYED, "4.2.2", 1000 },
		{ EV_ACT_DELAYED, "4.4.1", 5000 },
		{ EV_ACT_DELAYED, "4.2.2", 9000 },	/* same identity: dup */
		{ EV_ACT_FAILED, "4.2.2", 90000 },
		{ EV_ACT_FAILED, "5.2.2", 90001 },
	};
	struct bd_event	 ev;
	size_t		 i;

	for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		ev = mkev("r@example.org", "ONEMSG", tries[i].act,
		    tries[i].status, "mailboxfull", false, tries[i].when);
		record(&ev, tries[i].when);
	}
	assert_state("r@example.org", "soft", "", 1);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM events"), 4);
}
END_TEST

START_TEST(test_store_delivery_resets)
{
	struct bd_event	 ev;

	ev = mkev("d@example.org", "Q1", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, 1000);
	record(&ev, 1000);
	ev = mkev("d@example.org", "Q2", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, 2000);
	record(&ev, 2000);
	assert_state("d@example.org", "soft", "", 2);
	ev = mkev("d@example.org", "Q3", EV_ACT_DELIVERED, "2.0.0",
	    "delivered", false, 3000);
	record(&ev, 3000);
	assert_state("d@example.org", "active", "", 0);
	/* Two more soft bounces: 2, not 4, so not suppressed. */
	ev = mkev("d@example.org", "Q4", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, 4000);
	record(&ev, 4000);
	ev = mkev("d@example.org", "Q5", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, 5000);
	record(&ev, 5000);
	assert_state("d@example.org", "soft", "", 2);
	/*
	 * A late bounce dated before the delivery: the address is what the
	 * events say in date order, whatever order they came in: three soft
	 * bounces (1000, 2000, 2500) before the delivery suppress, as a
	 * rebuild says.
	 */
	ev = mkev("d@example.org", "Q0", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, 2500);
	record(&ev, 6000);
	assert_state("d@example.org", "suppressed", "soft-limit", 5);
	ck_assert_int_eq(store_rebuild(st, &pol), BD_OK);
	assert_state("d@example.org", "suppressed", "soft-limit", 5);
}
END_TEST

START_TEST(test_store_soft_window)
{
	struct bd_event	 ev;
	char		 q[16];
	int		 i;

	/* Three soft bounces, each 8 days apart: never 3 in 7 days. */
	for (i = 0; i < 3; i++) {
		snprintf(q, sizeof(q), "W%d", i);
		ev = mkev("w@example.org", q, EV_ACT_FAILED, "4.2.2",
		    "mailboxfull", false, 1000 + (int64_t)i * 8 * 86400);
		record(&ev, ev.when);
	}
	assert_state("w@example.org", "soft", "", 1);
}
END_TEST

START_TEST(test_store_sender_side_not_suppressed)
{
	static const char *const reasons[] = {
		"blocked", "badreputation", "authfailure", "spamdetected",
		"policyviolation", "speeding",
	};
	struct bd_event		 ev;
	struct store_recipient	 rc;
	char			 q[16];
	size_t			 i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		snprintf(q, sizeof(q), "S%zu", i);
		/* even a "hard"-looking 5.7.1 must not move the address */
		ev = mkev("x@example.org", q, EV_ACT_FAILED, "5.7.1",
		    reasons[i], true, 1000 + (int64_t)i);
		ev.verdict.who = EV_WHO_SENDER;
		record(&ev, 2000);
		assert_state("x@example.org", "active", "", 0);
	}
	ck_assert_int_eq(store_lookup(st, "x@example.org", &rc), BD_OK);
	ck_assert_msg(rc.last_bounce == 1005, "last bounce: got %lld, want "
	    "1005", (long long)rc.last_bounce);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM events WHERE "
	    "class = 'sender'"), 6);
}
END_TEST

/* ComplaintSuppress empty: a report, even abuse, moves nothing. */
START_TEST(test_store_feedback_not_suppressed)
{
	struct bd_event	 ev = mkev("f@example.org", "F1", EV_ACT_FAILED,
	    NULL, "feedback", false, 1000);

	ev.feedback_type = "abuse";
	record(&ev, 1000);
	ev = mkev("f@example.org", "F2", EV_ACT_FAILED, NULL, "vacation",
	    false, 1001);
	record(&ev, 1001);
	assert_state("f@example.org", "active", "", 0);
}
END_TEST

struct stat_want {
	int64_t	 events, hard, soft, sender, suppressed;
	int	 rows;
};

static int
stat_cb(void *arg, const struct store_stat_row *row)
{
	struct stat_want	*w = arg;

	if (strcmp(row->key, "b.example") == 0 ||
	    strcmp(row->key, "total") == 0) {
		w->events = row->events;
		w->hard = row->hard;
		w->soft = row->soft;
		w->sender = row->sender;
		w->suppressed = row->suppressed;
	}
	w->rows++;
	return 0;
}

/* An ARF report (RFC 5965) as analysis_event() presents it. */
static struct bd_event
mkarf(const char *rcpt, const char *qid, const char *msgid,
    const char *type, int64_t when)
{
	struct bd_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.when = when;
	ev.recipient = rcpt;
	ev.action = EV_ACT_UNKNOWN;
	ev.queue_id = qid;
	ev.message_id = msgid;
	ev.sender = "news@example.org";
	ev.verdict.reason = "feedback";
	ev.verdict.who = EV_WHO_NONE;
	ev.feedback_type = type;
	ev.reporting_mta = "fbl.isp.example";
	ev.source = EV_SRC_DSN_REMOTE;
	return ev;
}

static size_t
record_pol(const struct bd_event *ev, const struct state_policy *p,
    int64_t now)
{
	enum bd_status	 r;
	size_t		 n = 99;

	r = store_record(st, ev, 1, p, now, &n);
	ck_assert_msg(r == BD_OK, "store_record: got %s (%s), want ok",
	    bd_strerror(r), store_errmsg(st));
	return n;
}

/*
 * ComplaintSuppress abuse,opt-out: an abuse report suppresses with reason
 * complaint and is the suppressing event; it is no bounce (no bounce
 * date, no soft count, the send keeps its outcome); not-spam and a type
 * not in the list leave the address; a newer unsuppress wins, a later
 * complaint suppresses again; a rebuild replays it under any policy.
 */
START_TEST(test_store_complaint_suppresses)
{
	struct store_recipient	 rc;
	struct bd_event		 ev;
	struct stat_want	 w;
	struct state_policy	 off = cpol;
	char			 want_ids[32];

	/* the send the report is about, seen in the log */
	ev = mkev("c@isp.example", "S1", EV_ACT_DELIVERED, "2.0.0",
	    "delivered", false, 900);
	ev.source = EV_SRC_LOG;
	ev.sender = "news@example.org";
	record_pol(&ev, &cpol, 900);
	ev = mkarf("c@isp.example", "S1", "<orig-1@example.org>", "abuse",
	    1000);
	ck_assert_uint_eq(record_pol(&ev, &cpol, 1001), 1);
	assert_state("c@isp.example", "suppressed", "complaint", 0);
	ck_assert_int_eq(store_lookup(st, "c@isp.example", &rc), BD_OK);
	ck_assert_msg(rc.suppressed_since == 1000, "since: got %lld, want "
	    "1000", (long long)rc.suppressed_since);
	ck_assert_msg(rc.first_bounce == 0 && rc.last_bounce == 0, "bounce "
	    "dates: got %lld/%lld, want 0/0 (a report is no bounce)",
	    (long long)rc.first_bounce, (long long)rc.last_bounce);
	(void)snprintf(want_ids, sizeof(want_ids), "%lld", count_rows(
	    "SELECT id FROM events WHERE class = 'feedback'"));
	ck_assert_msg(strcmp(rc.suppress_events, want_ids) == 0,
	    "suppress_events: got \"%s\", want \"%s\"", rc.suppress_events,
	    want_ids);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM sends WHERE "
	    "queue_id = 'S1' AND outcome = 'delivered'"), 1);
	/* the same report again changes nothing */
	ck_assert_uint_eq(record_pol(&ev, &cpol, 1002), 0);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM events WHERE "
	    "class = 'feedback'"), 1);

	/* not-spam, and a type not in the list: no change */
	ev = mkarf("n@isp.example", NULL, "<orig-2@example.org>", "not-spam",
	    1000);
	record_pol(&ev, &cpol, 1000);
	assert_state("n@isp.example", "active", "", 0);
	ev = mkarf("n@isp.example", NULL, "<orig-3@example.org>", "fraud",
	    1100);
	record_pol(&ev, &cpol, 1100);
	assert_state("n@isp.example", "active", "", 0);

	/* the operator wins over reports dated before the unsuppress */
	testutil_manual(st, "c@isp.example", false, NULL, 2000);
	assert_state("c@isp.example", "active", "", 0);
	ev = mkarf("c@isp.example", NULL, "<orig-4@example.org>", "abuse",
	    1500);
	record_pol(&ev, &cpol, 2100);
	assert_state("c@isp.example", "active", "", 0);
	ev = mkarf("c@isp.example", NULL, "<orig-5@example.org>", "opt-out",
	    3000);
	record_pol(&ev, &cpol, 3000);
	assert_state("c@isp.example", "suppressed", "complaint", 0);

	/* not bounces: nothing hard, soft or sender-side in the stats */
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(store_stats(st, NULL, stat_cb, &w), BD_OK);
	ck_assert_msg(w.hard == 0 && w.soft == 0 && w.sender == 0 &&
	    w.suppressed == 1, "total: got hard %lld soft %lld sender %lld "
	    "suppressed %lld, want 0 0 0 1", (long long)w.hard,
	    (long long)w.soft, (long long)w.sender, (long long)w.suppressed);

	/* replayed: ComplaintSuppress empty, then its default again */
	off.complaint_types = 0;
	ck_assert_int_eq(store_rebuild(st, &off), BD_OK);
	assert_state("c@isp.example", "active", "", 0);
	ck_assert_int_eq(store_rebuild(st, &cpol), BD_OK);
	assert_state("c@isp.example", "suppressed", "complaint", 0);
	ck_assert_int_eq(store_lookup(st, "c@isp.example", &rc), BD_OK);
	ck_assert_msg(rc.suppressed_since == 3000, "rebuilt since: got %lld, "
	    "want 3000", (long long)rc.suppressed_since);
	assert_state("n@isp.example", "active", "", 0);
}
END_TEST

START_TEST(test_store_manual_unsuppress_wins)
{
	struct store_manual	 m;
	struct bd_event		 ev;
	struct store_recipient	 rc;
	enum bd_status		 r;

	ev = mkev("m@example.org", "Q1", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, 1000);
	record(&ev, 1000);
	assert_state("m@example.org", "suppressed", "hard", 0);
	memset(&m, 0, sizeof(m));
	m.address = "m@example.org";
	m.by = "tester";
	m.why = "ticket 42";
	m.when = 2000;
	m.source = EV_SRC_MANUAL;
	r = store_manual(st, &m, 1, NULL);
	ck_assert_msg(r == BD_OK, "store_manual: got %s (%s), want ok",
	    bd_strerror(r), store_errmsg(st));
	assert_state("m@example.org", "active", "", 0);
	ck_assert_int_eq(store_lookup(st, "m@example.org", &rc), BD_OK);
	ck_assert_str_eq(rc.manual_by, "tester");
	ck_assert_str_eq(rc.manual_why, "ticket 42");
	ck_assert_msg(rc.manual_at == 2000, "manual_at: got %lld, want 2000",
	    (long long)rc.manual_at);
	/* An older failure arriving late does not re-suppress it. */
	ev = mkev("m@example.org", "Q0", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, 1500);
	record(&ev, 2500);
	assert_state("m@example.org", "active", "", 0);
	/* A new one does. */
	ev = mkev("m@example.org", "Q2", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, 3000);
	record(&ev, 3000);
	assert_state("m@example.org", "suppressed", "hard", 0);
	/* Manual suppression wins over a later delivery. */
	testutil_manual(st, "n@example.org", true, NULL, 4000);
	ev = mkev("n@example.org", "Q9", EV_ACT_DELIVERED, "2.0.0",
	    "delivered", false, 5000);
	record(&ev, 5000);
	assert_state("n@example.org", "suppressed", "manual", 0);
}
END_TEST

START_TEST(test_store_manual_is_atomic)
{
	struct store_manual	 m[3];
	struct store_recipient	 rc;
	size_t			 bad = 99;
	enum bd_status		 r;

	memset(m, 0, sizeof(m));
	m[0].address = "ok1@example.org";
	m[1].address = "garbled@@";
	m[2].address = "ok2@example.org";
	m[0].suppress = m[1].suppress = m[2].suppress = true;
	m[0].source = m[1].source = m[2].source = EV_SRC_IMPORT;
	m[0].reason = m[1].reason = m[2].reason = "imported";
	r = store_manual(st, m, 3, &bad);
	ck_assert_msg(r == BD_EPARSE, "got %s, want %s", bd_strerror(r),
	    bd_strerror(BD_EPARSE));
	ck_assert_msg(bad == 1, "bad index: got %zu, want 1", bad);
	r = store_lookup(st, "ok1@example.org", &rc);
	ck_assert_msg(r == BD_ENOTFOUND, "ok1 after refused batch: got %s, "
	    "want %s", bd_strerror(r), bd_strerror(BD_ENOTFOUND));
	m[1].address = "fine@example.org";
	ck_assert_int_eq(store_manual(st, m, 3, &bad), BD_OK);
	assert_state("ok2@example.org", "suppressed", "imported", 0);
}
END_TEST

static int
count_cb(void *arg, const struct store_recipient *r)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

START_TEST(test_store_domain_case_insensitive)
{
	struct bd_event		 ev;
	struct store_filter	 f;
	struct store_recipient	 rc;
	int			 n = 0;

	ev = mkev("<Jane.Doe@EXAMPLE.Org>", "Q1", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, 1000);
	record(&ev, 1000);
	ck_assert_int_eq(store_lookup(st, "Jane.Doe@example.ORG", &rc), BD_OK);
	/* one mailbox, one key; the form as received kept beside it */
	ck_assert_str_eq(rc.address, "jane.doe@example.org");
	ck_assert_str_eq(rc.display, "Jane.Doe@EXAMPLE.Org");
	ck_assert_str_eq(rc.domain, "example.org");
	/* The same failure with the domain spelt otherwise is a duplicate. */
	ev.recipient = "Jane.Doe@Example.org";
	ck_assert_uint_eq(record(&ev, 1001), 0);
	/* The local part is compared without case by default (issue 9). */
	ck_assert_int_eq(store_lookup(st, "JANE.DOE@example.org", &rc),
	    BD_OK);
	ck_assert_uint_eq(record(&ev, 1002), 0);
	memset(&f, 0, sizeof(f));
	f.domain = "EXAMPLE.ORG";
	f.state = "suppressed";
	ck_assert_int_eq(store_list(st, &f, count_cb, &n), BD_OK);
	ck_assert_msg(n == 1, "list by domain: got %d, want 1", n);
}
END_TEST

START_TEST(test_store_list_filters_and_paging)
{
	struct bd_event		 ev;
	struct store_filter	 f;
	char			 a[64], q[16];
	int			 i, n;

	for (i = 0; i < 10; i++) {
		snprintf(a, sizeof(a), "u%02d@d%d.example", i, i % 2);
		snprintf(q, sizeof(q), "L%d", i);
		ev = mkev(a, q, EV_ACT_FAILED, i < 4 ? "5.1.1" : "4.2.2",
		    i < 4 ? "userunknown" : "mailboxfull", i < 4,
		    1000 + i);
		record(&ev, 2000);
	}
	memset(&f, 0, sizeof(f));
	n = 0;
	ck_assert_int_eq(store_list(st, &f, count_cb, &n), BD_OK);
	ck_assert_msg(n == 10, "all: got %d, want 10", n);
	f.state = "suppressed";
	n = 0;
	ck_assert_int_eq(store_list(st, &f, count_cb, &n), BD_OK);
	ck_assert_msg(n == 4, "suppressed: got %d, want 4", n);
	f.state = NULL;
	f.reason = "mailboxfull";
	n = 0;
	ck_assert_int_eq(store_list(st, &f, count_cb, &n), BD_OK);
	ck_assert_msg(n == 6, "reason: got %d, want 6", n);
	f.reason = NULL;
	f.limit = 3;
	f.offset = 8;
	n = 0;
	ck_assert_int_eq(store_list(st, &f, count_cb, &n), BD_OK);
	ck_assert_msg(n == 2, "page: got %d, want 2", n);
	memset(&f, 0, sizeof(f));
	f.since = 1007;
	n = 0;
	ck_assert_int_eq(store_list(st, &f, count_cb, &n), BD_OK);
	ck_assert_msg(n == 3, "since: got %d, want 3", n);
}
END_TEST

START_TEST(test_store_stats_and_prune)
{
	struct bd_event		 ev;
	struct stat_want	 w;
	int64_t			 n = 0;

	ev = mkev("a@a.example", "P1", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, 100);
	record(&ev, 100);
	ev = mkev("b@b.example", "P2", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, 200);
	record(&ev, 200);
	ev = mkev("c@b.example", "P3", EV_ACT_FAILED, "5.7.1", "blocked",
	    false, 300);
	record(&ev, 300);
	ev = mkev("d@b.example", "P4", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, 400);
	record(&ev, 400);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(store_stats(st, "domain", stat_cb, &w), BD_OK);
	ck_assert_msg(w.rows == 2, "domain rows: got %d, want 2", w.rows);
	ck_assert_msg(w.events == 3 && w.hard == 1 && w.soft == 1 &&
	    w.sender == 1 && w.suppressed == 1, "b.example: got "
	    "%lld/%lld/%lld/%lld/%lld, want 3/1/1/1/1", (long long)w.events,
	    (long long)w.hard, (long long)w.soft, (long long)w.sender,
	    (long long)w.suppressed);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(store_stats(st, NULL, stat_cb, &w), BD_OK);
	ck_assert_msg(w.rows == 1 && w.events == 4 && w.suppressed == 2,
	    "total: got rows %d events %lld suppressed %lld, want 1 4 2",
	    w.rows, (long long)w.events, (long long)w.suppressed);
	ck_assert_int_eq(store_stats(st, "nonsense", stat_cb, &w),
	    BD_ECONFIG);
	ck_assert_int_eq(store_prune(st, 250, &n), BD_OK);
	ck_assert_msg(n == 2, "pruned: got %lld, want 2", (long long)n);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM events"), 2);
	/* States are kept. */
	assert_state("a@a.example", "suppressed", "hard", 0);
	assert_state("b@b.example", "soft", "", 1);
}
END_TEST

struct hist {
	int	 n;
	int64_t	 last;
	bool	 ordered;
};

static int
hist_cb(void *arg, const struct store_event_row *e)
{
	struct hist	*h = arg;

	if (e->when < h->last)
		h->ordered = false;
	h->last = e->when;
	h->n++;
	return 0;
}

START_TEST(test_store_history_oldest_first)
{
	struct bd_event	 ev;
	struct hist	 h = { 0, 0, true };

	ev = mkev("h@example.org", "H2", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, 2000);
	record(&ev, 2000);
	ev = mkev("h@example.org", "H1", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, 1000);
	record(&ev, 2001);
	testutil_manual(st, "h@example.org", true, NULL, 3000);
	ck_assert_int_eq(store_history(st, "h@EXAMPLE.org", hist_cb, &h),
	    BD_OK);
	ck_assert_msg(h.n == 3, "history: got %d events, want 3", h.n);
	ck_assert_msg(h.ordered, "history: not oldest first");
	ck_assert_int_eq(store_history(st, "not an address", hist_cb, &h),
	    BD_EPARSE);
}
END_TEST

START_TEST(test_store_rebuild_matches_incremental)
{
	struct bd_event	 ev;
	char		 q[16];
	int		 i;

	for (i = 0; i < 3; i++) {
		snprintf(q, sizeof(q), "R%d", i);
		ev = mkev("rb@example.org", q, EV_ACT_FAILED, "4.2.2",
		    "mailboxfull", false, 1000 + i);
		record(&ev, 1000 + i);
	}
	assert_state("rb@example.org", "suppressed", "soft-limit", 3);
	/* Replayed with a higher limit, the same history is only soft. */
	{
		struct state_policy	 p5 = { .soft_limit = 5, .soft_window = 7 * 86400,
	    .complaint_types = 0 };

		ck_assert_int_eq(store_rebuild(st, &p5), BD_OK);
		assert_state("rb@example.org", "soft", "", 3);
		ck_assert_int_eq(store_rebuild(st, &pol), BD_OK);
		assert_state("rb@example.org", "suppressed", "soft-limit", 3);
	}
}
END_TEST

/*
 * Events of one second are folded in one order whatever order they came
 * in: failures, then deliveries, then the operator (state_input_rank()).
 * A soft bounce dated the second of a delivery is before it.
 */
START_TEST(test_store_same_second_soft_after_delivery)
{
	static const struct {
		const char	*qid;
		enum ev_action	 act;
		int64_t		 when;
	} evs[] = {
		{ "A", EV_ACT_FAILED, 100 }, { "X", EV_ACT_DELIVERED, 105 },
		{ "C", EV_ACT_FAILED, 105 }, { "E", EV_ACT_FAILED, 106 },
	};
	static const int orders[2][4] = {
		{ 0, 1, 2, 3 }, { 3, 2, 0, 1 },
	};
	struct bd_event		 ev;
	char			 addr[32];
	size_t			 i, o;

	for (o = 0; o < 2; o++) {
		snprintf(addr, sizeof(addr), "tie%zu@x.example", o);
		for (i = 0; i < 4; i++) {
			const int k = orders[o][i];

			ev = mkev(addr, evs[k].qid, evs[k].act,
			    evs[k].act == EV_ACT_DELIVERED ? "2.0.0" : "4.2.2",
			    evs[k].act == EV_ACT_DELIVERED ? NULL :
			    "mailboxfull", false, evs[k].when);
			record(&ev, 1000);
		}
		/* A and C before the delivery of 105; E after it */
		assert_state(addr, "soft", "", 1);
	}
	ck_assert_int_eq(store_rebuild(st, &pol), BD_OK);
	assert_state("tie0@x.example", "soft", "", 1);
	assert_state("tie1@x.example", "soft", "", 1);

	/* the operator wins a tie */
	testutil_manual(st, "tie0@x.example", false, NULL, 200);
	ev = mkev("tie0@x.example", "F", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, 200);
	record(&ev, 200);
	assert_state("tie0@x.example", "active", "", 0);
	ck_assert_int_eq(store_rebuild(st, &pol), BD_OK);
	assert_state("tie0@x.example", "active", "", 0);
}
END_TEST

/*
 * bouncectl rebuild's transaction: a rebuild inside a batch is a
 * savepoint, seen by the handle, undone by a rollback (--dry-run) and
 * kept by a commit.  An operator's unsuppress survives it: the soft
 * bounces before it do not count again.
 */
START_TEST(test_store_rebuild_in_batch_rolls_back)
{
	static const struct state_policy p5 = { .soft_limit = 5, .soft_window = 7 * 86400,
	    .complaint_types = 0 };
	struct bd_event	 ev;
	char		 q[16];
	int		 i;

	for (i = 0; i < 4; i++) {
		snprintf(q, sizeof(q), "S%d", i);
		ev = mkev("lim@x.example", q, EV_ACT_FAILED, "4.2.2",
		    "mailboxfull", false, 1000 + i);
		ck_assert_int_eq(store_record(st, &ev, 1, &p5, 1000 + i, NULL),
		    BD_OK);
		snprintf(q, sizeof(q), "U%d", i);
		ev = mkev("op@x.example", q, EV_ACT_FAILED, "4.2.2",
		    "mailboxfull", false, 1000 + i);
		ck_assert_int_eq(store_record(st, &ev, 1, &p5, 1000 + i, NULL),
		    BD_OK);
	}
	testutil_manual(st, "op@x.example", false, NULL, 1100);
	assert_state("lim@x.example", "soft", "", 4);
	assert_state("op@x.example", "active", "", 0);

	ck_assert_int_eq(store_batch_begin(st), BD_OK);
	ck_assert_int_eq(store_rebuild(st, &pol), BD_OK);
	/* the third suppresses; the fourth, after it, is kept too */
	assert_state("lim@x.example", "suppressed", "soft-limit", 4);
	assert_state("op@x.example", "active", "", 0);
	ck_assert_int_eq(store_batch_end(st, false), BD_OK);
	assert_state("lim@x.example", "soft", "", 4);

	ck_assert_int_eq(store_batch_begin(st), BD_OK);
	ck_assert_int_eq(store_rebuild(st, &pol), BD_OK);
	ck_assert_int_eq(store_batch_end(st, true), BD_OK);
	assert_state("lim@x.example", "suppressed", "soft-limit", 4);
	assert_state("op@x.example", "active", "", 0);
	/* and outside a batch, as before: its own transaction */
	ck_assert_int_eq(store_rebuild(st, &p5), BD_OK);
	assert_state("lim@x.example", "soft", "", 4);
	assert_state("op@x.example", "active", "", 0);
}
END_TEST

/*
 * A batch made whole (store_batch_whole(): the group commit's first try)
 * takes no savepoints: one call failing half way (here a trigger refuses
 * the second event of a call) spoils it, and store_batch_end() keeps
 * nothing of it, not even the calls before.  An ordinary batch keeps the
 * calls that succeeded and undoes the failed one whole.
 */
START_TEST(test_store_batch_whole_all_or_nothing)
{
	struct bd_event	 evs[2], ev;
	struct db	*db;
	char		 err[256];

	ck_assert_msg(db_open(dbpath, 0, 1000, &db, err, sizeof(err)) ==
	    BD_OK, "open %s: %s", dbpath, err);
	if (testutil_pg() == NULL) {
		ck_assert_int_eq(db_exec(db, "CREATE TRIGGER refuse BEFORE "
		    "INSERT ON events WHEN NEW.recipient = 'bad@x.example' "
		    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"),
		    BD_OK);
	} else {
		ck_assert_int_eq(db_exec(db, "CREATE FUNCTION refuse() "
		    "RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
		    "IF NEW.recipient = 'bad@x.example' THEN "
		    "RAISE EXCEPTION 'refused by the test'; END IF; "
		    "RETURN NEW; END $$"), BD_OK);
		ck_assert_int_eq(db_exec(db, "CREATE TRIGGER refuse BEFORE "
		    "INSERT ON events FOR EACH ROW EXECUTE FUNCTION "
		    "refuse()"), BD_OK);
	}
	db_close(db);
	ev = mkev("one@x.example", "W1", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, 100);
	evs[0] = mkev("two@x.example", "W2", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, 100);
	evs[1] = mkev("bad@x.example", "W2", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, 100);

	ck_assert_int_eq(store_batch_begin(st), BD_OK);
	store_batch_whole(st);
	ck_assert_uint_eq(record(&ev, 100), 1);
	ck_assert_int_ne(store_record(st, evs, 2, &pol, 100, NULL), BD_OK);
	ck_assert_int_eq(store_batch_end(st, true), BD_EIO);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM events"), 0);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM recipients"), 0);

	/* the next batch is an ordinary one again */
	ck_assert_int_eq(store_batch_begin(st), BD_OK);
	ck_assert_uint_eq(record(&ev, 100), 1);
	ck_assert_int_ne(store_record(st, evs, 2, &pol, 100, NULL), BD_OK);
	ck_assert_int_eq(store_batch_end(st, true), BD_OK);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM events"), 1);
	assert_state("one@x.example", "suppressed", "hard", 0);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM events WHERE "
	    "recipient = 'two@x.example'"), 0);

	/* and a whole batch that nothing spoils is kept */
	ck_assert_int_eq(store_batch_begin(st), BD_OK);
	store_batch_whole(st);
	ck_assert_uint_eq(record(&evs[0], 100), 1);
	ck_assert_int_eq(store_batch_end(st, true), BD_OK);
	assert_state("two@x.example", "suppressed", "hard", 0);
}
END_TEST

/*
 * Prune works in batches of STORE_PRUNE_BATCH events (each its own
 * transaction, so that recording never waits for a whole prune): more
 * than two batches go, the newer events stay, the count is the total.
 */
START_TEST(test_store_prune_in_batches)
{
	struct bd_event	 ev;
	char		 addr[64], qid[32];
	int64_t		 n = -1;
	int		 i, total = 2 * STORE_PRUNE_BATCH + 7;

	ck_assert_int_eq(store_batch_begin(st), BD_OK);
	for (i = 0; i < total; i++) {
		(void)snprintf(addr, sizeof(addr), "p%d@x.example", i);
		(void)snprintf(qid, sizeof(qid), "Q%d", i);
		ev = mkev(addr, qid, EV_ACT_DELAYED, "4.2.2", "mailboxfull",
		    false, 100);
		record(&ev, 100);
	}
	ev = mkev("keep@x.example", "K1", EV_ACT_DELAYED, "4.2.2",
	    "mailboxfull", false, 900);
	record(&ev, 900);
	ck_assert_int_eq(store_batch_end(st, true), BD_OK);
	ck_assert_int_eq(store_prune(st, 500, &n), BD_OK);
	ck_assert_msg(n == total, "pruned: got %lld, want %d", (long long)n,
	    total);
	ck_assert_int_eq(store_prune(st, 500, &n), BD_OK);
	ck_assert_msg(n == 0, "pruned again: got %lld, want 0", (long long)n);
	ck_assert_int_eq(store_prune(st, 1000, &n), BD_OK);
	ck_assert_msg(n == 1, "pruned the newer one: got %lld, want 1",
	    (long long)n);
}
END_TEST

/*
 * An event hook's cursor ("hook:NAME") holds a prune back: the events
 * dated before the prune's date whose feed rows come after the cursor
 * are named (the oldest date, how many), those before it are not; a
 * cursor of another kind (a log follower's) holds nothing.
 */
START_TEST(test_store_prune_hold_by_hooks)
{
	struct bd_event		 ev;
	struct store_cursor	 cur;
	struct store_hold	 h;
	int64_t			 seen;
	bool			 held = true;

	ev = mkev("a@x.example", "A1", EV_ACT_DELAYED, "4.2.2",
	    "mailboxfull", false, 100);
	record(&ev, 100);
	/* no hook: nothing held */
	ck_assert_int_eq(store_prune_hold(st, 1000, &held, &h), BD_OK);
	ck_assert(!held);
	/* a hook that has seen everything so far */
	ck_assert_int_eq(store_feed_last(st, &seen), BD_OK);
	memset(&cur, 0, sizeof(cur));
	cur.off = (uint64_t)seen;
	ck_assert_int_eq(store_cursor_set(st, "hook:app", &cur, 1), BD_OK);
	ck_assert_int_eq(store_cursor_set(st, "/var/log/mail.log", &cur, 1),
	    BD_OK);
	ck_assert_int_eq(store_prune_hold(st, 1000, &held, &h), BD_OK);
	ck_assert(!held);
	/* two events it has not seen: one old, one newer than the date */
	ev = mkev("b@x.example", "B1", EV_ACT_DELAYED, "4.2.2",
	    "mailboxfull", false, 300);
	record(&ev, 300);
	ev = mkev("c@x.example", "C1", EV_ACT_DELAYED, "4.2.2",
	    "mailboxfull", false, 2000);
	record(&ev, 2000);
	ck_assert_int_eq(store_prune_hold(st, 1000, &held, &h), BD_OK);
	ck_assert(held);
	ck_assert_str_eq(h.hook, "hook:app");
	ck_assert_int_eq(h.cursor, seen);
	ck_assert_int_eq(h.oldest, 300);
	ck_assert_int_eq(h.events, 1);
	/* a prune before the event it has not seen leaves it */
	ck_assert_int_eq(store_prune_hold(st, 300, &held, &h), BD_OK);
	ck_assert(!held);
}
END_TEST

/*
 * A suppression whose events were pruned cannot be judged again: a
 * rebuild keeps it (hard, manual) and folds the events left on top; one
 * whose events are kept is judged again under the new policy.
 */
START_TEST(test_store_rebuild_keeps_pruned_suppression)
{
	static const struct state_policy p5 = { .soft_limit = 5, .soft_window = 7 * 86400,
	    .complaint_types = 0 };
	struct store_recipient	 rc;
	struct bd_event		 ev;

	ev = mkev("hp@x.example", "H1", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, 100);
	record(&ev, 100);
	ev = mkev("hp@x.example", "H2", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, 500);
	record(&ev, 500);
	testutil_manual(st, "mp@x.example", true, NULL, 100);
	ev = mkev("mp@x.example", "M1", EV_ACT_DELIVERED, "2.0.0", NULL,
	    false, 500);
	record(&ev, 500);
	/* soft-limit, events kept (after the prune's date) */
	ev = mkev("sp@x.example", "P1", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, 300);
	record(&ev, 300);
	ev = mkev("sp@x.example", "P2", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, 301);
	record(&ev, 301);
	ev = mkev("sp@x.example", "P3", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, 302);
	record(&ev, 302);
	assert_state("hp@x.example", "suppressed", "hard", 1);
	assert_state("mp@x.example", "suppressed", "manual", 0);
	assert_state("sp@x.example", "suppressed", "soft-limit", 3);
	ck_assert_int_eq(store_lookup(st, "hp@x.example", &rc), BD_OK);
	ck_assert_msg(strcmp(rc.suppress_events, "1") == 0,
	    "suppress_events: got \"%s\", want \"1\"", rc.suppress_events);

	ck_assert_int_eq(store_prune(st, 250, NULL), BD_OK);
	ck_assert_int_eq(store_rebuild(st, &p5), BD_OK);
	assert_state("hp@x.example", "suppressed", "hard", 1);
	assert_state("mp@x.example", "suppressed", "manual", 0);
	assert_state("sp@x.example", "soft", "", 3);
	ck_assert_int_eq(store_lookup(st, "hp@x.example", &rc), BD_OK);
	ck_assert_msg(rc.suppressed_since == 100,
	    "suppressed_since: got %lld, want 100",
	    (long long)rc.suppressed_since);
	ck_assert_msg(strcmp(rc.suppress_events, "1") == 0,
	    "after rebuild: got \"%s\", want \"1\"", rc.suppress_events);
	/* an unsuppress after the prune still makes it active */
	testutil_manual(st, "hp@x.example", false, NULL, 600);
	ck_assert_int_eq(store_rebuild(st, &pol), BD_OK);
	assert_state("hp@x.example", "active", "", 0);
	assert_state("sp@x.example", "suppressed", "soft-limit", 3);
}
END_TEST

START_TEST(test_store_unwritable_path_fails)
{
	static const char junk[] = "this is not an SQLite database, not at "
	    "all.....\n0123456789012345678901234567890123456789012345\n";
	struct store	*s2 = (struct store *)1;
	char		 err[256], p[400];
	enum bd_status	 r;

	err[0] = '\0';
	r = store_open("/nonexistent-bounced-dir/x/bounced.db", 0, 100, &s2,
	    err, sizeof(err));
	ck_assert_msg(r == BD_EIO, "missing dir: got %s, want %s",
	    bd_strerror(r), bd_strerror(BD_EIO));
	ck_assert_ptr_null(s2);
	ck_assert_msg(err[0] != '\0', "no error text");
	if (geteuid() != 0) {
		/* root ignores permissions: only meaningful otherwise */
		snprintf(p, sizeof(p), "%s/ro", tmpdir);
		ck_assert_int_eq(mkdir(p, 0500), 0);
		snprintf(p, sizeof(p), "%s/ro/bounced.db", tmpdir);
		r = store_open(p, 0, 100, &s2, err, sizeof(err));
		ck_assert_msg(r != BD_OK, "unwritable dir: got ok");
		ck_assert_ptr_null(s2);
		snprintf(p, sizeof(p), "%s/ro", tmpdir);
		rmdir(p);
	}
	/* A file that is not a database. */
	snprintf(p, sizeof(p), "%s/junk.db", tmpdir);
	testutil_write_file(p, junk, sizeof(junk) - 1);
	r = store_open(p, 0, 100, &s2, err, sizeof(err));
	ck_assert_msg(r != BD_OK, "junk file: got ok");
	ck_assert_ptr_null(s2);
}
END_TEST

START_TEST(test_store_readonly_refuses_writes)
{
	struct store	*ro = NULL;
	struct bd_event	 ev = mkev("a@example.org", "Q", EV_ACT_FAILED,
	    "5.1.1", "userunknown", true, 1);
	struct store_recipient rc;
	char		 err[256];

	record(&ev, 1);
	ck_assert_int_eq(store_open(dbpath, STORE_RDONLY, 100, &ro, err,
	    sizeof(err)), BD_OK);
	/* Reads work while the writer holds its handle open (WAL). */
	ck_assert_int_eq(store_lookup(ro, "a@example.org", &rc), BD_OK);
	ck_assert_str_eq(rc.state, "suppressed");
	ck_assert_int_ne(store_record(ro, &ev, 1, &pol, 2, NULL), BD_OK);
	ck_assert_int_ne(store_prune(ro, 100, NULL), BD_OK);
	store_close(ro);
}
END_TEST

#define NTHREADS	4
#define PERTHREAD	25

static void *
writer(void *arg)
{
	struct bd_event	 ev;
	char		 a[64], q[32];
	int		 t = (int)(intptr_t)arg, i;

	for (i = 0; i < PERTHREAD; i++) {
		snprintf(a, sizeof(a), "t%d-%d@example.org", t, i);
		snprintf(q, sizeof(q), "T%dI%d", t, i);
		ev = mkev(a, q, EV_ACT_FAILED, "5.1.1", "userunknown", true,
		    1000 + i);
		if (store_record(st, &ev, 1, &pol, 1000 + i, NULL) != BD_OK)
			return (void *)1;
	}
	return NULL;
}

START_TEST(test_store_threads_share_handle)
{
	pthread_t	 th[NTHREADS];
	void		*rv;
	int		 i, fails = 0;

	for (i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, writer,
		    (void *)(intptr_t)i), 0);
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], &rv);
		if (rv != NULL)
			fails++;
	}
	ck_assert_msg(fails == 0, "failed threads: got %d, want 0", fails);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM recipients WHERE "
	    "state = 'suppressed'"), NTHREADS * PERTHREAD);
}
END_TEST

/*
 * Relays (connections of their own) recording for the same recipients
 * at the same moment: every soft bounce counted once, none lost to a
 * race between reading a state and writing it, the same report seen by
 * all of them one event, and each state what a replay of the events
 * gives.  RACERS * RACE_EACH + 1 soft bounces per recipient stay under
 * the limit, so a lost one shows as a smaller count.
 */
#define RACERS		4
#define RACE_EACH	4
#define RACE_RCPTS	10

static const struct state_policy race_pol = { .soft_limit = 20,
	.soft_window = 30 * 86400, .complaint_types = 0 };

static void *
racer(void *arg)
{
	struct bd_event	 ev;
	struct store	*mine;
	char		 err[256], qid[32], rcpt[32];
	int		 i, r, who = (int)(intptr_t)arg;
	bool		 ok = true;

	if (store_open(dbpath, STORE_NOCREATE, 10000, &mine, err,
	    sizeof(err)) != BD_OK)
		return (void *)1;
	for (r = 0; r < RACE_RCPTS && ok; r++) {
		(void)snprintf(rcpt, sizeof(rcpt), "race%d@x.example", r);
		for (i = 0; i < RACE_EACH && ok; i++) {
			(void)snprintf(qid, sizeof(qid), "R%d-%d-%d", r, who,
			    i);
			ev = mkev(rcpt, qid, EV_ACT_FAILED, "4.2.2",
			    "mailboxfull", false, 5000 + i);
			ok = store_record(mine, &ev, 1, &race_pol, 5000 + i,
			    NULL) == BD_OK;
		}
		/* the same report, offered to every relay */
		ev = mkev(rcpt, "SHARED", EV_ACT_FAILED, "4.2.2",
		    "mailboxfull", false, 4000);
		ok = ok && store_record(mine, &ev, 1, &race_pol, 5000,
		    NULL) == BD_OK;
	}
	store_close(mine);
	return ok ? NULL : (void *)1;
}

START_TEST(test_store_concurrent_relays)
{
	pthread_t	 th[RACERS];
	void		*rv;
	char		 rcpt[32];
	int		 i, fails = 0;

	for (i = 0; i < RACERS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, racer,
		    (void *)(intptr_t)i), 0);
	for (i = 0; i < RACERS; i++) {
		pthread_join(th[i], &rv);
		if (rv != NULL)
			fails++;
	}
	ck_assert_msg(fails == 0, "failed relays: got %d, want 0", fails);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM events"),
	    RACE_RCPTS * (RACERS * RACE_EACH + 1));
	for (i = 0; i < RACE_RCPTS; i++) {
		(void)snprintf(rcpt, sizeof(rcpt), "race%d@x.example", i);
		assert_state(rcpt, "soft", "", RACERS * RACE_EACH + 1);
	}
	ck_assert_int_eq(store_rebuild(st, &race_pol), BD_OK);
	for (i = 0; i < RACE_RCPTS; i++) {
		(void)snprintf(rcpt, sizeof(rcpt), "race%d@x.example", i);
		assert_state(rcpt, "soft", "", RACERS * RACE_EACH + 1);
	}
}
END_TEST

/* The v1 schema exactly as released (store.c migrations[0]). */
static const char v1_schema[] =
	"CREATE TABLE events (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
	" recipient TEXT NOT NULL, domain TEXT NOT NULL, original_recipient "
	"TEXT, action TEXT NOT NULL, status TEXT, reply_code INTEGER NOT NULL "
	"DEFAULT 0, reason TEXT, hard INTEGER NOT NULL DEFAULT 0, who TEXT, "
	"advice TEXT, rule TEXT, diagnostic TEXT, remote_mta TEXT, "
	"reporting_mta TEXT, queue_id TEXT, message_id TEXT, envelope_id "
	"TEXT, sender TEXT, campaign TEXT, feedback_type TEXT, source TEXT "
	"NOT NULL, trusted INTEGER NOT NULL DEFAULT 0, class TEXT NOT NULL, "
	"recorded_at INTEGER NOT NULL, identity TEXT NOT NULL UNIQUE);"
	"CREATE INDEX events_recipient ON events(recipient, ts);"
	"CREATE INDEX events_ts ON events(ts);"
	"CREATE INDEX events_queue ON events(queue_id, recipient);"
	"CREATE TABLE recipients (address TEXT PRIMARY KEY, domain TEXT NOT "
	"NULL, state TEXT NOT NULL DEFAULT 'active' CHECK (state IN "
	"('active', 'soft', 'suppressed')), reason TEXT NOT NULL DEFAULT '', "
	"soft_count INTEGER NOT NULL DEFAULT 0, soft_marks TEXT NOT NULL "
	"DEFAULT '', suppressed_since INTEGER NOT NULL DEFAULT 0, "
	"suppress_event INTEGER, reset_at INTEGER NOT NULL DEFAULT 0, "
	"first_bounce INTEGER NOT NULL DEFAULT 0, last_bounce INTEGER NOT "
	"NULL DEFAULT 0, last_seen INTEGER NOT NULL DEFAULT 0, last_event "
	"INTEGER, last_status TEXT, last_reason TEXT, last_diagnostic TEXT, "
	"manual_by TEXT, manual_why TEXT, manual_at INTEGER NOT NULL DEFAULT "
	"0);"
	"CREATE INDEX recipients_state ON recipients(state, address);"
	"CREATE INDEX recipients_domain ON recipients(domain);"
	"CREATE TABLE sends (queue_id TEXT NOT NULL, recipient TEXT NOT NULL,"
	" message_id TEXT, ts INTEGER NOT NULL, PRIMARY KEY (queue_id, "
	"recipient));"
	"INSERT INTO events (id, ts, recipient, domain, action, status, "
	"reason, hard, who, class, source, recorded_at, identity, queue_id) "
	"VALUES (7, 100, 'old@v1.example', 'v1.example', 'failed', '5.1.1', "
	"'userunknown', 1, 'recipient', 'hard', 'dsn-internal', 100, "
	"'q:V1|old@v1.example|failed|5.1.1', 'V1');"
	"INSERT INTO recipients (address, domain, state, reason, "
	"suppressed_since, suppress_event, last_seen) VALUES "
	"('old@v1.example', 'v1.example', 'suppressed', 'hard', 100, 7, 100);"
	"INSERT INTO events (id, ts, recipient, domain, action, status, "
	"class, source, recorded_at, identity, queue_id) VALUES (9, 200, "
	"'ok@v1.example', 'v1.example', 'delivered', '2.0.0', 'delivered', "
	"'log', 200, 'q:V2|ok@v1.example|delivered|2.0.0', 'V2');"
	"INSERT INTO recipients (address, domain, reset_at, last_seen) VALUES "
	"('ok@v1.example', 'v1.example', 200, 200);"
	"INSERT INTO sends VALUES ('V1', 'old@v1.example', NULL, 90);"
	"PRAGMA user_version = 1;";

START_TEST(test_store_migrates_v1_to_current)
{
	struct store_recipient	 rc;
	struct store_cursor	 c;
	sqlite3			*db;
	char			 err[256];
	int			 v = -1;
	enum bd_status		 r;

	store_close(st);
	st = NULL;
	unlink(dbpath);
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, v1_schema, NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	/* a read-only open refuses an old schema and changes nothing */
	r = store_open(dbpath, STORE_RDONLY, 1000, &st, err, sizeof(err));
	ck_assert_msg(r == BD_ECONFIG && strstr(err, "v1") != NULL,
	    "read-only v1: got %s (%s), want %s", bd_strerror(r), err,
	    bd_strerror(BD_ECONFIG));
	r = store_open(dbpath, 0, 1000, &st, err, sizeof(err));
	ck_assert_msg(r == BD_OK, "migrate: got %s (%s), want ok",
	    bd_strerror(r), err);
	ck_assert_int_eq(store_schema_version(st, &v), BD_OK);
	ck_assert_msg(v == STORE_SCHEMA_VERSION, "version: got %d, want %d", v,
	    STORE_SCHEMA_VERSION);
	/* the v1 data is all there, with its suppressing event named */
	ck_assert_int_eq(store_lookup(st, "old@v1.example", &rc), BD_OK);
	ck_assert_msg(strcmp(rc.state, "suppressed") == 0 &&
	    strcmp(rc.reason, "hard") == 0 &&
	    strcmp(rc.suppress_events, "7") == 0, "v1 row: got %s/%s/\"%s\", "
	    "want suppressed/hard/\"7\"", rc.state, rc.reason,
	    rc.suppress_events);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM sends WHERE "
	    "queue_id = 'V1' AND outcome = '' AND domain = ''"), 1);
	/* v3: the delivery behind reset_at is named */
	ck_assert_int_eq(count_rows("SELECT reset_event FROM recipients "
	    "WHERE address = 'ok@v1.example'"), 9);
	/* the v2 tables work */
	memset(&c, 0, sizeof(c));
	c.dev = 1;
	c.ino = 2;
	c.off = 3;
	ck_assert_int_eq(store_cursor_set(st, "file:x", &c, 50), BD_OK);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(store_cursor_get(st, "file:x", &c), BD_OK);
	ck_assert_msg(c.dev == 1 && c.ino == 2 && c.off == 3 &&
	    c.updated == 50, "cursor: got %llu/%llu/%llu/%lld, want 1/2/3/50",
	    (unsigned long long)c.dev, (unsigned long long)c.ino,
	    (unsigned long long)c.off, (long long)c.updated);
	/* reopening migrates nothing twice */
	store_close(st);
	r = store_open(dbpath, 0, 1000, &st, err, sizeof(err));
	ck_assert_msg(r == BD_OK, "reopen: got %s (%s)", bd_strerror(r), err);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM events"), 2);
}
END_TEST

START_TEST(test_store_soft_limit_names_events)
{
	struct store_recipient	 rc;
	struct bd_event		 ev;
	static const char *const q[] = { "S1", "S2", "S2", "S3" };
	static const char *const stv[] = { "4.2.2", "4.2.2", "4.4.1",
	    "4.2.2" };
	size_t			 i;

	for (i = 0; i < 4; i++) {
		ev = mkev("sl@x.example", q[i], EV_ACT_FAILED, stv[i],
		    "mailboxfull", false, 1000 + (int64_t)i * 100);
		record(&ev, 1000 + (int64_t)i * 100);
	}
	assert_state("sl@x.example", "suppressed", "soft-limit", 3);
	ck_assert_int_eq(store_lookup(st, "sl@x.example", &rc), BD_OK);
	/* one event per message given up: the retry of S2 is not another */
	ck_assert_msg(strcmp(rc.suppress_events, "1,2,4") == 0,
	    "suppress_events: got \"%s\", want \"1,2,4\"",
	    rc.suppress_events);
	ev = mkev("hd@x.example", "H1", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, 2000);
	record(&ev, 2000);
	ck_assert_int_eq(store_lookup(st, "hd@x.example", &rc), BD_OK);
	ck_assert_msg(strcmp(rc.suppress_events, "5") == 0,
	    "hard suppress_events: got \"%s\", want \"5\"",
	    rc.suppress_events);
	/* a rebuild names the same events */
	ck_assert_int_eq(store_rebuild(st, &pol), BD_OK);
	ck_assert_int_eq(store_lookup(st, "sl@x.example", &rc), BD_OK);
	ck_assert_msg(strcmp(rc.suppress_events, "1,2,4") == 0,
	    "after rebuild: got \"%s\", want \"1,2,4\"",
	    rc.suppress_events);
}
END_TEST

START_TEST(test_store_expiry_parse)
{
	static const struct {
		const char	*text;
		bool		 ok;
		size_t		 n;
		int64_t		 first;
	} cases[] = {
		{ "soft-limit:180d", true, 1, 180 * 86400 },
		{ "soft-limit:180d, hard:1y", true, 2, 180 * 86400 },
		{ "hard:2w complaint:12h", true, 2, 14 * 86400 },
		{ "imported:30d", true, 1, 30 * 86400 },
		{ "imported:30", false, 0, 0 },	/* a unit is required */
		{ "", true, 0, 0 },
		{ "manual:30d", false, 0, 0 },
		{ "soft-limit", false, 0, 0 },
		{ "soft-limit:", false, 0, 0 },
		{ "soft-limit:0d", false, 0, 0 },
		{ "soft-limit:10x", false, 0, 0 },
		{ "soft-limit:1d,soft-limit:2d", false, 0, 0 },
		{ "bogus:1d", false, 0, 0 },
		{ "hard:99999999999999d", false, 0, 0 },
	};
	struct store_expiry	 rules[STORE_EXPIRY_MAX];
	char			 err[256];
	size_t			 i, n;
	bool			 ok;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ok = store_expiry_parse(cases[i].text, rules, STORE_EXPIRY_MAX,
		    &n, err, sizeof(err));
		ck_assert_msg(ok == cases[i].ok, "\"%s\": got %s (%s), want "
		    "%s", cases[i].text, ok ? "ok" : "refused", err,
		    cases[i].ok ? "ok" : "refused");
		if (!ok) {
			ck_assert_msg(err[0] != '\0', "\"%s\": no message",
			    cases[i].text);
			continue;
		}
		ck_assert_msg(n == cases[i].n, "\"%s\": got %zu rules, want "
		    "%zu", cases[i].text, n, cases[i].n);
		if (n > 0)
			ck_assert_msg(rules[0].after == cases[i].first,
			    "\"%s\": got %lld s, want %lld", cases[i].text,
			    (long long)rules[0].after,
			    (long long)cases[i].first);
	}
}
END_TEST

START_TEST(test_store_expire_by_reason)
{
	struct store_expiry	 rules[STORE_EXPIRY_MAX];
	struct store_manual	 m;
	struct bd_event		 ev;
	char			 err[128];
	size_t			 n, i;
	int64_t			 done = -1;

	for (i = 0; i < 3; i++) {
		char	 qid[8];

		snprintf(qid, sizeof(qid), "E%zu", i);
		ev = mkev("soft@x.example", qid, EV_ACT_FAILED, "4.2.2",
		    "mailboxfull", false, 1000 + (int64_t)i);
		record(&ev, 1000);
	}
	ev = mkev("hard@x.example", "H", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, 1000);
	record(&ev, 1000);
	memset(&m, 0, sizeof(m));
	m.address = "man@x.example";
	m.suppress = true;
	m.by = "op";
	m.when = 1000;
	m.source = EV_SRC_MANUAL;
	ck_assert_int_eq(store_manual(st, &m, 1, NULL), BD_OK);
	ck_assert(store_expiry_parse("soft-limit:180d", rules,
	    STORE_EXPIRY_MAX, &n, err, sizeof(err)));
	/* not old enough yet */
	ck_assert_int_eq(store_expire(st, 1002 + 179 * 86400, rules, n,
	    &done), BD_OK);
	ck_assert_msg(done == 0, "expired early: got %lld, want 0",
	    (long long)done);
	ck_assert_int_eq(store_expire(st, 1002 + 180 * 86400, rules, n,
	    &done), BD_OK);
	ck_assert_msg(done == 1, "expired: got %lld, want 1",
	    (long long)done);
	assert_state("soft@x.example", "active", "", 0);
	assert_state("hard@x.example", "suppressed", "hard", 0);
	assert_state("man@x.example", "suppressed", "manual", 0);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM events WHERE "
	    "recipient = 'soft@x.example' AND action = 'unsuppress' AND "
	    "diagnostic LIKE 'expiry: soft-limit%'"), 1);
	/*
	 * an old soft bounce arriving late cannot suppress it again: a
	 * report dated outside the window is dated when it was learned
	 * (after the expiry), and counts once
	 */
	ev = mkev("soft@x.example", "E9", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, 1005);
	record(&ev, 1005 + 180 * 86400);
	assert_state("soft@x.example", "soft", "", 1);
	/* no rule, nothing to do */
	ck_assert_int_eq(store_expire(st, INT64_MAX / 2, rules, 0, &done),
	    BD_OK);
	ck_assert_int_eq(done, 0);
}
END_TEST

/* A missing file is not created by a read-only or STORE_NOCREATE open. */
START_TEST(test_store_nocreate_refuses_missing)
{
	static const unsigned flags[] = { STORE_RDONLY, STORE_NOCREATE,
	    STORE_NOCREATE | STORE_RDONLY };
	struct store	*s2 = NULL;
	struct stat	 sb;
	char		 p[400], err[256];
	enum bd_status	 r;
	size_t		 i;

	snprintf(p, sizeof(p), "%s/mistyped.db", tmpdir);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		r = store_open(p, flags[i], 100, &s2, err, sizeof(err));
		ck_assert_msg(r == BD_ENOTFOUND, "flags %#x: got %s, want %s",
		    flags[i], bd_strerror(r), bd_strerror(BD_ENOTFOUND));
		ck_assert_ptr_null(s2);
		ck_assert_msg(strstr(err, p) != NULL, "err: got \"%s\", want "
		    "the path", err);
		ck_assert_msg(stat(p, &sb) != 0, "flags %#x: got a file at "
		    "%s, want none", flags[i], p);
	}
	/* a missing directory too */
	snprintf(p, sizeof(p), "%s/no/such/dir.db", tmpdir);
	r = store_open(p, STORE_NOCREATE, 100, &s2, err, sizeof(err));
	ck_assert_msg(r == BD_ENOTFOUND, "missing dir: got %s, want %s",
	    bd_strerror(r), bd_strerror(BD_ENOTFOUND));
}
END_TEST

/* STORE_NOCREATE opens (and may write) a database that exists. */
START_TEST(test_store_nocreate_opens_existing)
{
	struct bd_event	 ev = mkev("nc@example.org", "N1", EV_ACT_FAILED,
	    "5.1.1", "userunknown", true, 100);
	struct store	*s2 = NULL;
	char		 err[256];
	enum bd_status	 r;

	r = store_open(dbpath, STORE_NOCREATE, 100, &s2, err, sizeof(err));
	ck_assert_msg(r == BD_OK, "got %s (%s), want ok", bd_strerror(r),
	    err);
	r = store_record(s2, &ev, 1, &pol, 200, NULL);
	ck_assert_msg(r == BD_OK, "record: got %s (%s), want ok",
	    bd_strerror(r), store_errmsg(s2));
	store_close(s2);
	assert_state("nc@example.org", "suppressed", "hard", 0);
}
END_TEST

struct led_seen {
	int64_t	 id[8];
	int64_t	 when[8];
	size_t	 n;
};

static int
led_cb(void *arg, const struct store_event_row *e)
{
	struct led_seen	*ls = arg;

	if (ls->n < 8) {
		ls->id[ls->n] = e->id;
		ls->when[ls->n] = e->when;
	}
	ls->n++;
	return 0;
}

static void
assert_led_by(const char *addr, const int64_t *want, size_t nwant)
{
	struct led_seen	 ls;
	enum bd_status	 r;
	size_t		 i;

	memset(&ls, 0, sizeof(ls));
	r = store_led_by(st, addr, led_cb, &ls);
	ck_assert_msg(r == BD_OK, "led_by %s: got %s (%s), want ok", addr,
	    bd_strerror(r), store_errmsg(st));
	ck_assert_msg(ls.n == nwant, "led_by %s: got %zu events, want %zu",
	    addr, ls.n, nwant);
	for (i = 0; i < nwant && i < 8; i++)
		ck_assert_msg(ls.id[i] == want[i], "led_by %s [%zu]: got id "
		    "%lld, want %lld", addr, i, (long long)ls.id[i],
		    (long long)want[i]);
	for (i = 1; i < ls.n && i < 8; i++)
		ck_assert_msg(ls.when[i - 1] <= ls.when[i], "led_by %s: "
		    "got %lld before %lld, want oldest first", addr,
		    (long long)ls.when[i - 1], (long long)ls.when[i]);
}

/* The events named in suppress_events, as status lists them. */
START_TEST(test_store_led_by_lists_events)
{
	static const int64_t soft[] = { 1, 2, 3 }, hard[] = { 5 };
	static const int64_t pruned[] = { 2, 3 };
	static const char *const q[] = { "L1", "L2", "L3" };
	struct bd_event	 ev;
	size_t		 i;

	for (i = 0; i < 3; i++) {
		ev = mkev("lb@x.example", q[i], EV_ACT_FAILED, "4.2.2",
		    "mailboxfull", false, 1000 + (int64_t)i * 100);
		record(&ev, 1000 + (int64_t)i * 100);
	}
	assert_state("lb@x.example", "suppressed", "soft-limit", 3);
	/* a delivery to another address and a soft bounce not in the streak */
	ev = mkev("other@x.example", "O1", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, 1050);
	record(&ev, 1050);
	ev = mkev("hd@x.example", "H1", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, 2000);
	record(&ev, 2000);
	assert_led_by("lb@x.example", soft, 3);
	assert_led_by("lb@X.Example", soft, 3);
	assert_led_by("hd@x.example", hard, 1);
	/* not suppressed, never seen: nothing */
	assert_led_by("other@x.example", NULL, 0);
	assert_led_by("never@x.example", NULL, 0);
	ck_assert_int_eq(store_led_by(st, "not an address", led_cb, NULL),
	    BD_EPARSE);
	/* an event pruned is no longer listed */
	ck_assert_int_eq(store_prune(st, 1050, NULL), BD_OK);
	assert_led_by("lb@x.example", pruned, 2);
	/* unsuppressed: nothing led there any more */
	{
		struct store_manual	 m;

		memset(&m, 0, sizeof(m));
		m.address = "lb@x.example";
		m.when = 3000;
		m.source = EV_SRC_MANUAL;
		ck_assert_int_eq(store_manual(st, &m, 1, NULL), BD_OK);
	}
	assert_led_by("lb@x.example", NULL, 0);
}
END_TEST

/* ---- issue 9: the ten cases, at the store ---------------------------- */

#define DAY9	86400
#define T9	INT64_C(1800000000)
static const struct state_policy pol30 = {
	.soft_limit = 3, .soft_window = 30 * DAY9,
	.complaint_types = STATE_FB_BIT(STATE_FB_ABUSE),
};

static int
info_cb(void *arg, const struct store_event_row *e)
{
	if (e->class != NULL && strcmp(e->class, "info") == 0 &&
	    e->diagnostic != NULL)
		snprintf(arg, 512, "%s", e->diagnostic);
	return 0;
}

/*
 * Case 2: order.  Soft bounces of days 1, 2 and 4 read first suppress;
 * the delivery of day 3, read afterwards (a second log file), withdraws
 * what the suppression rested on: soft, count 1 (day 4), as a rebuild
 * says, and history says why it was lifted.
 */
START_TEST(test_store_case2_late_delivery_lifts)
{
	static const int days[] = { 1, 2, 4 };
	struct store_recipient	 rc;
	struct bd_event		 ev;
	char			 q[8], note[512] = "";
	size_t			 i;

	for (i = 0; i < 3; i++) {
		snprintf(q, sizeof(q), "D%d", days[i]);
		ev = mkev("late@x.example", q, EV_ACT_FAILED, "4.2.2",
		    "mailboxfull", false, T9 + days[i] * DAY9);
		ev.source = EV_SRC_LOG;
		record_pol(&ev, &pol30, T9 + 5 * DAY9);
	}
	assert_state("late@x.example", "suppressed", "soft-limit", 3);
	ck_assert_int_eq(store_lookup(st, "late@x.example", &rc), BD_OK);
	ck_assert_msg(rc.suppressed_since == T9 + 4 * DAY9, "since: got %lld, "
	    "want day 4", (long long)rc.suppressed_since);
	ev = mkev("late@x.example", "D3", EV_ACT_DELIVERED, "2.0.0",
	    "delivered", false, T9 + 3 * DAY9);
	ev.source = EV_SRC_LOG;
	record_pol(&ev, &pol30, T9 + 6 * DAY9);
	assert_state("late@x.example", "soft", "", 1);
	ck_assert_int_eq(store_history(st, "late@x.example", info_cb, note),
	    BD_OK);
	ck_assert_msg(strstr(note, "lifted") != NULL && strstr(note,
	    "came in after newer ones") != NULL, "history note: got \"%s\", "
	    "want why the suppression was lifted", note);
	ck_assert_int_eq(store_rebuild(st, &pol30), BD_OK);
	assert_state("late@x.example", "soft", "", 1);
}
END_TEST

/*
 * Case 5: one message, one identity.  A Sendmail log line keyed by queue
 * id (Message-ID with <>) and the DSN of the same message keyed by its
 * Message-ID (without <>) are one message: two messages, two soft
 * bounces, not suppressed at a limit of 3.  Id-less delay notices of one
 * message count for nothing.
 */
START_TEST(test_store_case5_one_message_one_key)
{
	static const char *const mids[] = { "<m1@sender.test>",
	    "<m2@sender.test>" };
	struct bd_event	 ev;
	char		 qid[16], bare[32];
	size_t		 i;

	for (i = 0; i < 2; i++) {
		snprintf(qid, sizeof(qid), "5AB%zuCDE012345", i);
		ev = mkev("sm@x.example", qid, EV_ACT_FAILED, "4.2.2",
		    "mailboxfull", false, T9 + (int64_t)i * 100);
		ev.message_id = mids[i];
		ev.source = EV_SRC_LOG;
		ev.trusted = true;
		record_pol(&ev, &pol30, T9 + 1000);
		snprintf(bare, sizeof(bare), "%.*s",
		    (int)strlen(mids[i]) - 2, mids[i] + 1);
		ev = mkev("sm@x.example", NULL, EV_ACT_FAILED, "4.4.7",
		    "mailboxfull", false, T9 + (int64_t)i * 100 + 50);
		ev.message_id = bare;
		ev.source = EV_SRC_DSN_REMOTE;
		ev.trusted = false;
		record_pol(&ev, &pol30, T9 + 1000);
	}
	assert_state("sm@x.example", "soft", "", 2);
	ck_assert_int_eq(count_rows("SELECT COUNT(DISTINCT msgkey) FROM events "
	    "WHERE recipient = 'sm@x.example'"), 2);
	/* three delay notices without any id: nothing to count */
	for (i = 0; i < 3; i++) {
		ev = mkev("idless@x.example", NULL, EV_ACT_DELAYED, "4.2.2",
		    "mailboxfull", false, T9 + (int64_t)i * 3600);
		record_pol(&ev, &pol30, T9 + 4 * 3600);
	}
	assert_state("idless@x.example", "active", "", 0);
}
END_TEST

/*
 * Case 6: report dates are bounded.  A DSN dated 2029 is dated when it
 * was learned (its own date kept apart): the real marks stay inside the
 * window.  A hard bounce dated 2016 is dated now: hard:2y does not end
 * it at once.
 */
static int
reported_cb(void *arg, const struct store_event_row *e)
{
	int64_t	*v = arg;

	v[0] = e->when;
	v[1] = e->reported_at;
	return 0;
}

START_TEST(test_store_case6_dates_bounded)
{
	struct store_expiry	 rules[STORE_EXPIRY_MAX];
	struct bd_event		 ev;
	char			 err[128];
	int64_t			 got[2] = { 0, 0 }, done = -1;
	size_t			 n;

	ev = mkev("fut@x.example", "F1", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, T9);
	record_pol(&ev, &pol30, T9);
	ev = mkev("fut@x.example", "F2", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, INT64_C(1880000000));	/* 2029 */
	record_pol(&ev, &pol30, T9 + 100);
	ev = mkev("fut@x.example", "F3", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, T9 + 200);
	record_pol(&ev, &pol30, T9 + 200);
	assert_state("fut@x.example", "suppressed", "soft-limit", 3);
	ck_assert_int_eq(store_history(st, "fut@x.example", reported_cb, got),
	    BD_OK);
	/* F3, the newest: its own date */
	ck_assert_msg(got[0] == T9 + 200 && got[1] == T9 + 200, "F3: got "
	    "%lld/%lld", (long long)got[0], (long long)got[1]);
	/* F2: dated when it was learned, its 2029 kept apart */
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM events WHERE "
	    "queue_id = 'F2' AND ts = 1800000100 AND "
	    "reported_at = 1880000000"), 1);

	ev = mkev("old@x.example", "O1", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, INT64_C(1460000000));	/* 2016 */
	record_pol(&ev, &pol30, T9);
	ck_assert(store_expiry_parse("hard:2y", rules, STORE_EXPIRY_MAX, &n,
	    err, sizeof(err)));
	ck_assert_int_eq(store_expire(st, T9 + 3600, rules, n, &done), BD_OK);
	ck_assert_msg(done == 0, "expired at once: got %lld", (long long)done);
	assert_state("old@x.example", "suppressed", "hard", 0);
}
END_TEST

/* Case 7: the stronger reason wins; a soft-limit expiry leaves it be. */
START_TEST(test_store_case7_hard_upgrades_soft_limit)
{
	struct store_expiry	 rules[STORE_EXPIRY_MAX];
	struct store_recipient	 rc;
	struct bd_event		 ev;
	char			 q[8], err[128];
	int64_t			 done = -1;
	size_t			 i, n;

	for (i = 0; i < 3; i++) {
		snprintf(q, sizeof(q), "U%zu", i);
		ev = mkev("up@x.example", q, EV_ACT_FAILED, "4.2.2",
		    "mailboxfull", false, T9 + (int64_t)i);
		record_pol(&ev, &pol30, T9 + 10);
	}
	assert_state("up@x.example", "suppressed", "soft-limit", 3);
	ev = mkev("up@x.example", "U9", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, T9 + 100);
	record_pol(&ev, &pol30, T9 + 100);
	assert_state("up@x.example", "suppressed", "hard", 3);
	ck_assert_int_eq(store_lookup(st, "up@x.example", &rc), BD_OK);
	ck_assert_int_eq(rc.suppressed_since, T9 + 100);
	ck_assert(store_expiry_parse("soft-limit:1d", rules, STORE_EXPIRY_MAX,
	    &n, err, sizeof(err)));
	ck_assert_int_eq(store_expire(st, T9 + 5 * DAY9, rules, n, &done),
	    BD_OK);
	ck_assert_int_eq(done, 0);
	assert_state("up@x.example", "suppressed", "hard", 3);
}
END_TEST

/*
 * Case 8: a lowered limit applies to the addresses already counted:
 * store_policy_sync() (bounced at start and on reload) refolds them.
 */
START_TEST(test_store_case8_lowered_limit_applies)
{
	static const struct state_policy pol2 = {
		.soft_limit = 2, .soft_window = 30 * DAY9,
		.complaint_types = STATE_FB_BIT(STATE_FB_ABUSE),
	};
	struct bd_event	 ev;
	bool		 rebuilt = false;
	char		 q[8];
	size_t		 i;

	ck_assert_int_eq(store_policy_sync(st, &pol30, &rebuilt), BD_OK);
	for (i = 0; i < 2; i++) {
		snprintf(q, sizeof(q), "L%zu", i);
		ev = mkev("low@x.example", q, EV_ACT_FAILED, "4.2.2",
		    "mailboxfull", false, T9 + (int64_t)i);
		record_pol(&ev, &pol30, T9 + 10);
	}
	assert_state("low@x.example", "soft", "", 2);
	ck_assert_int_eq(store_policy_sync(st, &pol30, &rebuilt), BD_OK);
	ck_assert_msg(!rebuilt, "the same policy: got a refold");
	ck_assert_int_eq(store_policy_sync(st, &pol2, &rebuilt), BD_OK);
	ck_assert_msg(rebuilt, "a lowered limit: got no refold");
	assert_state("low@x.example", "suppressed", "soft-limit", 2);
	/* an operator's action later folds with that policy too */
	testutil_manual(st, "low@x.example", false, NULL, T9 + 20);
	assert_state("low@x.example", "active", "", 0);
}
END_TEST

/*
 * Case 9: one mailbox, one key.  Case of the local part and of the
 * domain, a U-label and its A-label: one state, found whichever way it
 * is spelt, by lookups, by the operator's commands.
 */
START_TEST(test_store_case9_one_mailbox_one_key)
{
	struct store_recipient	 rc;
	struct bd_event		 ev;

	ev = mkev("John.Doe@Ex.TEST", "J1", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, T9);
	record_pol(&ev, &pol30, T9);
	ck_assert_int_eq(store_lookup(st, "john.doe@ex.test", &rc), BD_OK);
	ck_assert_str_eq(rc.state, "suppressed");
	ck_assert_str_eq(rc.address, "john.doe@ex.test");
	ck_assert_str_eq(rc.display, "John.Doe@Ex.TEST");
	ck_assert_str_eq(rc.domain, "ex.test");

	ev = mkev("user@b\xc3\xbc" "cher.test", "B1", EV_ACT_FAILED, "5.1.1",
	    "userunknown", true, T9);
	record_pol(&ev, &pol30, T9);
	ck_assert_int_eq(store_lookup(st, "USER@xn--bcher-kva.test", &rc),
	    BD_OK);
	ck_assert_str_eq(rc.address, "user@xn--bcher-kva.test");
	ck_assert_str_eq(rc.state, "suppressed");
	/* the operator's commands take any spelling */
	testutil_manual(st, "User@B\xc3\x9c" "CHER.test", false, NULL, T9 + 10);
	ck_assert_int_eq(store_lookup(st, "user@xn--bcher-kva.test", &rc),
	    BD_OK);
	ck_assert_str_eq(rc.state, "active");
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM recipients"), 2);
}
END_TEST

/*
 * Case 10: prune and rebuild agree.  A prune inside the soft window
 * keeps what a rebuild needs (a checkpoint): the streak and the
 * soft-limit suppression survive a rebuild; sends are pruned too.
 */
START_TEST(test_store_case10_prune_then_rebuild)
{
	struct bd_event	 ev;
	char		 q[8];
	int64_t		 n = -1;
	size_t		 i;

	for (i = 0; i < 3; i++) {
		snprintf(q, sizeof(q), "P%zu", i);
		ev = mkev("pr@x.example", q, EV_ACT_FAILED, "4.2.2",
		    "mailboxfull", false, T9 + (int64_t)i * DAY9);
		ev.source = EV_SRC_LOG;
		ev.sender = "news@sender.test";
		record_pol(&ev, &pol30, T9 + 3 * DAY9);
		snprintf(q, sizeof(q), "S%zu", i);
		ev = mkev("st@x.example", q, EV_ACT_FAILED, "4.2.2",
		    "mailboxfull", false, T9 + (int64_t)i * DAY9);
		ev.source = EV_SRC_LOG;
		ev.sender = "news@sender.test";
		record_pol(&ev, &pol30, T9 + 3 * DAY9);
	}
	ev = mkev("st@x.example", "S9", EV_ACT_DELIVERED, "2.0.0",
	    "delivered", false, T9 + DAY9 / 2);
	ev.source = EV_SRC_LOG;
	record_pol(&ev, &pol30, T9 + 3 * DAY9);
	assert_state("pr@x.example", "suppressed", "soft-limit", 3);
	assert_state("st@x.example", "soft", "", 2);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM sends"), 7);
	/* cut between the second and the third: inside the window */
	ck_assert_int_eq(store_prune(st, T9 + DAY9 + DAY9 / 2, &n), BD_OK);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM sends"), 2);
	ck_assert_int_eq(store_vacuum(st), BD_OK);
	ck_assert_int_eq(store_rebuild(st, &pol30), BD_OK);
	assert_state("pr@x.example", "suppressed", "soft-limit", 3);
	assert_state("st@x.example", "soft", "", 2);
	/* and the live path goes on from the same state */
	ev = mkev("st@x.example", "S7", EV_ACT_FAILED, "4.2.2",
	    "mailboxfull", false, T9 + 3 * DAY9);
	ev.source = EV_SRC_LOG;
	record_pol(&ev, &pol30, T9 + 3 * DAY9);
	assert_state("st@x.example", "suppressed", "soft-limit", 3);
	ck_assert_int_eq(store_rebuild(st, &pol30), BD_OK);
	assert_state("st@x.example", "suppressed", "soft-limit", 3);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc;

	tc = tcase_create("schema");
	tcase_add_checked_fixture(tc, setup, teardown);
	if (testutil_pg() == NULL) {
		/* a file's versions, modes and migrations */
		tcase_add_test(tc, test_store_schema_version);
		tcase_add_test(tc, test_store_readonly_refuses_empty_db);
		tcase_add_test(tc, test_store_unwritable_path_fails);
		tcase_add_test(tc, test_store_migrates_v1_to_current);
		tcase_add_test(tc, test_store_nocreate_refuses_missing);
		tcase_add_test(tc, test_store_nocreate_opens_existing);
	} else {
		tcase_add_test(tc, test_store_pg_schema_version);
		tcase_add_test(tc, test_store_pg_notifies_state);
	}
	tcase_add_test(tc, test_store_readonly_refuses_writes);
	suite_add_tcase(s, tc);

	tc = tcase_create("rule");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_store_idempotent_record);
	tcase_add_test(tc, test_store_hard_suppresses);
	tcase_add_test(tc, test_store_soft_limit_distinct_messages);
	tcase_add_test(tc, test_store_retries_count_once);
	tcase_add_test(tc, test_store_delivery_resets);
	tcase_add_test(tc, test_store_soft_window);
	tcase_add_test(tc, test_store_sender_side_not_suppressed);
	tcase_add_test(tc, test_store_feedback_not_suppressed);
	tcase_add_test(tc, test_store_complaint_suppresses);
	tcase_add_test(tc, test_store_manual_unsuppress_wins);
	tcase_add_test(tc, test_store_manual_is_atomic);
	tcase_add_test(tc, test_store_domain_case_insensitive);
	tcase_add_test(tc, test_store_rebuild_matches_incremental);
	tcase_add_test(tc, test_store_same_second_soft_after_delivery);
	tcase_add_test(tc, test_store_rebuild_in_batch_rolls_back);
	tcase_add_test(tc, test_store_batch_whole_all_or_nothing);
	tcase_add_test(tc, test_store_rebuild_keeps_pruned_suppression);
	tcase_add_test(tc, test_store_prune_in_batches);
	tcase_add_test(tc, test_store_prune_hold_by_hooks);
	tcase_add_test(tc, test_store_soft_limit_names_events);
	tcase_add_test(tc, test_store_expiry_parse);
	tcase_add_test(tc, test_store_expire_by_reason);
	suite_add_tcase(s, tc);

	tc = tcase_create("issue9");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_store_case2_late_delivery_lifts);
	tcase_add_test(tc, test_store_case5_one_message_one_key);
	tcase_add_test(tc, test_store_case6_dates_bounded);
	tcase_add_test(tc, test_store_case7_hard_upgrades_soft_limit);
	tcase_add_test(tc, test_store_case8_lowered_limit_applies);
	tcase_add_test(tc, test_store_case9_one_mailbox_one_key);
	tcase_add_test(tc, test_store_case10_prune_then_rebuild);
	suite_add_tcase(s, tc);

	tc = tcase_create("query");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_store_list_filters_and_paging);
	tcase_add_test(tc, test_store_stats_and_prune);
	tcase_add_test(tc, test_store_history_oldest_first);
	tcase_add_test(tc, test_store_led_by_lists_events);
	tcase_add_test(tc, test_store_threads_share_handle);
	tcase_add_test(tc, test_store_concurrent_relays);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(store_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
