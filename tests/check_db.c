/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * check_db.c - the SQL interface under the store (store/db.h), run
 * against both engines with the same assertions: SQLite in a temporary
 * file always, PostgreSQL when BD_TEST_PG names a server (a libpq
 * conninfo; tests/check_db_pg.sh starts a private one).  The store's
 * SQL is written once, so each statement form the store relies on is
 * checked on both: placeholders (also next to a quoted "?"), ON
 * CONFLICT DO NOTHING, RETURNING, NULL, transactions, and a lock held
 * by another connection failing as BD_EBUSY after the busy timeout.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/db.h"
#include "testutil.h"

static char	 tmpdir[256], target[512];

/* _i of the loop test: 0 SQLite, 1 PostgreSQL. */
static bool
engine(int i)
{
	const char	*pg = getenv("BD_TEST_PG");

	if (i == 0) {
		testutil_tmpdir("check_db", tmpdir, sizeof(tmpdir));
		(void)snprintf(target, sizeof(target), "%s/t.db", tmpdir);
		return true;
	}
	tmpdir[0] = '\0';
	if (pg == NULL || pg[0] == '\0')
		return false;
	(void)snprintf(target, sizeof(target), "%s", pg);
	return true;
}

static void
done(void)
{
	if (tmpdir[0] != '\0')
		testutil_rmtree(tmpdir);
}

static struct db *
open_fresh(int busy_ms)
{
	struct db	*db;
	char		 err[256];

	ck_assert_msg(db_open(target, 0, busy_ms, &db, err, sizeof(err)) ==
	    BD_OK, "open %s: %s", target, err);
	ck_assert_int_eq(db_exec(db, "DROP TABLE IF EXISTS t"), BD_OK);
	ck_assert_msg(db_exec(db, "CREATE TABLE t (id BIGINT PRIMARY KEY, "
	    "addr TEXT NOT NULL UNIQUE, n BIGINT)") == BD_OK, "create: %s",
	    db_errmsg(db));
	return db;
}

static int64_t
count(struct db *db)
{
	struct db_stmt	*st;
	int64_t		 n;

	ck_assert_int_eq(db_prepare(db, "SELECT count(*) FROM t", &st),
	    BD_OK);
	ck_assert_int_eq(db_step(st), DB_ROW);
	n = db_column_int64(st, 0);
	db_finalize(st);
	return n;
}

static void
insert(struct db *db, int64_t id, const char *addr, bool withn)
{
	struct db_stmt	*st;

	ck_assert_msg(db_prepare(db, "INSERT INTO t (id, addr, n) VALUES "
	    "(?, ?, ?) ON CONFLICT DO NOTHING", &st) == BD_OK, "prepare: %s",
	    db_errmsg(db));
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, addr, 320);
	if (withn)
		db_bind_int64(st, 3, id * 10);
	else
		db_bind_null(st, 3);
	ck_assert_msg(db_step(st) == DB_DONE, "insert %s: %s", addr,
	    db_errmsg(db));
	db_finalize(st);
}

START_TEST(test_db_target_kind)
{
	static const struct {
		const char	*target;
		enum db_kind	 want;
	} c[] = {
		{ "/var/lib/bounced/bounced.db", DB_SQLITE },
		{ "bounced.db", DB_SQLITE },
		{ "postgresql://bounced@db.example/bounced", DB_POSTGRES },
		{ "postgres:///bounced", DB_POSTGRES },
		{ "host=/run/postgresql dbname=bounced", DB_POSTGRES },
		{ "service=bounced", DB_POSTGRES },
		{ "./host=odd-file-name", DB_SQLITE },
	};
	size_t	 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		ck_assert_msg(db_target_kind(c[i].target) == c[i].want,
		    "%s: got %d, want %d", c[i].target,
		    db_target_kind(c[i].target), c[i].want);
}
END_TEST

START_TEST(test_db_rows_conflicts_nulls)
{
	struct db	*db;
	struct db_stmt	*st;
	const char	*t;

	if (!engine(_i))
		return;
	db = open_fresh(1000);
	insert(db, 1, "a@example.test", true);
	insert(db, 2, "b@example.test", false);
	insert(db, 3, "a@example.test", true);	/* same addr: ignored */
	ck_assert_msg(count(db) == 2, "rows: got %lld, want 2 (ON CONFLICT "
	    "DO NOTHING)", (long long)count(db));

	ck_assert_int_eq(db_prepare(db, "SELECT id, addr, n FROM t WHERE "
	    "addr = ? OR addr = ? ORDER BY id", &st), BD_OK);
	db_bind_text(st, 1, "a@example.test", 320);
	db_bind_text(st, 2, "b@example.testXXXX", 14);	/* capped */
	ck_assert_int_eq(db_step(st), DB_ROW);
	ck_assert_int_eq(db_column_int64(st, 0), 1);
	ck_assert_int_eq(db_column_int64(st, 2), 10);
	ck_assert_int_eq(db_step(st), DB_ROW);
	t = db_column_text(st, 1);
	ck_assert_msg(t != NULL && strcmp(t, "b@example.test") == 0,
	    "addr: got %s, want b@example.test", t ? t : "NULL");
	ck_assert_msg(db_column_null(st, 2), "n of b: got %s, want NULL",
	    db_column_text(st, 2));
	ck_assert_ptr_null(db_column_text(st, 2));
	ck_assert_int_eq(db_step(st), DB_DONE);
	/* Again, with new bindings. */
	db_reset(st);
	db_bind_text(st, 1, "none@example.test", 320);
	db_bind_text(st, 2, "none@example.test", 320);
	ck_assert_int_eq(db_step(st), DB_DONE);
	db_finalize(st);
	db_close(db);
	done();
}
END_TEST

/* A "?" inside a string literal is text, not a parameter. */
START_TEST(test_db_quoted_question_mark)
{
	struct db	*db;
	struct db_stmt	*st;
	const char	*t;

	if (!engine(_i))
		return;
	db = open_fresh(1000);
	ck_assert_msg(db_prepare(db, "SELECT 'is it?', ?", &st) == BD_OK,
	    "prepare: %s", db_errmsg(db));
	db_bind_text(st, 1, "it's 'quoted'; DROP TABLE t; --", 100);
	ck_assert_int_eq(db_step(st), DB_ROW);
	t = db_column_text(st, 0);
	ck_assert_msg(t != NULL && strcmp(t, "is it?") == 0, "literal: got "
	    "%s", t ? t : "NULL");
	t = db_column_text(st, 1);
	ck_assert_msg(t != NULL && strcmp(t,
	    "it's 'quoted'; DROP TABLE t; --") == 0, "parameter: got %s",
	    t ? t : "NULL");
	db_finalize(st);
	ck_assert_int_eq(count(db), 0);		/* the table is still there */
	db_close(db);
	done();
}
END_TEST

START_TEST(test_db_returning_and_transactions)
{
	struct db	*db;
	struct db_stmt	*st;

	if (!engine(_i))
		return;
	db = open_fresh(1000);
	ck_assert_int_eq(db_prepare(db, "INSERT INTO t (id, addr) VALUES "
	    "(?, ?) RETURNING id", &st), BD_OK);
	db_bind_int64(st, 1, 42);
	db_bind_text(st, 2, "r@example.test", 320);
	ck_assert_int_eq(db_step(st), DB_ROW);
	ck_assert_int_eq(db_column_int64(st, 0), 42);
	ck_assert_int_eq(db_step(st), DB_DONE);
	db_finalize(st);

	ck_assert_int_eq(db_begin(db, true), BD_OK);
	insert(db, 7, "gone@example.test", true);
	db_rollback(db);
	ck_assert_msg(count(db) == 1, "after rollback: got %lld rows, want 1",
	    (long long)count(db));
	ck_assert_int_eq(db_begin(db, true), BD_OK);
	insert(db, 8, "kept@example.test", true);
	ck_assert_int_eq(db_commit(db), BD_OK);
	ck_assert_int_eq(count(db), 2);
	db_close(db);
	done();
}
END_TEST

/* A write lock held elsewhere: BD_EBUSY after the busy timeout, not before. */
START_TEST(test_db_lock_is_busy)
{
	struct db	*a, *b;
	struct db_stmt	*st;
	struct timespec	 t0, t1;
	char		 err[256];
	enum db_step	 r;
	double		 ms;

	if (!engine(_i))
		return;
	a = open_fresh(1000);
	insert(a, 1, "x@example.test", true);
	ck_assert_int_eq(db_open(target, 0, 300, &b, err, sizeof(err)), BD_OK);
	ck_assert_int_eq(db_begin(a, true), BD_OK);
	ck_assert_int_eq(db_prepare(a, "UPDATE t SET n = n + 1 WHERE id = 1",
	    &st), BD_OK);
	ck_assert_int_eq(db_step(st), DB_DONE);
	db_finalize(st);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (db_kind(b) == DB_SQLITE && db_begin(b, true) != BD_OK)
		r = DB_ERROR;		/* SQLite: the lock is the database's */
	else {
		ck_assert_int_eq(db_prepare(b, "UPDATE t SET n = 0 WHERE id = 1",
		    &st), BD_OK);
		r = db_step(st);
		db_finalize(st);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	ck_assert_msg(r == DB_ERROR && db_last_status(b) == BD_EBUSY,
	    "second writer: got step %d, status %d (%s), want DB_ERROR and "
	    "BD_EBUSY", r, db_last_status(b), db_errmsg(b));
	ck_assert_msg(ms >= 250 && ms < 5000, "waited %.0f ms, want about "
	    "the 300 ms busy timeout", ms);
	db_rollback(b);
	ck_assert_int_eq(db_commit(a), BD_OK);
	db_close(b);
	db_close(a);
	done();
}
END_TEST

START_TEST(test_db_bad_target)
{
	struct db	*db;
	char		 err[256] = "";
	enum bd_status	 s;

	if (_i == 0)
		s = db_open("/nonexistent-dir/sub/x.db", 0, 100, &db, err,
		    sizeof(err));
	else
		s = db_open("host=/nonexistent-dir dbname=x", 0, 100, &db, err,
		    sizeof(err));
	ck_assert_msg(s == BD_EIO && db == NULL && err[0] != '\0', "got %d "
	    "(%s), want BD_EIO with a reason", s, err);
}
END_TEST

/* Passwords never reach a log line or a message. */
START_TEST(test_db_target_redact)
{
	static const struct {
		const char	*in, *want;
	} c[] = {
		{ "/var/lib/bounced/bounced.db", "/var/lib/bounced/bounced.db" },
		{ "postgresql://bounced:s3cr%40t@db.example:5432/bounced",
		    "postgresql://bounced:***@db.example:5432/bounced" },
		{ "postgresql://bounced@db.example/bounced?sslmode=require",
		    "postgresql://bounced@db.example/bounced?sslmode=require" },
		{ "postgres://db.example/x", "postgres://db.example/x" },
		{ "host=db dbname=b password=secret user=u",
		    "host=db dbname=b password=*** user=u" },
		{ "host=db password = 'a b\\' c' dbname=b",
		    "host=db password =*** dbname=b" },
		{ "host=db passwordfile=/x dbname=b",
		    "host=db passwordfile=/x dbname=b" },
	};
	char	 out[256], small[12];
	size_t	 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		db_target_redact(c[i].in, out, sizeof(out));
		ck_assert_msg(strcmp(out, c[i].want) == 0, "%s: got \"%s\", "
		    "want \"%s\"", c[i].in, out, c[i].want);
	}
	db_target_redact("postgresql://u:pw@h/db", small, sizeof(small));
	ck_assert_str_eq(small, "postgresql:");
}
END_TEST

/* "?N" reuses a parameter; a bare "?" after it is the next number. */
START_TEST(test_db_numbered_params)
{
	struct db	*db;
	struct db_stmt	*st;

	if (!engine(_i))
		return;
	db = open_fresh(1000);
	insert(db, 1, "a@x", true);
	insert(db, 2, "b@x", true);
	ck_assert_msg(db_prepare(db, "SELECT COUNT(*) FROM t WHERE "
	    "(id = ?1 OR n = ?1 * 10) AND addr <> ?", &st) == BD_OK, "%s",
	    db_errmsg(db));
	db_bind_int64(st, 1, 2);
	db_bind_text(st, 2, "a@x", 320);
	ck_assert_int_eq(db_step(st), DB_ROW);
	ck_assert_int_eq(db_column_int64(st, 0), 1);
	db_finalize(st);
	db_close(db);
	done();
}
END_TEST

/*
 * db_bind_text_ref: the text is read where it lies (cut to max bytes) when
 * the statement runs; db_unbind() leaves every parameter NULL, so a run
 * without new bindings can never read the caller's text again.
 */
START_TEST(test_db_bind_ref_and_unbind)
{
	struct db	*db;
	struct db_stmt	*st;
	char		*buf;

	if (!engine(_i))
		return;
	db = open_fresh(1000);
	ck_assert_msg(db_prepare(db, "INSERT INTO t (id, addr, n) VALUES "
	    "(?, ?, ?)", &st) == BD_OK, "prepare: %s", db_errmsg(db));
	buf = strdup("ref@example.test");
	ck_assert_ptr_nonnull(buf);
	db_bind_int64(st, 1, 1);
	db_bind_text_ref(st, 2, buf, 7);		/* "ref@exa" */
	db_bind_int64(st, 3, 10);
	ck_assert_msg(db_step(st) == DB_DONE, "insert: %s", db_errmsg(db));
	db_unbind(st);
	memset(buf, 'X', strlen(buf));
	free(buf);
	db_reset(st);
	/* a new id and n, but no text: addr is NULL, which NOT NULL refuses */
	db_bind_int64(st, 1, 2);
	db_bind_int64(st, 3, 20);
	ck_assert_int_eq(db_step(st), DB_ERROR);
	db_finalize(st);
	ck_assert_int_eq(db_prepare(db, "SELECT addr, n FROM t WHERE id = 1",
	    &st), BD_OK);
	ck_assert_int_eq(db_step(st), DB_ROW);
	ck_assert_str_eq(db_column_text(st, 0), "ref@exa");
	ck_assert_int_eq(db_column_int64(st, 1), 10);
	db_finalize(st);
	ck_assert_int_eq(count(db), 1);
	db_close(db);
	done();
}
END_TEST

/*
 * PostgreSQL: a connection the server ends (a restart, a fail-over) is
 * made again at the next statement, which prepares itself again; never
 * in the middle of a transaction.
 */
START_TEST(test_db_reconnect)
{
	struct db	*db, *admin;
	struct db_stmt	*st, *kill;
	char		 err[256];

	if (_i == 0 || !engine(_i))
		return;
	db = open_fresh(1000);
	insert(db, 1, "a@x", true);
	ck_assert_int_eq(db_prepare(db, "SELECT COUNT(*) FROM t WHERE id = ?",
	    &st), BD_OK);
	ck_assert_int_eq(db_open(target, 0, 1000, &admin, err, sizeof(err)),
	    BD_OK);
	ck_assert_int_eq(db_prepare(admin, "SELECT pg_terminate_backend(pid) "
	    "FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND "
	    "datname = current_database() AND backend_type = "
	    "'client backend'", &kill), BD_OK);
	ck_assert_int_eq(db_step(kill), DB_ROW);
	db_finalize(kill);
	/* the statement in flight fails once, then all is well again */
	db_bind_int64(st, 1, 1);
	(void)db_step(st);
	db_reset(st);
	ck_assert_msg(db_step(st) == DB_ROW, "after the reconnect: %s",
	    db_errmsg(db));
	ck_assert_int_eq(db_column_int64(st, 0), 1);
	db_finalize(st);
	/* a transaction that lost its session fails, and is not resumed */
	ck_assert_int_eq(db_begin(db, true), BD_OK);
	ck_assert_int_eq(db_exec(admin, "SELECT pg_terminate_backend(pid) "
	    "FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND "
	    "datname = current_database() AND backend_type = "
	    "'client backend'"), BD_OK);
	ck_assert_int_ne(db_exec(db, "INSERT INTO t (id, addr) VALUES "
	    "(9, 'z@x')"), BD_OK);
	ck_assert_int_ne(db_exec(db, "INSERT INTO t (id, addr) VALUES "
	    "(9, 'z@x')"), BD_OK);
	db_rollback(db);
	ck_assert_int_eq(count(db), 1);
	/*
	 * a session ended while idle: the next transaction starts on a
	 * new one at its first try (BEGIN is where it is found out)
	 */
	ck_assert_int_eq(db_exec(admin, "SELECT pg_terminate_backend(pid) "
	    "FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND "
	    "datname = current_database() AND backend_type = "
	    "'client backend'"), BD_OK);
	ck_assert_msg(db_begin(db, true) == BD_OK, "BEGIN after the session "
	    "ended: %s", db_errmsg(db));
	ck_assert_int_eq(db_exec(db, "INSERT INTO t (id, addr) VALUES "
	    "(9, 'z@x')"), BD_OK);
	ck_assert_int_eq(db_commit(db), BD_OK);
	ck_assert_int_eq(count(db), 2);
	db_close(admin);
	db_close(db);
}
END_TEST

static void
got_note(void *arg, const char *payload)
{
	(void)snprintf(arg, 64, "%s", payload);
}

/* PostgreSQL: a NOTIFY on the channel reaches a listener's poll. */
START_TEST(test_db_listen_notify)
{
	struct db	*a, *b;
	struct pollfd	 pfd;
	char		 err[256], got[64] = "";
	int		 n = 0, tries;

	if (_i == 0 || !engine(_i))
		return;
	ck_assert_int_eq(db_open(target, DB_RDONLY, 1000, &a, err,
	    sizeof(err)), BD_OK);
	ck_assert_int_eq(db_open(target, 0, 1000, &b, err, sizeof(err)),
	    BD_OK);
	ck_assert_int_eq(db_listen(a, "bounced_state"), BD_OK);
	ck_assert_int_eq(db_exec(b, "NOTIFY bounced_state, 'x@y.example'"),
	    BD_OK);
	pfd.fd = db_socket(a);
	pfd.events = POLLIN;
	for (tries = 0; n == 0 && tries < 50; tries++) {
		(void)poll(&pfd, 1, 100);
		n = db_notifications(a, got_note, got);
	}
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(got, "x@y.example");
	db_close(b);
	db_close(a);
}
END_TEST

static Suite *
db_suite(void)
{
	Suite	*s = suite_create("db");
	TCase	*tc = tcase_create("engines");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_db_target_kind);
	tcase_add_loop_test(tc, test_db_rows_conflicts_nulls, 0, 2);
	tcase_add_loop_test(tc, test_db_quoted_question_mark, 0, 2);
	tcase_add_loop_test(tc, test_db_returning_and_transactions, 0, 2);
	tcase_add_loop_test(tc, test_db_lock_is_busy, 0, 2);
	tcase_add_loop_test(tc, test_db_bad_target, 0, 2);
	tcase_add_test(tc, test_db_target_redact);
	tcase_add_loop_test(tc, test_db_numbered_params, 0, 2);
	tcase_add_loop_test(tc, test_db_bind_ref_and_unbind, 0, 2);
	tcase_add_loop_test(tc, test_db_reconnect, 0, 2);
	tcase_add_loop_test(tc, test_db_listen_notify, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	if (getenv("BD_TEST_PG") != NULL)
		printf("check_db: SQLite and PostgreSQL (%s)\n",
		    getenv("BD_TEST_PG"));
	else
		printf("check_db: SQLite only (BD_TEST_PG unset)\n");
	return testutil_run(db_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
