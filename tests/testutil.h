/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testutil.h - helpers shared by the Check unit tests: whole-file reads
 * and writes, a temporary folder per test and its removal, a store in
 * it and assertions on what it holds, a config snapshot from text, the
 * path of the shared reference material (../shared relative to the
 * source tree) or of a folder of the source tree itself, and the
 * standard main() body.  Every helper
 * fails the running test through ck_assert when the system does not
 * cooperate; none of them logs.
 */
#ifndef BD_TESTUTIL_H
#define BD_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <check.h>

struct bd_config;
struct store;

/* testutil_read_file - the whole file, NUL-terminated, free() it; NULL if
 * it cannot be opened (*len is then 0)
 */
char *testutil_read_file(const char *path, size_t *len);
/* testutil_read_in - testutil_read_file(dir/name); fails the test if absent */
char *testutil_read_in(const char *dir, const char *name, size_t *len);
/* testutil_write_file - create or replace path with len bytes of p */
void testutil_write_file(const char *path, const void *p, size_t len);
/* testutil_tmpdir - create $TMPDIR/prefix.XXXXXX (default /tmp) into out */
void testutil_tmpdir(const char *prefix, char *out, size_t outlen);
/* testutil_rmtree - remove dir and everything below it; missing is fine */
void testutil_rmtree(const char *dir);
/* testutil_pg - BD_TEST_PG (run the store on that PostgreSQL) or NULL */
const char *testutil_pg(void);
/* testutil_pg_database - a new database there; its conninfo into target */
int testutil_pg_database(char *target, size_t targetlen);
/*
 * testutil_store - open dir/bounced.db (or, with testutil_pg(), a new
 * PostgreSQL database) read-write (2 s busy timeout) into
 * *out; its path into path (pathlen bytes)
 */
void testutil_store(const char *dir, char *path, size_t pathlen,
    struct store **out);
/*
 * testutil_manual - what bouncectl suppress (on) or unsuppress does to addr,
 * dated when; reason NULL: "manual"
 */
void testutil_manual(struct store *st, const char *addr, bool on,
    const char *reason, int64_t when);
/*
 * testutil_assert_state - fail unless addr's state, reason and soft count
 * in st are the wanted ones
 */
void testutil_assert_state(struct store *st, const char *addr,
    const char *want_state, const char *want_reason, unsigned want_count);
/*
 * testutil_count_rows - first column of sql's first row (-1: no row), on a
 * read-only handle of dbpath
 */
long long testutil_count_rows(const char *dbpath, const char *sql);
/* testutil_config - a snapshot parsed from text as "t.conf"; config_free() */
struct bd_config *testutil_config(const char *text);
/* testutil_shared - "$TOP_SRCDIR/../shared/sub" into out; whether a folder */
bool testutil_shared(const char *sub, char *out, size_t outlen);
/* testutil_srcdir - "$TOP_SRCDIR/sub" into out; whether a folder */
bool testutil_srcdir(const char *sub, char *out, size_t outlen);
/* TESTUTIL_LOOP - tcase_add_loop_test() over every entry of the array cases */
#define TESTUTIL_LOOP(tc, fn, cases) \
	tcase_add_loop_test((tc), (fn), 0, sizeof(cases) / sizeof((cases)[0]))
/* testutil_run - run the suite (CK_ENV verbosity), free it, number failed */
int testutil_run(Suite *s);

#endif
