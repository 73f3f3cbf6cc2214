/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * check_maint.c - unit tests of the periodic duties (src/maint.c):
 * SuppressionExpiry through store_expire(), the SenderSideAlertRate
 * warning (summed per domain, once per domain per hour) and a failing
 * store logged once, against a real store in a temporary folder.  The
 * log lines are caught with log_set_hook().
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <sqlite3.h>

#include "conf/conf.h"
#include "log/log.h"
#include "bounced/maint.h"
#include "verdict/spike.h"
#include "store/store.h"
#include "testutil.h"

#define NOW	1795478400

static char		 tmpdir[256], dbpath[300];
static struct store	*store;
static struct maint	*maint;
static struct spike_watch *watch;
static char		 last_warning[2048];
static int		 n_warnings, n_infos;

static void
hook(int prio, const char *line)
{
	if (prio == LOG_WARNING) {
		n_warnings++;
		(void)snprintf(last_warning, sizeof(last_warning), "%s",
		    line);
	} else if (prio == LOG_INFO)
		n_infos++;
}

static void
setup(void)
{
	testutil_tmpdir("check_maint", tmpdir, sizeof(tmpdir));
	testutil_store(tmpdir, dbpath, sizeof(dbpath), &store);
	ck_assert_int_eq(maint_new(&maint), BD_OK);
	ck_assert_int_eq(spike_watch_new(&watch), BD_OK);
	n_warnings = n_infos = 0;
	last_warning[0] = '\0';
	log_set_hook(hook);
}

static void
teardown(void)
{
	log_set_hook(NULL);
	maint_free(maint);
	spike_watch_free(watch);
	store_close(store);
	testutil_rmtree(tmpdir);
}

/* n sender-side failures of reason to domain, dated when. */
static void
sender_side(const char *domain, const char *reason, int n, int64_t when)
{
	static int		 seq;
	struct state_policy	 pol = { .soft_limit = 3, .soft_window = 30 * 86400,
	    .complaint_types = 0 };
	struct bd_event		 ev;
	char			 rcpt[128], qid[32];
	int			 i;

	for (i = 0; i < n; i++) {
		memset(&ev, 0, sizeof(ev));
		(void)snprintf(rcpt, sizeof(rcpt), "u%d@%s", ++seq, domain);
		(void)snprintf(qid, sizeof(qid), "Q%d", seq);
		ev.when = when;
		ev.recipient = rcpt;
		ev.action = EV_ACT_FAILED;
		ev.status = "5.7.1";
		ev.reply_code = 550;
		ev.queue_id = qid;
		ev.verdict.reason = reason;
		ev.verdict.who = EV_WHO_SENDER;
		ev.source = EV_SRC_LOG;
		ck_assert_int_eq(store_record(store, &ev, 1, &pol, when, NULL),
		    BD_OK);
	}
}

START_TEST(test_maint_warns_per_domain_once_an_hour)
{
	struct bd_config	*c = testutil_config("SenderSideAlertRate 10");
	struct maint_result	 res;

	/* 6 + 5 to one domain: each reason under the rate, the sum over */
	sender_side("example.net", "blocked", 6, NOW - 600);
	sender_side("example.net", "badreputation", 5, NOW - 300);
	sender_side("quiet.test", "blocked", 9, NOW - 300);
	maint_run(maint, store, c, NOW, &res);
	ck_assert_msg(res.alerts == 1 && n_warnings == 1, "got %zu alerts "
	    "and %d warnings, want 1 and 1", res.alerts, n_warnings);
	ck_assert_msg(strstr(last_warning, "example.net: 11 in the last hour")
	    != NULL && strstr(last_warning, "blocked=6") != NULL &&
	    strstr(last_warning, "badreputation=5") != NULL,
	    "got \"%s\", want example.net, 11, blocked=6, badreputation=5",
	    last_warning);
	ck_assert_msg(strstr(last_warning, "quiet.test") == NULL,
	    "got \"%s\", want quiet.test (9 < 10) not named", last_warning);

	/* Five minutes later, still over: not named again. */
	sender_side("example.net", "blocked", 3, NOW + 200);
	maint_run(maint, store, c, NOW + 300, &res);
	ck_assert_msg(res.alerts == 0 && n_warnings == 1, "within the hour: "
	    "got %zu alerts, want 0", res.alerts);

	/* An hour on, over again: named again. */
	sender_side("example.net", "blocked", 12, NOW + 3600);
	maint_run(maint, store, c, NOW + 3650, &res);
	ck_assert_msg(res.alerts == 1 && n_warnings == 2, "an hour later: "
	    "got %zu alerts, want 1", res.alerts);
	/* Out of the last hour, nothing counts. */
	maint_run(maint, store, c, NOW + 3 * 3600, &res);
	ck_assert_uint_eq(res.alerts, 0);
	config_free(c);
}
END_TEST

START_TEST(test_maint_due_every_period)
{
	int64_t	 t;
	int	 n = 0;

	ck_assert_msg(spike_due(watch, NOW, SPIKE_CHECK_EVERY), "first call: "
	    "got not due, want due");
	for (t = NOW + 1; t < NOW + 3600; t++)
		n += spike_due(watch, t, SPIKE_CHECK_EVERY);
	ck_assert_msg(n == 3600 / SPIKE_CHECK_EVERY - 1, "checks in the rest "
	    "of an hour: got %d, want %d", n, 3600 / SPIKE_CHECK_EVERY - 1);
	/* the clock went back: check at once rather than wait an hour */
	ck_assert(spike_due(watch, NOW, SPIKE_CHECK_EVERY));
	ck_assert(!spike_due(watch, NOW + 1, SPIKE_CHECK_EVERY));
}
END_TEST

/* Warnings per domain, by spike_scan()'s callback (one per hour). */
struct spike_count {
	int	 over, split, under, other;
	char	 detail[256];
};

static void
count_spike(void *arg, const struct spike *sp)
{
	struct spike_count	*sc = arg;

	if (strcmp(sp->domain, "over.test") == 0)
		sc->over++;
	else if (strcmp(sp->domain, "split.test") == 0) {
		sc->split++;
		(void)snprintf(sc->detail, sizeof(sc->detail), "%s",
		    sp->detail);
	} else if (strcmp(sp->domain, "under.test") == 0)
		sc->under++;
	else
		sc->other++;
}

/*
 * Two hours of bouncectl follow-log, second by second: checked every
 * SPIKE_CHECK_EVERY, a domain kept over the rate is named exactly once
 * an hour (its reasons summed, not once per reason); one under it never.
 * Then bounced's cadence, maint_run() every MAINT_PERIOD: the same.
 */
START_TEST(test_maint_spike_once_per_domain_per_hour)
{
	struct bd_config	*c = testutil_config("SenderSideAlertRate 10");
	struct maint_result	 res;
	struct spike_result	 sres;
	struct spike_count	 sc[2];
	int64_t			 t, b;
	int			 hour, checks = 0, warned[2] = { 0, 0 };

	for (b = NOW - 10; b < NOW + 7200; b += 1800) {
		sender_side("over.test", "blocked", 12, b);
		sender_side("split.test", "blocked", 10, b);
		sender_side("split.test", "badreputation", 10, b);
	}
	sender_side("under.test", "blocked", 9, NOW - 10);
	memset(sc, 0, sizeof(sc));
	for (t = NOW; t < NOW + 7200; t++) {
		hour = (int)((t - NOW) / 3600);
		if (!spike_due(watch, t, SPIKE_CHECK_EVERY))
			continue;
		checks++;
		memset(&sres, 0, sizeof(sres));
		ck_assert_int_eq(spike_scan(watch, store, t, 10, count_spike,
		    &sc[hour], &sres), BD_OK);
	}
	ck_assert_msg(checks == 7200 / SPIKE_CHECK_EVERY, "checks: got %d, "
	    "want %d", checks, 7200 / SPIKE_CHECK_EVERY);
	for (hour = 0; hour < 2; hour++) {
		ck_assert_msg(sc[hour].over == 1 && sc[hour].split == 1,
		    "hour %d: got %d and %d warnings, want 1 per domain", hour,
		    sc[hour].over, sc[hour].split);
		ck_assert_msg(sc[hour].under == 0 && sc[hour].other == 0,
		    "hour %d: got %d warnings under the rate, want 0", hour,
		    sc[hour].under + sc[hour].other);
	}
	ck_assert_msg(strstr(sc[0].detail, "badreputation=") != NULL &&
	    strstr(sc[0].detail, "blocked=") != NULL, "detail: got \"%s\", "
	    "want both reasons", sc[0].detail);
	ck_assert_int_eq(n_warnings, 0);	/* spike_scan() never logs */

	/* bounced: maint_run() every MAINT_PERIOD, a fresh state */
	maint_free(maint);
	ck_assert_int_eq(maint_new(&maint), BD_OK);
	for (t = NOW; t < NOW + 7200; t += MAINT_PERIOD) {
		maint_run(maint, store, c, t, &res);
		warned[(t - NOW) / 3600] += (int)res.alerts;
	}
	ck_assert_msg(warned[0] == 2 && warned[1] == 2 && n_warnings == 4,
	    "maint_run: got %d and %d alerts, %d warnings, want 2, 2 (one "
	    "per domain per hour), 4", warned[0], warned[1], n_warnings);
	config_free(c);
}
END_TEST

START_TEST(test_maint_rate_zero_is_off)
{
	struct bd_config	*c = testutil_config("SenderSideAlertRate 0\n");
	struct maint_result	 res;

	sender_side("example.net", "blocked", 30, NOW - 60);
	maint_run(maint, store, c, NOW, &res);
	ck_assert_msg(res.alerts == 0 && n_warnings == 0, "got %zu alerts, "
	    "want 0 with the rate 0", res.alerts);
	config_free(c);
}
END_TEST

static void
want_state(const char *addr, const char *state)
{
	struct store_recipient	 r;

	ck_assert_int_eq(store_lookup(store, addr, &r), BD_OK);
	ck_assert_msg(strcmp(r.state, state) == 0, "%s: got %s, want %s",
	    addr, r.state, state);
}

START_TEST(test_maint_expiry)
{
	struct bd_config	*c = testutil_config("SuppressionExpiry "
	    "hard:7d\nSenderSideAlertRate 0\n");
	struct bd_config	*off = testutil_config("SenderSideAlertRate 0");
	struct maint_result	 res;

	testutil_manual(store, "old@example.net", true, "hard",
	    NOW - 8 * 86400);
	testutil_manual(store, "new@example.net", true, "hard", NOW - 86400);
	testutil_manual(store, "mine@example.net", true, "manual",
	    NOW - 30 * 86400);
	maint_run(maint, store, off, NOW, &res);
	ck_assert_msg(res.expired == 0, "expiry off: got %lld ended, want 0",
	    (long long)res.expired);
	maint_run(maint, store, c, NOW, &res);
	ck_assert_msg(res.expired == 1, "got %lld ended, want 1",
	    (long long)res.expired);
	ck_assert_int_eq(n_infos, 1);
	want_state("old@example.net", "active");
	want_state("new@example.net", "suppressed");
	want_state("mine@example.net", "suppressed");
	maint_run(maint, store, c, NOW + 300, &res);
	ck_assert_msg(res.expired == 0, "second round: got %lld, want 0",
	    (long long)res.expired);
	config_free(c);
	config_free(off);
}
END_TEST

START_TEST(test_maint_store_failure_logged_once)
{
	struct bd_config	*c = testutil_config("SuppressionExpiry "
	    "hard:7d\nSenderSideAlertRate 5\n");
	struct maint_result	 res;
	sqlite3			*db;
	int			 i;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "DROP TABLE events", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	for (i = 0; i < 3; i++) {
		maint_run(maint, store, c, NOW + i * 300, &res);
		ck_assert(res.failed);
	}
	ck_assert_msg(n_warnings == 1, "got %d warnings, want 1 per incident",
	    n_warnings);
	config_free(c);
}
END_TEST

static Suite *
maint_suite(void)
{
	Suite	*s = suite_create("maint");
	TCase	*tc = tcase_create("duties");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_maint_warns_per_domain_once_an_hour);
	tcase_add_test(tc, test_maint_rate_zero_is_off);
	tcase_add_test(tc, test_maint_due_every_period);
	tcase_add_test(tc, test_maint_spike_once_per_domain_per_hour);
	tcase_add_test(tc, test_maint_expiry);
	tcase_add_test(tc, test_maint_store_failure_logged_once);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(maint_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
