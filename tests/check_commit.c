/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * check_commit.c - unit tests of the group commit (src/bounced/
 * milter_commit.c) on a real SQLite file: bounces recorded at once from
 * many threads are all recorded, and with the database locked by another
 * process a bounce waits at most about one busy timeout, never one per
 * group in turn (the MTA's milter timeouts would go off).  More threads
 * than a group holds, each recording again as soon as answered: every
 * thread is woken when its bounce is done or when it is to lead (a lost
 * wake-up hangs the test until its timeout).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bounced/milter_int.h"
#include "log/log.h"
#include "store/store.h"
#include "testutil.h"

#define NOW		1795478400
#define NTHREADS	8	/* at most, in run_jobs() */
#define BUSY_MS		1000
#define CROWD		100	/* threads: more than GC_GROUP_MAX (64) */
#define ROUNDS		5	/* bounces each, one after the other */

static char			 tmpdir[256], dbpath[300];
static struct store		*setup_st;
static const struct state_policy pol = { .soft_limit = 3,
    .soft_window = 7 * 86400 };

static void
setup(void)
{
	testutil_tmpdir("check_commit", tmpdir, sizeof(tmpdir));
	testutil_store(tmpdir, dbpath, sizeof(dbpath), &setup_st);
	log_set_quiet(true);
}

static void
teardown(void)
{
	store_close(setup_st);
	log_set_quiet(false);
	testutil_rmtree(tmpdir);
}

static int64_t
now_ms(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* One thread's bounce: its own connection, as bounced's workers. */
struct job {
	char		 rcpt[64];
	int		 delay_ms;	/* before recording */
	enum bd_status	 status;
	size_t		 n_new;
	int64_t		 waited_ms;	/* inside milter_commit_record() */
	bool		*ticket;	/* from milter_commit_coming() */
};

static void *
record_one(void *arg)
{
	struct job	*j = arg;
	struct store	*st = NULL;
	struct bd_event	 ev;
	char		 err[256];
	int64_t		 t0;

	ck_assert_int_eq(store_open(dbpath, STORE_NOCREATE, BUSY_MS, &st,
	    err, sizeof(err)), BD_OK);
	memset(&ev, 0, sizeof(ev));
	ev.when = NOW;
	ev.recipient = j->rcpt;
	ev.action = EV_ACT_FAILED;
	ev.status = "5.1.1";
	ev.diagnostic = "smtp; 550 5.1.1 no such user";
	ev.verdict.reason = "userunknown";
	ev.verdict.hard = true;
	ev.verdict.who = EV_WHO_RECIPIENT;
	ev.source = EV_SRC_DSN_INTERNAL;
	ev.trusted = true;
	if (j->delay_ms > 0)
		(void)usleep((useconds_t)j->delay_ms * 1000);
	t0 = now_ms();
	j->status = milter_commit_record(st, &ev, 1, &pol, NOW, &j->n_new,
	    err, sizeof(err), j->ticket);
	j->waited_ms = now_ms() - t0;
	store_close(st);
	return NULL;
}

/* Run n jobs at once; job i starts after delays[i] ms. */
static void
run_jobs(struct job *jobs, size_t n)
{
	pthread_t	 t[NTHREADS];
	size_t		 i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, record_one,
		    &jobs[i]), 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
}

/* One thread of the crowd: ROUNDS bounces, each once the last is answered. */
struct crowd_job {
	int		 id;
	int		 ok;		/* answered BD_OK with one new event */
};

static void *
record_rounds(void *arg)
{
	struct crowd_job *j = arg;
	struct store	*st = NULL;
	struct bd_event	 ev;
	char		 err[256], rcpt[64];
	size_t		 n_new;
	int		 k;
	bool		 coming = false, gone = false;

	ck_assert_int_eq(store_open(dbpath, STORE_NOCREATE, BUSY_MS, &st,
	    err, sizeof(err)), BD_OK);
	for (k = 0; k < ROUNDS; k++) {
		(void)snprintf(rcpt, sizeof(rcpt), "c%d-%d@example.test",
		    j->id, k);
		memset(&ev, 0, sizeof(ev));
		ev.when = NOW;
		ev.recipient = rcpt;
		ev.action = EV_ACT_FAILED;
		ev.status = "4.2.2";
		ev.diagnostic = "smtp; 452 4.2.2 mailbox full";
		ev.verdict.reason = "mailboxfull";
		ev.verdict.who = EV_WHO_RECIPIENT;
		ev.source = EV_SRC_DSN_INTERNAL;
		ev.trusted = true;
		n_new = 0;
		/* announced, as the milter does: leaders wait for them */
		milter_commit_coming(&coming);
		if (k % 2 == 1) {
			/* and one that turns out to have nothing to record */
			milter_commit_coming(&gone);
			milter_commit_gone(&gone);
		}
		if (milter_commit_record(st, &ev, 1, &pol, NOW, &n_new, err,
		    sizeof(err), &coming) == BD_OK && n_new == 1)
			j->ok++;
		ck_assert(!coming);
	}
	store_close(st);
	return NULL;
}

START_TEST(test_commit_crowd_all_answered)
{
	static struct crowd_job	 jobs[CROWD];
	pthread_t		 t[CROWD];
	int			 i;

	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < CROWD; i++) {
		jobs[i].id = i;
		ck_assert_int_eq(pthread_create(&t[i], NULL, record_rounds,
		    &jobs[i]), 0);
	}
	for (i = 0; i < CROWD; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	for (i = 0; i < CROWD; i++)
		ck_assert_msg(jobs[i].ok == ROUNDS, "thread %d: %d of %d "
		    "recorded", i, jobs[i].ok, ROUNDS);
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM events"), CROWD * ROUNDS);
}
END_TEST

START_TEST(test_commit_all_recorded)
{
	struct job	 jobs[NTHREADS];
	size_t		 i;

	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < NTHREADS; i++)
		(void)snprintf(jobs[i].rcpt, sizeof(jobs[i].rcpt),
		    "u%zu@example.test", i);
	run_jobs(jobs, NTHREADS);
	for (i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(jobs[i].status, BD_OK);
		ck_assert_uint_eq(jobs[i].n_new, 1);
		testutil_assert_state(setup_st, jobs[i].rcpt, "suppressed",
		    "hard", 0);
	}
}
END_TEST

START_TEST(test_commit_locked_waits_one_timeout)
{
	struct job	 jobs[NTHREADS];
	sqlite3		*locker;
	size_t		 i;

	/* another process's write lock, held past everyone's timeout */
	ck_assert_int_eq(sqlite3_open(dbpath, &locker), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(locker, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < NTHREADS; i++) {
		(void)snprintf(jobs[i].rcpt, sizeof(jobs[i].rcpt),
		    "l%zu@example.test", i);
		/* the first leads; the others queue while it waits */
		jobs[i].delay_ms = i == 0 ? 0 : BUSY_MS / 10;
	}
	run_jobs(jobs, NTHREADS);
	(void)sqlite3_exec(locker, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(locker);
	for (i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(jobs[i].status, BD_EBUSY);
		ck_assert_uint_eq(jobs[i].n_new, 0);
		/*
		 * One busy timeout, not two (the others waited 0.9 of one
		 * with the fix, 1.9 without): a bounce queued behind a
		 * group that gave up gives up with it.
		 */
		ck_assert_msg(jobs[i].waited_ms < BUSY_MS * 3 / 2,
		    "job %zu waited %lld ms (busy timeout %d ms)", i,
		    (long long)jobs[i].waited_ms, BUSY_MS);
	}
	/* and nothing was recorded */
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM events"), 0);
}
END_TEST

/*
 * A leader waits for a bounce announced as coming (commit delay): one
 * group, one commit, for the two.  The delay here is long (LONG_DELAY),
 * so that the test does not depend on the scheduler: the leader must
 * stop waiting when the bounce arrives, not when the delay runs out.
 */
#define LONG_DELAY_US	(20L * 1000000)
#define ARRIVES_MS	300

START_TEST(test_commit_leader_waits_for_coming)
{
	struct job	 jobs[2];
	pthread_t	 t[2];
	bool		 ticket = false;
	unsigned long	 g0;

	g0 = milter_commit_set_delay(LONG_DELAY_US);
	memset(jobs, 0, sizeof(jobs));
	(void)snprintf(jobs[0].rcpt, sizeof(jobs[0].rcpt), "lead@example.test");
	(void)snprintf(jobs[1].rcpt, sizeof(jobs[1].rcpt), "late@example.test");
	milter_commit_coming(&ticket);	/* job 1's, being parsed */
	jobs[1].ticket = &ticket;
	jobs[1].delay_ms = ARRIVES_MS;
	ck_assert_int_eq(pthread_create(&t[0], NULL, record_one, &jobs[0]), 0);
	ck_assert_int_eq(pthread_create(&t[1], NULL, record_one, &jobs[1]), 0);
	ck_assert_int_eq(pthread_join(t[0], NULL), 0);
	ck_assert_int_eq(pthread_join(t[1], NULL), 0);
	ck_assert_int_eq(jobs[0].status, BD_OK);
	ck_assert_int_eq(jobs[1].status, BD_OK);
	ck_assert_uint_eq(jobs[0].n_new, 1);
	ck_assert_uint_eq(jobs[1].n_new, 1);
	ck_assert(!ticket);
	/*
	 * The leader waited for job 1 (one group: without the wait, job 1
	 * would come 300 ms after the first commit and make a second), and
	 * no longer than it took.  No lower bound on the wait: on a busy
	 * host the leader's thread may itself start late.
	 */
	ck_assert_uint_eq(milter_commit_set_delay(LONG_DELAY_US) - g0, 1);
	ck_assert_msg(jobs[0].waited_ms < LONG_DELAY_US / 1000 / 2, "leader "
	    "waited %lld ms", (long long)jobs[0].waited_ms);
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM events"), 2);
}
END_TEST

/* A bounce that will not come after all lets the leader go at once. */
START_TEST(test_commit_gone_releases_leader)
{
	struct job	 job;
	pthread_t	 t;
	bool		 ticket = false;
	unsigned long	 g0;

	g0 = milter_commit_set_delay(LONG_DELAY_US);
	memset(&job, 0, sizeof(job));
	(void)snprintf(job.rcpt, sizeof(job.rcpt), "lead@example.test");
	milter_commit_coming(&ticket);
	ck_assert_int_eq(pthread_create(&t, NULL, record_one, &job), 0);
	(void)usleep(ARRIVES_MS * 1000);
	milter_commit_gone(&ticket);
	ck_assert(!ticket);
	milter_commit_gone(&ticket);	/* twice: nothing more */
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(job.status, BD_OK);
	ck_assert_uint_eq(job.n_new, 1);
	ck_assert_msg(job.waited_ms < LONG_DELAY_US / 1000 / 2, "leader "
	    "waited %lld ms", (long long)job.waited_ms);
	ck_assert_uint_eq(milter_commit_set_delay(LONG_DELAY_US) - g0, 1);
}
END_TEST

/* With none coming, a bounce alone does not wait at all. */
START_TEST(test_commit_alone_does_not_wait)
{
	struct job	 job;

	(void)milter_commit_set_delay(LONG_DELAY_US);
	memset(&job, 0, sizeof(job));
	(void)snprintf(job.rcpt, sizeof(job.rcpt), "alone@example.test");
	run_jobs(&job, 1);
	ck_assert_int_eq(job.status, BD_OK);
	ck_assert_msg(job.waited_ms < LONG_DELAY_US / 1000 / 2, "waited %lld "
	    "ms", (long long)job.waited_ms);
}
END_TEST

/*
 * One bounce of a group fails (a trigger refuses its recipient): it alone
 * fails, the others of the group are recorded.  The group is first
 * recorded whole, without savepoints, then again one by one: one group.
 */
#define GROUP		4

START_TEST(test_commit_one_failure_alone)
{
	struct job	 jobs[GROUP];
	bool		 tickets[GROUP];
	sqlite3		*db;
	unsigned long	 g0;
	size_t		 i;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE TRIGGER refuse BEFORE "
	    "INSERT ON events WHEN NEW.recipient = 'bad@example.test' "
	    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	g0 = milter_commit_set_delay(LONG_DELAY_US);
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < GROUP; i++) {
		(void)snprintf(jobs[i].rcpt, sizeof(jobs[i].rcpt),
		    i == 1 ? "bad@example.test" : "g%zu@example.test", i);
		/* all announced: the first to arrive waits for the others */
		tickets[i] = false;
		milter_commit_coming(&tickets[i]);
		jobs[i].ticket = &tickets[i];
	}
	run_jobs(jobs, GROUP);
	ck_assert_uint_eq(milter_commit_set_delay(LONG_DELAY_US) - g0, 1);
	for (i = 0; i < GROUP; i++) {
		ck_assert(!tickets[i]);
		if (i == 1) {
			ck_assert_int_ne(jobs[i].status, BD_OK);
			ck_assert_uint_eq(jobs[i].n_new, 0);
			continue;
		}
		ck_assert_int_eq(jobs[i].status, BD_OK);
		ck_assert_uint_eq(jobs[i].n_new, 1);
		testutil_assert_state(setup_st, jobs[i].rcpt, "suppressed",
		    "hard", 0);
	}
	ck_assert_int_eq(testutil_count_rows(dbpath,
	    "SELECT COUNT(*) FROM events"), GROUP - 1);
}
END_TEST

static Suite *
commit_suite(void)
{
	Suite	*s = suite_create("commit");
	TCase	*tc = tcase_create("group");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_commit_all_recorded);
	tcase_add_test(tc, test_commit_locked_waits_one_timeout);
	tcase_add_test(tc, test_commit_crowd_all_answered);
	tcase_add_test(tc, test_commit_leader_waits_for_coming);
	tcase_add_test(tc, test_commit_gone_releases_leader);
	tcase_add_test(tc, test_commit_alone_does_not_wait);
	tcase_add_test(tc, test_commit_one_failure_alone);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(commit_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
