/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * testutil.c - helpers shared by the Check unit tests (tests/check_*.c):
 * reading a file whole (bodies may hold NUL bytes, so the length is
 * returned), a private temporary folder and its removal without a shell,
 * locating ../shared relative to the source tree (STYLE.md 3.11: tests
 * skip with 77 when it is absent) and the srunner boilerplate of main().
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

#include "buf.h"
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
 * testutil_shared - where the shared reference material is
 *
 * Arguments: sub, a path below ../shared ("fixtures/postfix"); out and
 * outlen receive "$TOP_SRCDIR/../shared/sub" (TOP_SRCDIR unset: ".").
 *
 * Returns whether that is a folder; a test that needs it exits 77
 * (skip) when it is not.
 */
bool
testutil_shared(const char *sub, char *out, size_t outlen)
{
	const char	*top = getenv("TOP_SRCDIR");
	struct stat	 sb;
	int		 n;

	n = snprintf(out, outlen, "%s/../shared/%s", top ? top : ".", sub);
	if (n < 0 || (size_t)n >= outlen)
		return false;
	return stat(out, &sb) == 0 && S_ISDIR(sb.st_mode);
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
