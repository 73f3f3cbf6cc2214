/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testutil.h - helpers shared by the Check unit tests: whole-file reads,
 * a temporary folder per test and its removal, the path of the shared
 * reference material (../shared relative to the source tree) and the
 * standard main() body.  Every helper fails the running test through
 * ck_assert when the system does not cooperate; none of them logs.
 */
#ifndef BD_TESTUTIL_H
#define BD_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <check.h>

/* testutil_read_file - the whole file, NUL-terminated, free() it; NULL if
 * it cannot be opened (*len is then 0)
 */
char *testutil_read_file(const char *path, size_t *len);
/* testutil_read_in - testutil_read_file(dir/name); fails the test if absent */
char *testutil_read_in(const char *dir, const char *name, size_t *len);
/* testutil_tmpdir - create $TMPDIR/prefix.XXXXXX (default /tmp) into out */
void testutil_tmpdir(const char *prefix, char *out, size_t outlen);
/* testutil_rmtree - remove dir and everything below it; missing is fine */
void testutil_rmtree(const char *dir);
/* testutil_shared - "$TOP_SRCDIR/../shared/sub" into out; whether a folder */
bool testutil_shared(const char *sub, char *out, size_t outlen);
/* testutil_run - run the suite (CK_ENV verbosity), free it, number failed */
int testutil_run(Suite *s);

#endif
