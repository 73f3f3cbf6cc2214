/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * check_dbpool.c - unit tests of bounced's connections (src/bounced/
 * dbpool.c) on a real SQLite file in a temporary folder: a thread's
 * connections are its own while it runs, go to the next thread when it
 * ends (libmilter ends and starts threads as connections come and go,
 * and opening one cost more than a bounce), the group commit's
 * connection is one for all, and nothing is handed out once stopped.
 * A connection is told from another by a TEMP table, which only the
 * connection that made it sees (a pointer could be malloc's reuse).
 */
#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounced/dbpool.h"
#include "log/log.h"
#include "store/store.h"
#include "store/store_int.h"	/* store_exec(): a mark on a connection */
#include "testutil.h"

static char	 tmpdir[256], dbpath[300];

static void
setup(void)
{
	testutil_tmpdir("check_dbpool", tmpdir, sizeof(tmpdir));
	(void)snprintf(dbpath, sizeof(dbpath), "%s/bounced.db", tmpdir);
	log_set_quiet(true);
	ck_assert(dbpool_start(dbpath, 1000, 100, true));
}

static void
teardown(void)
{
	dbpool_stop();
	log_set_quiet(false);
	testutil_rmtree(tmpdir);
}

/* What one thread was handed, and whether its connections bore a mark. */
struct got {
	struct store	*rw, *ro;
	bool		 mark;		/* mark them (or else look for it) */
	bool		 rw_marked, ro_marked;
	pthread_barrier_t *hold;	/* wait here before ending, if set */
};

/* Mark s (its own TEMP table), or tell whether it bears the mark. */
static bool
mark(struct store *s, bool make)
{
	if (s == NULL)
		return false;
	if (make)
		return store_exec(s, "CREATE TEMP TABLE pool_mark (x)") ==
		    BD_OK;
	return store_exec(s, "SELECT x FROM pool_mark") == BD_OK;
}

static void *
take(void *arg)
{
	struct got	*g = arg;

	g->rw = dbpool_worker();
	g->ro = dbpool_lookup();
	g->rw_marked = mark(g->rw, g->mark);
	g->ro_marked = mark(g->ro, g->mark);
	if (g->hold != NULL)
		(void)pthread_barrier_wait(g->hold);
	return NULL;
}

/* One thread, run to its end. */
static void
run_thread(struct got *g)
{
	pthread_t	 t;

	ck_assert_int_eq(pthread_create(&t, NULL, take, g), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
}

START_TEST(test_dbpool_ended_threads_connections_reused)
{
	struct got	 a = { .mark = true }, b = { 0 };

	run_thread(&a);
	ck_assert_ptr_nonnull(a.rw);
	ck_assert_ptr_nonnull(a.ro);
	ck_assert_ptr_ne(a.rw, a.ro);
	ck_assert(a.rw_marked && a.ro_marked);
	/* the next thread is handed the same two: nothing opened again */
	run_thread(&b);
	ck_assert(b.rw_marked);
	ck_assert(b.ro_marked);
	/* and they work */
	ck_assert_int_eq(store_batch_begin(b.rw), BD_OK);
	ck_assert_int_eq(store_batch_end(b.rw, true), BD_OK);
}
END_TEST

START_TEST(test_dbpool_running_threads_never_share)
{
	pthread_barrier_t	 hold;
	pthread_t		 t[3];
	struct got		 g[3];
	size_t			 i, j;

	ck_assert_int_eq(pthread_barrier_init(&hold, NULL, 4), 0);
	for (i = 0; i < 3; i++) {
		memset(&g[i], 0, sizeof(g[i]));
		g[i].mark = true;	/* fails on a connection marked already */
		g[i].hold = &hold;
		ck_assert_int_eq(pthread_create(&t[i], NULL, take, &g[i]), 0);
	}
	(void)pthread_barrier_wait(&hold);	/* all three hold theirs */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	(void)pthread_barrier_destroy(&hold);
	for (i = 0; i < 3; i++) {
		ck_assert_ptr_nonnull(g[i].rw);
		ck_assert(g[i].rw_marked && g[i].ro_marked);
		for (j = 0; j < i; j++) {
			ck_assert_ptr_ne(g[i].rw, g[j].rw);
			ck_assert_ptr_ne(g[i].ro, g[j].ro);
		}
	}
}
END_TEST

START_TEST(test_dbpool_one_recorder)
{
	struct got	 a = { 0 };
	struct store	*r = dbpool_recorder();

	ck_assert_ptr_nonnull(r);
	ck_assert(mark(r, true));
	ck_assert(mark(dbpool_recorder(), false));
	ck_assert(!mark(dbpool_main(), false));
	run_thread(&a);
	ck_assert_ptr_nonnull(a.rw);
	ck_assert(!a.rw_marked && !a.ro_marked);
}
END_TEST

START_TEST(test_dbpool_nothing_after_stop)
{
	struct got	 a = { 0 };

	run_thread(&a);			/* one of each kind waits */
	dbpool_stop();
	ck_assert_ptr_null(dbpool_recorder());
	run_thread(&a);
	ck_assert_ptr_null(a.rw);
	ck_assert_ptr_null(a.ro);
	/* teardown stops again: a second stop is harmless */
}
END_TEST

static Suite *
dbpool_suite(void)
{
	Suite	*s = suite_create("dbpool");
	TCase	*tc = tcase_create("connections");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dbpool_ended_threads_connections_reused);
	tcase_add_test(tc, test_dbpool_running_threads_never_share);
	tcase_add_test(tc, test_dbpool_one_recorder);
	tcase_add_test(tc, test_dbpool_nothing_after_stop);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(dbpool_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
