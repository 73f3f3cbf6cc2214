/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * testutil.c - helpers shared by the Check unit tests (tests/check_*.c):
 * reading and writing a file whole (bodies may hold NUL bytes, so lengths
 * are explicit), a private temporary folder and its removal without a
 * shell, a store and a config snapshot for a test, assertions on what a
 * store holds (a recipient's state, a row count), locating ../shared
 * relative to the source tree (STYLE.md 3.11: tests skip with 77 when it
 * is absent) and the tree's own data folders, and the srunner
 * boilerplate of main().
 *
 * It must not: log, read the clock, or touch anything outside the
 * folders it is given.  Not thread-safe (nftw); tests are single-threaded.
 */
#define _XOPEN_SOURCE	700	/* nftw(3) */

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"

#include "util/buf.h"
#include "conf/conf.h"
#include "store/store.h"
#include "testutil.h"

/*
 * testutil_read_file - read a whole file
 *
 * Arguments: path; len, set to the number of bytes read.
 *
 * Returns a NUL-terminated copy (the caller frees it), or NULL when the
 * file cannot be opened.  A read error fails the test.
 */
char *
testutil_read_file(const char *path, size_t *len)
{
	struct buf	 b;
	FILE		*fp;
	char		 chunk[8192], *p;
	size_t		 n;

	*len = 0;
	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		ck_assert_int_eq(buf_append(&b, chunk, n), BD_OK);
	ck_assert_msg(!ferror(fp), "read %s: %s", path, strerror(errno));
	(void)fclose(fp);
	*len = b.len;
	p = buf_steal(&b);	/* "" for an empty file */
	ck_assert_ptr_nonnull(p);
	return p;
}

/*
 * testutil_read_in - read dir/name whole
 *
 * Returns what testutil_read_file() returns; a file that cannot be
 * opened fails the test, naming it.
 */
char *
testutil_read_in(const char *dir, const char *name, size_t *len)
{
	char	 path[4096];
	char	*p;
	int	 n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_msg(n > 0 && (size_t)n < sizeof(path), "path too long");
	p = testutil_read_file(path, len);
	ck_assert_msg(p != NULL, "cannot read %s: %s", path, strerror(errno));
	return p;
}

/*
 * testutil_write_file - create or replace a file
 *
 * Arguments: path; p and len, the bytes.  Failure fails the test.
 */
void
testutil_write_file(const char *path, const void *p, size_t len)
{
	FILE	*fp;

	ck_assert_msg((fp = fopen(path, "wb")) != NULL, "create %s: %s",
	    path, strerror(errno));
	ck_assert_msg(fwrite(p, 1, len, fp) == len && fclose(fp) == 0,
	    "write %s: %s", path, strerror(errno));
}

/*
 * testutil_tmpdir - create a private folder for one test
 *
 * Arguments: prefix, such as "check_milter"; out and outlen receive
 * "$TMPDIR/prefix.XXXXXX" with the X's filled in (TMPDIR unset or empty:
 * /tmp).  Failure fails the test.
 */
void
testutil_tmpdir(const char *prefix, char *out, size_t outlen)
{
	const char	*t = getenv("TMPDIR");
	int		 n;

	n = snprintf(out, outlen, "%s/%s.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp", prefix);
	ck_assert_msg(n > 0 && (size_t)n < outlen, "temporary path too long");
	ck_assert_msg(mkdtemp(out) != NULL, "mkdtemp %s: %s", out,
	    strerror(errno));
}

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) == 0 ||
	    errno == ENOENT ? 0 : -1;
}

/*
 * testutil_rmtree - remove a test's folder and what it holds
 *
 * Arguments: dir; an empty string or a missing folder is left alone.
 * Notes: depth first, symbolic links are removed, never followed.
 */
void
testutil_rmtree(const char *dir)
{
	if (dir == NULL || *dir == '\0')
		return;
	if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0 &&
	    errno != ENOENT)
		ck_abort_msg("remove %s: %s", dir, strerror(errno));
}

/*
 * testutil_pg - the PostgreSQL server the store's tests run against
 * (BD_TEST_PG, a libpq conninfo: tests/check_store_pg.sh), or NULL: SQLite
 */
const char *
testutil_pg(void)
{
	const char	*pg = getenv("BD_TEST_PG");

	return pg != NULL && pg[0] != '\0' ? pg : NULL;
}

/*
 * testutil_pg_database - a new, empty database on testutil_pg()'s
 * server; its conninfo into target (libpq takes the last "dbname")
 *
 * Returns snprintf()'s count for target.
 */
int
testutil_pg_database(char *target, size_t targetlen)
{
	static unsigned	 seq;
	struct db	*db;
	char		 err[256], sql[128], name[64];
	enum bd_status	 s;

	(void)snprintf(name, sizeof(name), "bdt_%ld_%u", (long)getpid(),
	    ++seq);
	s = db_open(testutil_pg(), 0, 5000, &db, err, sizeof(err));
	ck_assert_msg(s == BD_OK, "PostgreSQL %s: %s", testutil_pg(), err);
	(void)snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	ck_assert_msg(db_exec(db, sql) == BD_OK, "%s: %s", sql,
	    db_errmsg(db));
	db_close(db);
	return snprintf(target, targetlen, "%s dbname=%s", testutil_pg(),
	    name);
}

/*
 * testutil_store - a fresh store for one test
 *
 * Arguments: dir, the test's folder; path and pathlen receive
 * "dir/bounced.db"; out, the handle (store_close() it).
 * Notes: read-write, busy timeout 2 s; failure fails the test.
 */
void
testutil_store(const char *dir, char *path, size_t pathlen,
    struct store **out)
{
	char		 err[256];
	enum bd_status	 s;
	int		 n;

	if (testutil_pg() != NULL)
		n = testutil_pg_database(path, pathlen);
	else
		n = snprintf(path, pathlen, "%s/bounced.db", dir);
	ck_assert_msg(n > 0 && (size_t)n < pathlen, "database path too long");
	s = store_open(path, 0, 2000, out, err, sizeof(err));
	ck_assert_msg(s == BD_OK, "store_open %s: got %s (%s), want success",
	    path, bd_strerror(s), err);
}

/*
 * testutil_manual - a manual suppression or unsuppression
 *
 * Arguments: st; addr; on, suppress (else unsuppress); reason, for a
 * suppression (NULL: manual); when, its date.  Recorded as an operator's
 * command (EV_SRC_MANUAL, by "testutil"); failure fails the test.
 */
void
testutil_manual(struct store *st, const char *addr, bool on,
    const char *reason, int64_t when)
{
	struct store_manual	 m;
	enum bd_status		 s;

	memset(&m, 0, sizeof(m));
	m.address = addr;
	m.suppress = on;
	m.reason = reason;
	m.by = "testutil";
	m.when = when;
	m.source = EV_SRC_MANUAL;
	s = store_manual(st, &m, 1, NULL);
	ck_assert_msg(s == BD_OK, "%s %s: got %s, want success", on ?
	    "suppress" : "unsuppress", addr, bd_strerror(s));
}

/*
 * testutil_assert_state - what the store holds about one recipient
 *
 * Arguments: st; addr, looked up as given; want_state, want_reason and
 * want_count, the state ("active", "soft", "suppressed"), the reason ("",
 * "hard", ...) and the soft-bounce count it must have.
 * Notes: a failed lookup or any difference fails the test, naming addr.
 */
void
testutil_assert_state(struct store *st, const char *addr,
    const char *want_state, const char *want_reason, unsigned want_count)
{
	struct store_recipient	 rc;
	enum bd_status		 r;

	r = store_lookup(st, addr, &rc);
	ck_assert_msg(r == BD_OK, "lookup %s: got %s, want ok", addr,
	    bd_strerror(r));
	ck_assert_msg(strcmp(rc.state, want_state) == 0,
	    "%s state: got %s, want %s", addr, rc.state, want_state);
	ck_assert_msg(strcmp(rc.reason, want_reason) == 0,
	    "%s reason: got \"%s\", want \"%s\"", addr, rc.reason,
	    want_reason);
	ck_assert_msg(rc.soft_count == want_count,
	    "%s soft count: got %u, want %u", addr, rc.soft_count,
	    want_count);
}

/*
 * testutil_count_rows - the first column of a query's first row
 *
 * Arguments: dbpath, the database, opened read-only on its own handle (so
 * it sees what the store has committed); sql, a query such as
 * "SELECT COUNT(*) FROM events".
 *
 * Returns that value, or -1 when the query yields no row.  A database
 * that does not open or a query that does not prepare fails the test.
 */
long long
testutil_count_rows(const char *dbpath, const char *sql)
{
	struct db	*db;
	struct db_stmt	*s;
	char		 err[256];
	long long	 n = -1;

	ck_assert_msg(db_open(dbpath, DB_RDONLY, 2000, &db, err,
	    sizeof(err)) == BD_OK, "open %s: %s", dbpath, err);
	ck_assert_msg(db_prepare(db, sql, &s) == BD_OK, "%s: %s", sql,
	    db_errmsg(db));
	if (db_step(s) == DB_ROW)
		n = db_column_int64(s, 0);
	db_finalize(s);
	db_close(db);
	return n;
}

/*
 * testutil_config - a configuration snapshot from text
 *
 * Arguments: text, bounced.conf(5) lines; errors name it "t.conf".
 *
 * Returns the snapshot (one reference: config_free() or hand it over).
 * A text that does not parse fails the test with the parser's message.
 */
struct bd_config *
testutil_config(const char *text)
{
	struct bd_config	*c = NULL;
	char			 err[512] = "";
	enum bd_status		 s;

	s = config_parse("t.conf", text, strlen(text), &c, err, sizeof(err));
	ck_assert_msg(s == BD_OK, "parse \"%s\": got %s (%s), want success",
	    text, bd_strerror(s), err);
	return c;
}

/* "$TOP_SRCDIR/" pre sub into out (TOP_SRCDIR unset or empty: "."). */
static bool
top_path(const char *pre, const char *sub, char *out, size_t outlen)
{
	const char	*top = getenv("TOP_SRCDIR");
	struct stat	 sb;
	int		 n;

	n = snprintf(out, outlen, "%s/%s%s", top != NULL && *top != '\0' ?
	    top : ".", pre, sub);
	if (n < 0 || (size_t)n >= outlen)
		return false;
	return stat(out, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/*
 * testutil_shared - where the shared reference material is
 *
 * Arguments: sub, a path below ../shared ("fixtures/postfix"); out and
 * outlen receive "$TOP_SRCDIR/../shared/sub" (TOP_SRCDIR unset or empty:
 * ".").
 *
 * Returns whether that is a folder; a test that needs it exits 77
 * (skip) when it is not.
 */
bool
testutil_shared(const char *sub, char *out, size_t outlen)
{
	return top_path("../shared/", sub, out, outlen);
}

/*
 * testutil_srcdir - where a folder of the source tree is
 *
 * Arguments: sub, a path below the top of the source tree
 * ("tests/data/dsn"); out and outlen receive "$TOP_SRCDIR/sub"
 * (TOP_SRCDIR unset or empty: ".").
 *
 * Returns whether that is a folder.  Unlike ../shared it is part of the
 * tree: a test reading from it fails, not skips, when it is missing.
 */
bool
testutil_srcdir(const char *sub, char *out, size_t outlen)
{
	return top_path("", sub, out, outlen);
}

/*
 * testutil_run - the body of every check_*.c main()
 *
 * Arguments: s, the suite; the runner takes it over.
 *
 * Returns the number of failed tests.  CK_FORK, CK_VERBOSITY and
 * CK_RUN_CASE work as Check documents them.
 */
int
testutil_run(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}
